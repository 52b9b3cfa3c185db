"""Recording toxicities in the browser: the live grade, the record form and the event actions."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from carecoord.roles import Role
from carecoord.services.memberships import membership_start
from tests.browser import sign_in
from tests.factories import member
from tests.helpers import (
    CRS_GRADE_3_FORM,
    INFUSED_ON,
    World,
    another_record,
    grade_2_event,
    grow_record,
    infused,
    login,
    name_point_persons,
    queries_of_get,
    record_data,
    record_url,
    small_record,
)
from toxicity import event_views
from toxicity.models import Alert, ToxicityAssessment, ToxicityEvent, ToxicityTreatment
from toxicity.services import toxicity_add_treatment, toxicity_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago, day +9
ICE_TEN = {
    "ice_method": "items",
    "orientation": "4",
    "naming": "3",
    "follows_commands": "on",
    "writes_sentence": "on",
    "counts_backwards": "on",
    "consciousness": "alert",
    "seizure": "none",
    "motor": "none",
    "cerebral_edema": "none",
}


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    # Signed in and acting at the same moment: a session started in real time would have
    # expired by NOW. The browser test keeps the real clock (its server runs in a thread).
    if request.node.get_closest_marker("browser"):
        yield
        return
    with time_machine.travel(NOW, tick=False):
        yield


def preview_url(world: World) -> str:
    return reverse("toxicity-grade-preview", kwargs={"patient_id": world.shared_patient.pk})


def event_url(name: str, event: ToxicityEvent) -> str:
    return reverse(name, kwargs={"event_id": event.pk})


def html_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def recorded_event(world: World, kind: str = "crs", **extra: Any) -> ToxicityEvent:
    arguments: dict[str, Any] = {"inputs": {"temperature_c": 38.6, "hypotension": True}} if kind == "crs" else {}
    arguments["onset_at"] = NOW - dt.timedelta(hours=2)
    return toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind=kind,
        **(arguments | extra),
    )


# --- recording ---------------------------------------------------------------------------------


def test_crs_recorded_from_structured_inputs_is_grade_three_and_alerts_every_point_person(
    client: Client, world: World
) -> None:
    infused(world, INFUSED_ON)
    name_point_persons(world)
    login(client, world.community_oncologist)
    response = client.post(record_url(world), record_data(world, **CRS_GRADE_3_FORM), follow=True)
    event = ToxicityEvent.objects.get()
    assert response.redirect_chain == [(event_url("toxicity-event", event), 302)]
    assert (event.grade, event.onset_day, event.reporting_site) == (3, 9, world.practice)
    assert event.onset_at == dt.datetime(2027, 1, 20, 14, 0, tzinfo=dt.UTC)
    assert "one vasopressor" in event.grade_reason
    assert event.assessments.get().inputs["oxygen_flow_l_min"] == 4.0
    assert Alert.objects.filter(event=event, reason=Alert.Reason.RECORDED).count() == 4
    # Who was alerted, site by site; the recorder's own site counts as informed.
    text = html_of(response)
    assert "Recorded. Alerted:" in text
    assert "Riverbend Oncology: Olive Oncologist (primary point person), Rita Riverbend (backup point person)." in text
    assert "Lakeside CAR-T Center: Nina Nurse (primary point person), Cora Center (backup point person)." in text


def test_the_record_page_asks_the_site_only_of_a_member_of_two_care_team_sites(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    html = html_of(client.get(record_url(world)))
    assert f'<input type="hidden" name="site" value="{world.practice.pk}"' in html
    both = member(world.practice, Role.PHYSICIAN, email="both@riverbend.test")
    membership_start(user=both, site=world.center, role=Role.PHYSICIAN, starts_on=dt.date(2020, 1, 1))
    login(client, both)
    html = html_of(client.get(record_url(world)))
    assert '<select name="site"' in html
    assert "Lakeside CAR-T Center" in html and "Riverbend Oncology" in html


def test_infection_is_recorded_with_its_ctcae_grade_site_and_organism(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    data = {
        "site": str(world.center.pk),
        "kind": "infection",
        "onset_at": "2027-01-20T08:00",
        "grade": "3",
        "infection_site": "Lung",
        "organism": "Aspergillus fumigatus",
        # A CRS fieldset filled in before the kind changed is not read.
        "oxygen": "nasal_cannula",
    }
    response = client.post(record_url(world), data)
    assert response.status_code == 302
    event = ToxicityEvent.objects.get()
    assert (event.kind, event.grade, event.grading_system) == ("infection", 3, "CTCAE")
    assert (event.infection_site, event.organism) == ("Lung", "Aspergillus fumigatus")
    assert event.assessments.get().inputs == {}


def test_a_missing_input_is_named_on_its_field_and_nothing_is_saved(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = record_data(world, temperature_c="39.0", oxygen="nasal_cannula", note="Rigors overnight")
    response = client.post(record_url(world), data)
    assert response.status_code == 400
    html = html_of(response)
    flow_error = r'<p class="field__error" id="id_oxygen_flow_l_min_error">Enter the flow for a nasal cannula'
    assert re.search(flow_error, html)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_oxygen_flow_l_min"', html)
    assert 'value="39.0"' in html and "Rigors overnight" in html  # input kept
    assert not ToxicityEvent.objects.exists()
    assert not Alert.objects.exists()


def test_a_missing_kind_and_an_onset_in_the_future_are_named_on_their_fields(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    no_kind = client.post(record_url(world), record_data(world, kind=""))
    future = client.post(record_url(world), record_data(world, onset_at="2027-01-21T08:00", **CRS_GRADE_3_FORM))
    assert no_kind.status_code == 400
    assert 'id="id_kind_error">Choose the kind of toxicity.' in html_of(no_kind)
    assert future.status_code == 400
    assert re.search(r'id="id_onset_at_error">[^<]*cannot be in the future', html_of(future))
    assert not ToxicityEvent.objects.exists()


def test_an_assessment_below_the_criteria_is_refused_with_the_reason(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.post(record_url(world), record_data(world, temperature_c="37.1"))
    assert response.status_code == 400
    assert 'id="id_kind_error">The ASTCT criteria are not met: Grade 0: no fever' in html_of(response)
    assert not ToxicityEvent.objects.exists()


# --- a second active event of the same kind --------------------------------------------------

# 21:00 the day before in Chicago, where the practice recorded it: the list shows the practice's date.
EVENING_BEFORE = dt.datetime(2027, 1, 20, 3, 0, tzinfo=dt.UTC)


def test_the_record_page_lists_the_active_events_with_a_link_to_reassess_each(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    assert "Active for this patient" not in html_of(client.get(record_url(world)))
    crs = recorded_event(world, onset_at=EVENING_BEFORE)
    resolved = recorded_event(world, kind="cardiac", ctcae_grade=2)
    resolved.status = ToxicityEvent.Status.RESOLVED
    resolved.save()
    html = html_of(client.get(record_url(world)))
    assert "Active for this patient" in html
    assert (
        "<strong>Cytokine release syndrome (CRS)</strong>, grade 2 since 19 Jan 2027, recorded by Riverbend Oncology"
        in html
    )
    assert f'href="{event_url("toxicity-event", crs)}#assess-form">Reassess' in html
    assert "Cardiac event" not in html.split("Active for this patient", 1)[1].split("</section>", 1)[0]


def test_recording_a_kind_already_active_asks_first_and_records_nothing(client: Client, world: World) -> None:
    crs = recorded_event(world, onset_at=EVENING_BEFORE)
    login(client, world.community_oncologist)
    response = client.post(record_url(world), record_data(world, **CRS_GRADE_3_FORM))
    assert response.status_code == 400
    html = html_of(response)
    assert re.search(
        r'id="id_new_episode_error">Cytokine release syndrome \(CRS\) grade 2, active since 19 Jan 2027 '
        r"\(recorded by Riverbend Oncology\), is probably this episode: reassess it instead",
        html,
    )
    assert f'href="{event_url("toxicity-event", crs)}#assess-form">Reassess the active' in html
    assert 'type="checkbox" name="new_episode"' in html
    # The grade of what was posted stands beside it, computed with the page: not the empty hint.
    preview = html.split('id="grade-preview"', 1)[1].split("</div>", 1)[0]
    assert "Grade 3 (ASTCT)" in preview
    assert "appear here as you enter" not in preview
    assert ToxicityEvent.objects.count() == 1
    # Another kind is not asked about.
    icans = client.post(record_url(world), record_data(world, kind="icans", ice_score="5"))
    assert icans.status_code == 302
    assert ToxicityEvent.objects.count() == 2


def test_a_new_episode_confirmed_is_recorded_as_before(client: Client, world: World) -> None:
    recorded_event(world, onset_at=EVENING_BEFORE)
    login(client, world.community_oncologist)
    response = client.post(record_url(world), record_data(world, new_episode="on", **CRS_GRADE_3_FORM))
    assert response.status_code == 302
    assert ToxicityEvent.objects.filter(kind="crs", status=ToxicityEvent.Status.ACTIVE).count() == 2


def test_outsider_gets_404_for_the_record_page_of_a_patient_with_an_active_event(client: Client, world: World) -> None:
    recorded_event(world)
    login(client, world.outsider)
    assert client.get(record_url(world)).status_code == 404
    data = record_data(world, site=str(world.unrelated_practice.pk), new_episode="on", **CRS_GRADE_3_FORM)
    assert client.post(record_url(world), data).status_code == 404
    assert ToxicityEvent.objects.count() == 1


def test_record_page_queries_do_not_grow_with_the_active_events(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    client.get(record_url(world))  # warm the caches
    none = queries_of_get(client, record_url(world))
    recorded_event(world)
    one = queries_of_get(client, record_url(world))
    for kind in ("cardiac", "infection", "cytopenia"):
        recorded_event(world, kind=kind, ctcae_grade=2)
    assert html_of(client.get(record_url(world))).count(">Reassess<") == 4
    assert none == one == queries_of_get(client, record_url(world))


# --- the live grade ----------------------------------------------------------------------------


def test_grade_preview_for_crs_inputs_shows_grade_three_and_its_reason(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.post(preview_url(world), {"kind": "crs", **CRS_GRADE_3_FORM}, headers={"HX-Request": "true"})
    html = html_of(response)
    assert response.status_code == 200
    assert "Grade 3 (ASTCT)" in html
    assert "Grade 3: one vasopressor (hypotension); low-flow nasal cannula 4 L/min would alone be grade 2" in html
    assert not ToxicityEvent.objects.exists()


def test_grade_preview_for_nasal_cannula_without_flow_names_the_flow_field(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = {"kind": "crs", "temperature_c": "39.2", "oxygen": "nasal_cannula"}
    html = html_of(client.post(preview_url(world), data, headers={"HX-Request": "true"}))
    assert 'data-field="oxygen_flow_l_min"' in html
    # A sentence for the person at the form, in the preview and next to the flow field.
    assert "Enter the flow for a nasal cannula in L/min" in html
    assert 'id="id_oxygen_flow_l_min_live" hx-swap-oob="true">Enter the flow for a nasal cannula' in html
    assert "Grade" not in html.replace("Not graded yet", "")


def test_grade_preview_with_htmx_returns_only_the_partial(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = {"kind": "crs", **CRS_GRADE_3_FORM}
    partial = html_of(client.post(preview_url(world), data, headers={"HX-Request": "true"}))
    assert "<html" not in partial and "<form" not in partial and "Grade 3 (ASTCT)" in partial
    # Without JavaScript ("Show the grade") the whole form comes back, as entered, with the grade.
    page = client.post(preview_url(world), data)
    html = html_of(page)
    assert page.status_code == 200 and page["Vary"].count("HX-Request") == 1
    assert "<html" in html and 'value="39.2"' in html and "Grade 3 (ASTCT)" in html
    assert not ToxicityEvent.objects.exists()


def test_icans_preview_from_the_five_ice_items_scores_ten_and_is_grade_zero(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = {"kind": "icans", **ICE_TEN}
    html = html_of(client.post(preview_url(world), data, headers={"HX-Request": "true"}))
    assert "Grade 0 (ASTCT)</span>: the criteria are not met" in html
    assert "ICE score 10/10" in html
    lower = html_of(client.post(preview_url(world), data | {"orientation": "1", "naming": "1"}, HTTP_HX_REQUEST="true"))
    assert "Grade 2 (ASTCT)" in lower and "ICE score 5/10" in lower


def test_icans_preview_from_items_asks_for_a_missing_item(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = {"kind": "icans", **ICE_TEN, "orientation": ""}
    html = html_of(client.post(preview_url(world), data, headers={"HX-Request": "true"}))
    assert 'data-field="orientation"' in html
    assert "Choose how many of year, month, city and hospital were right: 0 to 4." in html


def test_an_icans_event_is_recorded_from_an_ice_score_entered_directly(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = record_data(world, kind="icans", ice_method="score", ice_score="5", consciousness="alert", seizure="none")
    data |= {"motor": "none", "cerebral_edema": "none"}
    assert client.post(record_url(world), data).status_code == 302
    event = ToxicityEvent.objects.get()
    assert (event.kind, event.grade) == ("icans", 2)
    assert event.assessments.get().inputs["ice_score"] == 5


def test_an_icans_event_scored_item_by_item_keeps_and_shows_the_items(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    data = record_data(world, kind="icans", **ICE_TEN) | {"orientation": "2", "counts_backwards": ""}
    response = client.post(record_url(world), data)
    assert response.status_code == 302
    event = ToxicityEvent.objects.get()
    assert (event.kind, event.grade) == ("icans", 1)  # ICE 2 + 3 + 1 + 1 + 0 = 7
    assert event.assessments.get().inputs["ice_items"] == {
        "orientation": 2,
        "naming": 3,
        "follows_commands": True,
        "writes_sentence": True,
        "counts_backwards": False,
    }
    page = html_of(client.get(response["Location"]))
    assert "ICE items: orientation 2/4, naming 3/3, follows commands yes, writes a sentence yes" in page
    # Reassessing starts from the items, not from a bare score.
    assert 'name="ice_method" value="items" id="id_assess_ice_method_1" checked' in page
    assert '<option value="2" selected>2 of 4</option>' in page


# --- the event page actions --------------------------------------------------------------------


def test_reassess_raising_the_grade_alerts_grade_rose(client: Client, world: World) -> None:
    name_point_persons(world)
    event = recorded_event(world)
    assert event.grade == 2
    data = {"site": str(world.center.pk), "kind": "crs", "assessed_at": "2027-01-20T10:00", **CRS_GRADE_3_FORM}
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        # Two hours on, the center's coordinator signs in (an older session would have timed out).
        login(client, world.center_coordinator)
        response = client.post(event_url("toxicity-assess", event), data, follow=True)
    event.refresh_from_db()
    assert (event.grade, event.highest_grade) == (3, 3)
    assert Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE).count() == 4
    assessment = event.assessments.latest("assessed_at")
    assert (assessment.site, assessment.assessed_at) == (world.center, dt.datetime(2027, 1, 20, 16, 0, tzinfo=dt.UTC))
    assert "Reassessed: grade 3." in html_of(response)


def test_the_reassess_form_starts_from_the_latest_assessment(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.community_oncologist)
    html = html_of(client.get(event_url("toxicity-event", event)))
    assert re.search(r'<input type="text" name="temperature_c" value="38.6"[^>]*id="id_assess_temperature_c"', html)
    assert re.search(r'<input type="checkbox" name="hypotension"[^>]*id="id_assess_hypotension" checked', html)
    assert f'hx-post="{preview_url(world)}"' in html


def test_a_reassessment_with_a_bad_input_is_named_on_its_field(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.community_oncologist)
    data = {"site": str(world.practice.pk), "assessed_at": "2027-01-20T08:30", "oxygen": "room_air"}
    data |= {"temperature_c": "51"}
    response = client.post(event_url("toxicity-assess", event), data)
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="id_assess_temperature_c_error">Enter the highest temperature between 25 and 45 °C' in html
    assert re.search(r'<details class="tox-action" id="assess-form" open>', html)
    # The summary at the top of the form names the field and links to it.
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1" autofocus data-error-summary>', html)
    assert '<a href="#id_assess_temperature_c">' in html
    assert "Not graded yet.</strong> Enter the highest temperature between 25 and 45 °C" in _assess_preview(html)
    assert event.assessments.count() == 1


def _assess_preview(html: str) -> str:
    return html.split('id="assess-grade-preview"', 1)[1].split("</div>", 1)[0]


def test_a_refused_reassessment_shows_the_grade_of_its_inputs_with_the_page(client: Client, world: World) -> None:
    """Refused (an hour ahead): the grade of what was posted stands beside it, with the fever the
    tocilizumab masks, rather than the hint to start entering."""
    event = recorded_event(world)
    by, given = world.community_oncologist, NOW - dt.timedelta(hours=1)
    toxicity_add_treatment(actor=by, event=event, site=world.practice, kind="tocilizumab", given_at=given)
    login(client, world.community_oncologist)
    data = {"site": str(world.practice.pk), "assessed_at": "2027-01-20T10:00", "oxygen": "room_air"}
    data |= {"temperature_c": "37.0", "vasopressors": "1"}
    response = client.post(event_url("toxicity-assess", event), data)
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="id_assess_assessed_at_error"' in html
    assert "Grade 3 (ASTCT)" in _assess_preview(html)
    assert "tocilizumab given" in _assess_preview(html)
    assert event.assessments.count() == 1


def test_treatment_and_resolution_appear_on_the_event_page(client: Client, world: World) -> None:
    name_point_persons(world)
    event = recorded_event(world)
    login(client, world.community_oncologist)
    treatment = {
        "site": str(world.practice.pk),
        "kind": "tocilizumab",
        "given_at": "2027-01-20T09:30",
        "detail": "8 mg/kg IV",
    }
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        login(client, world.community_oncologist)  # a session idle for an hour has ended
        response = client.post(event_url("toxicity-treatment", event), treatment, follow=True)
    html = html_of(response)
    assert "Tocilizumab recorded." in html
    assert "<strong>Tocilizumab</strong>: 8 mg/kg IV · 20 Jan 2027, 09:30 CST" in html
    assert ToxicityTreatment.objects.get().given_at == dt.datetime(2027, 1, 20, 15, 30, tzinfo=dt.UTC)

    resolve = {"site": str(world.practice.pk), "resolved_on": "2027-01-23", "outcome": "recovered"}
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        login(client, world.community_oncologist)
        response = client.post(event_url("toxicity-resolve", event), resolve, follow=True)
    html = html_of(response)
    assert "Resolved. The point persons are told." in html
    assert "Resolved on 23 Jan 2027 (recovered)" in html
    # A resolved event is no longer reassessed or resolved; a late treatment may still be added.
    assert 'id="assess-form"' not in html and 'id="resolve-form"' not in html and 'id="treatment-form"' in html
    assert Alert.objects.filter(event=event, reason=Alert.Reason.RESOLVED).count() == 4


def test_resolving_before_the_onset_is_named_on_the_date(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.community_oncologist)
    data = {"site": str(world.practice.pk), "resolved_on": "2027-01-19", "outcome": "recovered"}
    response = client.post(event_url("toxicity-resolve", event), data)
    assert response.status_code == 400
    assert 'id="id_resolve_resolved_on_error">The event cannot resolve before its onset.' in html_of(response)
    event.refresh_from_db()
    assert event.status == ToxicityEvent.Status.ACTIVE


def test_a_treatment_without_its_kind_is_named_on_the_field(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.community_oncologist)
    data = {"site": str(world.practice.pk), "kind": "", "given_at": "2027-01-20T09:30"}
    response = client.post(event_url("toxicity-treatment", event), data)
    assert response.status_code == 400
    assert 'id="id_treatment_kind_error">Choose the treatment.' in html_of(response)
    assert not ToxicityTreatment.objects.exists()


def test_event_actions_answer_405_to_get(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.community_oncologist)
    for name in ("toxicity-assess", "toxicity-treatment", "toxicity-resolve"):
        assert client.get(event_url(name, event)).status_code == 405
    assert client.get(preview_url(world)).status_code == 405


# --- who may ----------------------------------------------------------------------------------


def test_outsider_gets_404_for_record_page_preview_and_every_event_action(client: Client, world: World) -> None:
    event = recorded_event(world)
    login(client, world.outsider)
    urls = [record_url(world), preview_url(world)]
    urls += [event_url(name, event) for name in ("toxicity-assess", "toxicity-treatment", "toxicity-resolve")]
    data = {"site": str(world.unrelated_practice.pk), "kind": "crs", "resolved_on": "2027-01-21", **CRS_GRADE_3_FORM}
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, data).status_code == 404, url
    assert ToxicityEvent.objects.count() == 1
    assert ToxicityAssessment.objects.count() == 1


def test_read_only_member_gets_403_on_record_and_sees_no_forms(client: Client, world: World) -> None:
    event = recorded_event(world)
    reader = member(world.practice, Role.READ_ONLY, email="reader@riverbend.test")
    login(client, reader)
    assert client.get(record_url(world)).status_code == 403
    assert client.post(record_url(world), record_data(world, **CRS_GRADE_3_FORM)).status_code == 403
    assert client.post(preview_url(world), {"kind": "crs"}).status_code == 403
    resolve = {"site": str(world.practice.pk), "resolved_on": "2027-01-21", "outcome": "recovered"}
    assert client.post(event_url("toxicity-resolve", event), resolve).status_code == 403
    html = html_of(client.get(event_url("toxicity-event", event)))
    assert "Update this event" not in html and "<form" not in html.split("</header>", 1)[1]
    timeline = html_of(client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})))
    assert "Record a toxicity" not in timeline
    assert ToxicityEvent.objects.count() == 1


def test_the_timeline_links_recorders_to_the_record_page(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    html = html_of(client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})))
    assert f'href="{record_url(world)}">Record a toxicity</a>' in html


# --- query counts -----------------------------------------------------------------------------


def _event_page_queries(client: Client, event: ToxicityEvent, assessments: int) -> int:
    ToxicityAssessment.objects.filter(event=event).delete()
    ToxicityAssessment.objects.bulk_create(
        ToxicityAssessment(
            event=event,
            assessed_at=NOW + dt.timedelta(hours=n),
            assessed_by=event.reported_by,
            site=event.reporting_site,
            grade=2,
            reason="Grade 2: hypotension not requiring vasopressors (hypotension)",
            inputs={"temperature_c": 38.6, "hypotension": True},
        )
        for n in range(assessments)
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(event_url("toxicity-event", event))
    assert response.status_code == 200
    assert html_of(response).count("<strong>Grade 2</strong>") == assessments
    return len(queries)


def test_alert_list_queries_do_not_grow_with_alerts_or_the_records(
    client: Client, world: World, tmp_media: object
) -> None:
    record = small_record(world)
    login(client, world.community_oncologist)
    url = reverse("alert-list")
    client.get(url)  # warm the caches (content types, site groups)
    before = queries_of_get(client, url)
    alerts = Alert.objects.filter(recipient=world.community_oncologist).count()
    # More toxicities and alerts (to a third care-team site too), and more of everything else.
    grow_record(record)
    another_record(world)
    assert Alert.objects.filter(recipient=world.community_oncologist).count() > 2 * alerts
    assert queries_of_get(client, url) == before


def test_event_page_queries_do_not_grow_with_the_number_of_assessments(client: Client, world: World) -> None:
    name_point_persons(world)
    event = recorded_event(world)
    login(client, world.community_oncologist)
    assert _event_page_queries(client, event, 5) == _event_page_queries(client, event, 30)


# --- in a real browser ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_grade_appears_as_the_crs_assessment_is_entered(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + record_url(world))
    temperature = page.get_by_label("Highest temperature (°C)")
    expect(temperature).to_be_hidden()  # no kind chosen yet
    page.get_by_label("Kind of toxicity").select_option("crs")
    expect(temperature).to_be_visible()
    expect(page.get_by_label("ICE score (0-10)")).to_be_hidden()
    expect(page.get_by_label("Oxygen flow (L/min)")).to_be_hidden()  # room air
    temperature.fill("39.2")
    page.get_by_label("Number of vasopressors other than vasopressin").fill("1")
    page.get_by_label("Oxygen support").select_option("nasal_cannula")
    preview = page.locator("#grade-preview")
    expect(preview).to_contain_text("Enter the flow for a nasal cannula")
    page.get_by_label("Oxygen flow (L/min)").fill("4")
    expect(preview).to_contain_text("Grade 3 (ASTCT)")
    expect(preview).to_contain_text("one vasopressor (hypotension)")
    assert not ToxicityEvent.objects.exists()
    page.get_by_role("button", name="Record and alert").click()
    expect(page.locator(".flash__item")).to_contain_text("Recorded.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cytokine release syndrome (CRS): grade 3")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recording_crs_while_one_is_active_warns_then_records_once_confirmed(
    live_server: object, world: World, browser: Browser
) -> None:
    active = grade_2_event(world)  # recorded at the center
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + record_url(world))
    listed = page.locator("section", has=page.get_by_role("heading", name="Active for this patient"))
    expect(listed).to_contain_text("Cytokine release syndrome (CRS), grade 2 since")
    expect(listed).to_contain_text("recorded by Lakeside CAR-T Center")
    page.get_by_label("Kind of toxicity").select_option("crs")
    page.get_by_label("Highest temperature (°C)").fill("39.2")
    expect(page.locator("#grade-preview")).to_contain_text("Grade 1 (ASTCT)")  # the live grade still works
    page.get_by_role("button", name="Record and alert").click()
    error = page.locator("#id_new_episode_error")
    expect(error).to_contain_text("grade 2, active since")
    expect(error).to_contain_text("reassess it instead")
    reassess = page.get_by_role("link", name="Reassess the active Cytokine release syndrome (CRS) instead")
    expect(reassess).to_have_attribute("href", event_url("toxicity-event", active) + "#assess-form")
    expect(page.locator("#grade-preview")).to_contain_text("Grade 1 (ASTCT)")  # with the page, no change needed
    assert ToxicityEvent.objects.count() == 1
    page.get_by_label("This is a new episode").check()
    page.get_by_role("button", name="Record and alert").click()
    expect(page.locator(".flash__item")).to_contain_text("Recorded.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cytokine release syndrome (CRS): grade 1")
    assert ToxicityEvent.objects.filter(kind="crs", status=ToxicityEvent.Status.ACTIVE).count() == 2
    # "Reassess" lands on the event's reassessment, opened (a folded section otherwise).
    page.goto(base_url + record_url(world))
    page.locator(f'a[href="{event_url("toxicity-event", active)}#assess-form"]').first.click()
    expect(page.locator("#assess-form")).to_have_attribute("open", "")


def _console_errors(page: Page) -> list[str]:
    """What the page logs as an error from now on: a list that fills while the test goes on."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


@pytest.fixture
def slow_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grade preview that takes 0.4 s, as on a busy server: the next change comes while one is
    still on its way."""
    graded = event_views.preview_of

    def slowly(*args: Any, **kwargs: Any) -> event_views.Preview:
        time.sleep(0.4)
        return graded(*args, **kwargs)

    monkeypatch.setattr(event_views, "preview_of", slowly)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_live_grade_follows_quick_changes_without_console_errors(
    live_server: object, world: World, browser: Browser, slow_preview: None
) -> None:
    """A change while a preview is on its way waits for it rather than aborting it (which htmx
    logs as an error); the last change's grade is the one shown."""
    event = grade_2_event(world)
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    errors = _console_errors(page)
    page.goto(base_url + record_url(world))
    page.get_by_label("Kind of toxicity").select_option("crs")
    temperature = page.get_by_label("Highest temperature (°C)")
    temperature.press_sequentially("39.2", delay=120)
    page.wait_for_timeout(350)  # the typing's preview is on its way when the field is left
    temperature.press("Tab")
    vasopressors = page.get_by_label("Number of vasopressors other than vasopressin")
    vasopressors.fill("1")
    page.wait_for_timeout(350)
    vasopressors.press("Tab")
    page.get_by_label("Oxygen support").select_option("nasal_cannula")
    page.get_by_label("Oxygen support").select_option("room_air")
    expect(page.locator("#grade-preview")).to_contain_text("Grade 3 (ASTCT)")
    page.wait_for_timeout(1000)  # nothing still on its way, nothing left to log
    expect(page.locator("#grade-preview")).to_contain_text("Grade 3 (ASTCT)")

    page.goto(base_url + event_url("toxicity-event", event))
    page.get_by_text("Reassess").click()
    assess = page.locator("#assess-form")
    assess.get_by_label("Oxygen support").select_option("nasal_cannula")
    flow = assess.get_by_label("Oxygen flow (L/min)")
    flow.press_sequentially("8", delay=120)
    page.wait_for_timeout(350)
    flow.press("Tab")
    assess.get_by_label("Number of vasopressors other than vasopressin").fill("2")
    expect(assess.locator("#assess-grade-preview")).to_contain_text("Grade 4 (ASTCT)")
    page.wait_for_timeout(1000)
    expect(assess.locator("#assess-grade-preview")).to_contain_text("Grade 4 (ASTCT)")
    assert errors == []
    page.close()
