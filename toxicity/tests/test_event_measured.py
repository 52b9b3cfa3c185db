"""The toxicity event page: what each assessment measured (in the viewer's site's time zone)
and why the grade, each reason said once; and the whole walk in a browser, from a temperature
out of range in the live grade to the event page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.browser import sign_in
from tests.helpers import World, login, record_url
from toxicity.grading import PLAIN
from toxicity.measured import measured, reason_statements
from toxicity.models import ToxicityAssessment, ToxicityEvent
from toxicity.services import toxicity_add_treatment, toxicity_assess, toxicity_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("browser"):
        yield  # the live server runs in a thread on the real clock
        return
    with time_machine.travel(NOW, tick=False):
        yield


def _html(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _event_page(client: Client, event: ToxicityEvent) -> str:
    return _html(client.get(reverse("toxicity-event", kwargs={"event_id": event.pk})))


# --- what each assessment measured ------------------------------------------------------------


def test_measured_inputs_in_words_with_the_defaults_a_client_left_out() -> None:
    assert measured({"temperature_c": 38.9, "hypotension": True}) == [
        ("Temperature", "38.9 °C"),
        ("Hypotension", "yes"),
        ("Vasopressors", "none"),
        ("Oxygen", "room air"),
    ]
    crs = {"temperature_c": None, "vasopressors": 2, "vasopressin": True, "fever_masked": True}
    assert measured(crs | {"oxygen": "nasal_cannula", "oxygen_flow_l_min": 4.0}) == [
        ("Temperature", "not measured"),
        ("Hypotension", "no"),
        ("Vasopressors", "2, plus vasopressin"),
        ("Oxygen", "nasal cannula 4 L/min"),
        ("Antipyretic or anti-cytokine therapy", "given"),
    ]
    icans = {"ice_score": None, "consciousness": "unarousable", "seizure": "prolonged", "motor": "deep_focal_weakness"}
    assert measured(icans | {"cerebral_edema": "papilledema"}) == [
        ("ICE score", "not assessed"),
        ("Consciousness", "unarousable (stupor or coma)"),
        ("Seizures", "life-threatening prolonged seizure (> 5 min)"),
        ("Motor findings", "deep focal motor weakness"),
        ("Raised ICP or cerebral edema", "papilledema"),
    ]
    assert ("Antipyretic or anti-cytokine therapy", "given") not in measured(crs, masked_by_treatment=True)
    assert measured({"capd_score": 9})[0] == ("CAPD score", "9/32")
    assert measured({}) == []  # a CTCAE grade has no inputs


@pytest.mark.parametrize(
    ("reason", "statements"),
    [
        ("Grade 2: hypotension not requiring vasopressors (hypotension)", ["Hypotension not requiring vasopressors"]),
        ("Grade 1: ICE score 8/10 (ICE)", ["ICE score 8/10"]),
        ("Grade 4: unable to perform the CAPD (CAPD)", ["Unable to perform the CAPD"]),
        (
            "Grade 3: one vasopressor (hypotension); low-flow nasal cannula 4 L/min would alone be grade 2; "
            "fever not required after antipyretic or anti-cytokine therapy (tocilizumab given 20 Jan 2027, 07:00)",
            [
                "One vasopressor (hypotension)",
                "Low-flow nasal cannula 4 L/min would alone be grade 2",
                "Fever not required after antipyretic or anti-cytokine therapy",
            ],
        ),
        ("Grade 1: x; x; x", ["X"]),
        ("CTCAE grade 3, as assessed.", ["CTCAE grade 3, as assessed"]),
        ("", []),
    ],
)
def test_a_reason_is_said_statement_by_statement_each_once(reason: str, statements: list[str]) -> None:
    assert reason_statements(reason) == statements


def _recorded(world: World, kind: str, inputs: dict[str, Any], *, hours_ago: int) -> ToxicityEvent:
    """Recorded at the practice (Chicago) by its oncologist."""
    return toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind=kind,
        onset_at=NOW - dt.timedelta(hours=hours_ago),
        inputs=inputs,
    )


@pytest.fixture
def crs_course(world: World) -> ToxicityEvent:
    """A CRS recorded at the practice (Chicago), tocilizumab given at the center (New York), then
    reassessed twice alike on one vasopressor and a nasal cannula."""
    world.center.time_zone = "America/New_York"
    world.center.save()
    event = _recorded(world, "crs", {"temperature_c": 38.9, "hypotension": True}, hours_ago=6)
    toxicity_add_treatment(
        actor=world.center_coordinator,
        event=event,
        site=world.center,
        kind="tocilizumab",
        given_at=dt.datetime(2027, 1, 20, 12, 5, tzinfo=dt.UTC),
        detail="8 mg/kg IV",
    )
    inputs = {"temperature_c": 37.2, "vasopressors": 1, "oxygen": "nasal_cannula", "oxygen_flow_l_min": 4.0}
    for minutes in (30, 10):
        toxicity_assess(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            assessed_at=NOW - dt.timedelta(minutes=minutes),
            inputs=inputs,
        )
    return event


def test_the_event_page_shows_what_each_assessment_measured_in_the_viewers_zone(
    client: Client, world: World, crs_course: ToxicityEvent
) -> None:
    login(client, world.community_oncologist)  # at the practice, in Chicago
    html = _event_page(client, crs_course)
    course = html.split('id="course-heading"', 1)[1].split("</section>", 1)[0]
    first, second, third = course.split('<li class="tox-course__item">')[1:]
    assert "<dt>Temperature</dt><dd>38.9 °C</dd>" in first
    assert "<dt>Hypotension</dt><dd>yes</dd>" in first
    assert "<dt>Vasopressors</dt><dd>none</dd>" in first and "<dt>Oxygen</dt><dd>room air</dd>" in first
    assert "Fever not required" not in first
    for later in (second, third):
        assert "<dt>Temperature</dt><dd>37.2 °C</dd>" in later
        assert "<dt>Vasopressors</dt><dd>1</dd>" in later
        assert "<dt>Oxygen</dt><dd>nasal cannula 4 L/min</dd>" in later
        # The treatment that masks fever is named with its time, not as though the box was ticked.
        assert "Antipyretic or anti-cytokine therapy" not in later
        # Given at 07:05 in New York: 06:05 where the viewer's site is.
        assert "<dt>Fever not required</dt><dd>tocilizumab given 20 Jan, 06:05 CST</dd>" in later
    assert "20 Jan 2027, 08:50 CST" in third  # the assessment's own time, in the viewer's zone too


def test_an_icans_assessment_shows_its_five_domains(client: Client, world: World) -> None:
    inputs = {"ice_score": 5, "consciousness": "awakens_to_voice", "seizure": "rapidly_resolving"}
    event = _recorded(world, "icans", inputs, hours_ago=1)
    login(client, world.center_coordinator)
    html = _event_page(client, event)
    for label, value in [
        ("ICE score", "5/10"),
        ("Consciousness", "depressed consciousness, awakens to voice"),
        ("Seizures", "clinical seizure that resolved rapidly"),
        ("Motor findings", "none"),
        ("Raised ICP or cerebral edema", "none"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in html


def test_why_this_grade_says_each_reason_once(client: Client, world: World, crs_course: ToxicityEvent) -> None:
    login(client, world.community_oncologist)
    html = _event_page(client, crs_course)
    why = html.split("<dt>Why this grade</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert why == (
        '<ul class="tox-reasons"><li>One vasopressor (hypotension)</li>'
        "<li>Low-flow nasal cannula 4 L/min would alone be grade 2</li>"
        "<li>Fever not required after antipyretic or anti-cytokine therapy</li></ul>"
    )
    # The course says a reason once too: the reassessment graded alike says so.
    course = html.split('id="course-heading"', 1)[1].split("</section>", 1)[0]
    assert course.count("Low-flow nasal cannula 4 L/min would alone be grade 2") == 1
    assert course.count("Same reason as the assessment before.") == 1
    assert "Hypotension not requiring vasopressors." in course
    assert "(hypotension) (hypotension)" not in html and "vasopressors (hypotension)" not in html
    assert "Grade 3:" not in html  # the grade is said beside the reason, not again inside it


def test_an_outsider_sees_nothing_of_the_event_or_its_measurements(
    client: Client, world: World, crs_course: ToxicityEvent
) -> None:
    login(client, world.outsider)
    response = client.get(reverse("toxicity-event", kwargs={"event_id": crs_course.pk}))
    assert response.status_code == 404
    html = _html(response)
    assert "37.2 °C" not in html and world.shared_patient.family_name not in html
    assert ToxicityAssessment.objects.filter(event=crs_course).count() == 3


# --- in a real browser ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_out_of_range_temperature_is_named_live_then_a_valid_one_is_recorded_and_shown(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + record_url(world))
    page.get_by_label("Kind of toxicity").select_option("crs")
    preview = page.locator("#grade-preview")
    expect(preview).to_contain_text("Grade 0 (ASTCT)")  # nothing measured yet: no fever
    temperature = page.get_by_label("Highest temperature (°C)")
    for typed in ("20", "400", "1e"):
        temperature.fill("")
        temperature.press_sequentially(typed, delay=40)
        expect(preview).to_contain_text(f"Not graded yet. {PLAIN['temperature_c']}")
        expect(page.locator("#id_temperature_c_live")).to_have_text(PLAIN["temperature_c"])
        expect(preview).not_to_contain_text("no fever")
    temperature.fill("39.4")
    page.get_by_label("Number of vasopressors other than vasopressin").fill("1")
    expect(preview).to_contain_text("Grade 3 (ASTCT)")
    expect(page.locator("#id_temperature_c_live")).to_have_text("")
    page.get_by_role("button", name="Record and alert").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cytokine release syndrome (CRS): grade 3")
    course = page.locator(".tox-course__item")
    expect(course).to_have_count(1)
    expect(course.locator("dt:text-is('Temperature') + dd")).to_have_text("39.4 °C")
    expect(course.locator("dt:text-is('Vasopressors') + dd")).to_have_text("1")
    expect(page.locator(".facts")).to_contain_text("One vasopressor (hypotension)")
    page.close()
