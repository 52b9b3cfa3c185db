"""The live grade never grades a number the browser could not send as typed: out of its range
or unreadable, it says what the posted form says, on that field, and shows no grade."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.helpers import World, login, record_data, record_url
from toxicity.forms import CRSForm, ICANSChildForm, ICANSForm
from toxicity.grading import PLAIN
from toxicity.models import ToxicityEvent

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _html(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _preview(client: Client, world: World, data: dict[str, str]) -> str:
    url = reverse("toxicity-grade-preview", kwargs={"patient_id": world.shared_patient.pk})
    return _html(client.post(url, data, headers={"HX-Request": "true"}))


# --- the live grade: a number as typed, judged by the server -----------------------------------

NUMBERS = [
    (CRSForm, "temperature_c", "decimal"),
    (CRSForm, "vasopressors", "numeric"),
    (CRSForm, "oxygen_flow_l_min", "decimal"),
    (ICANSForm, "ice_score", "numeric"),
    (ICANSChildForm, "capd_score", "numeric"),
]


@pytest.mark.parametrize(("form_class", "name", "mode"), NUMBERS)
def test_every_number_of_an_assessment_is_sent_as_typed(form_class: type, name: str, mode: str) -> None:
    """A number input sends unreadable text as empty and keeps the live grade from going out
    while out of its min/max: each number is a text box with a numeric keyboard instead."""
    html = str(form_class()[name])
    assert 'type="text"' in html and f'inputmode="{mode}"' in html
    assert not re.search(r"\b(min|max|step|required)=", html)


def test_no_other_number_inputs_are_left_in_the_assessment_forms() -> None:
    rendered = "".join(str(field) for form in (CRSForm(), ICANSForm(), ICANSChildForm()) for field in form)
    assert 'type="number"' not in rendered
    assert {(form, name) for form, name, _ in NUMBERS} == {
        (type(form), field.name)
        for form in (CRSForm(), ICANSForm(), ICANSChildForm())
        for field in form
        if "inputmode" in str(field)
    }


@pytest.mark.parametrize(
    ("kind", "name", "typed", "extra"),
    [
        ("crs", "temperature_c", "20", {}),
        ("crs", "temperature_c", "45.5", {}),
        ("crs", "temperature_c", "400", {}),
        ("crs", "temperature_c", "1e", {}),
        ("crs", "temperature_c", "38,5", {}),
        ("crs", "vasopressors", "-1", {"temperature_c": "39"}),
        ("crs", "vasopressors", "one", {"temperature_c": "39"}),
        ("crs", "oxygen_flow_l_min", "-2", {"temperature_c": "39", "oxygen": "facemask"}),
        ("crs", "oxygen_flow_l_min", "lots", {"temperature_c": "39", "oxygen": "facemask"}),
        ("icans", "ice_score", "11", {"ice_method": "score"}),
        ("icans", "ice_score", "-1", {"ice_method": "score"}),
        ("icans", "ice_score", "8.5", {"ice_method": "score"}),
    ],
)
def test_a_number_out_of_range_or_unreadable_stops_the_live_grade_at_its_field(
    client: Client, world: World, kind: str, name: str, typed: str, extra: dict[str, str]
) -> None:
    login(client, world.community_oncologist)
    html = _preview(client, world, {"kind": kind, name: typed, **extra})
    # The sentence the form gives when posted, naming the field, in the preview and beside it.
    assert f'data-field="{name}"><strong>Not graded yet.</strong> {PLAIN[name]}' in html
    assert f'id="id_{name}_live" hx-swap-oob="true">{PLAIN[name]}</p>' in html
    # Never a grade as if nothing had been entered.
    assert "Grade" not in html.replace("Not graded yet", "") and "no fever" not in html


def test_the_live_grade_and_the_posted_form_say_the_same_of_a_temperature_out_of_range(
    client: Client, world: World
) -> None:
    login(client, world.community_oncologist)
    preview = _preview(client, world, {"kind": "crs", "temperature_c": "400"})
    posted = client.post(record_url(world), record_data(world, temperature_c="400", oxygen="room_air"))
    assert posted.status_code == 400
    assert f'id="id_temperature_c_error">{PLAIN["temperature_c"]}</p>' in _html(posted)
    assert PLAIN["temperature_c"] in preview
    assert not ToxicityEvent.objects.exists()


def test_a_temperature_at_the_edge_of_the_range_is_graded(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    assert "Grade 1: fever 45 °C without hypotension or hypoxia" in _preview(
        client, world, {"kind": "crs", "temperature_c": "45"}
    )
    assert "no temperature recorded" in _preview(client, world, {"kind": "crs", "temperature_c": ""})
