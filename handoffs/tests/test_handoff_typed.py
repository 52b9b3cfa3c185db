"""Hand-off fields as typed as the record: grades 0-4 or "none recorded", ECOG 0-4, a "no"
that says why, and a prefill that never turns "nothing recorded" into 0."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from handoffs.forms import section_views
from handoffs.models import HandoffTemplate
from handoffs.prefill import prefill_values
from handoffs.schema import NONE_RECORDED, fields_of, validate_values
from handoffs.services import handoff_start, published_version
from tests.helpers import TRANSITION, World, infused, login
from toxicity.services import toxicity_record

SCHEMA: dict[str, Any] = {
    "sections": [
        {
            "key": "s",
            "title": "S",
            "fields": [
                {"key": "crs", "label": "Highest CRS", "type": "grade", "required": True},
                {"key": "ecog", "label": "ECOG", "type": "ecog", "required": True},
                {"key": "consult", "label": "Consult done", "type": "yes_no", "required": True},
                {"key": "optional", "label": "Optional yes/no", "type": "yes_no"},
            ],
        }
    ]
}
COMPLETE = {"s.crs": "2", "s.ecog": "1", "s.consult": "yes"}


@pytest.mark.parametrize(
    ("value", "cleaned"), [("0", 0), ("4", 4), (3, 3), ("none recorded", NONE_RECORDED), ("None", NONE_RECORDED)]
)
def test_a_grade_is_0_to_4_or_none_recorded(value: Any, cleaned: Any) -> None:
    values, errors = validate_values(SCHEMA, COMPLETE | {"s.crs": value}, require=True)
    assert errors == {} and values["s.crs"] == cleaned


@pytest.mark.parametrize(("field", "value"), [("s.crs", "7"), ("s.crs", -1), ("s.crs", True), ("s.ecog", "17")])
def test_an_impossible_grade_or_ecog_is_refused_with_a_sentence(field: str, value: Any) -> None:
    _, errors = validate_values(SCHEMA, COMPLETE | {field: value}, require=False)
    assert errors[field].startswith("Choose")


def test_a_required_no_needs_a_comment_and_keeps_it() -> None:
    _, errors = validate_values(SCHEMA, COMPLETE | {"s.consult": "no"}, require=True)
    assert errors == {"s.consult": "Answered no: say why in the comment, and what happens instead."}
    # A draft keeps it without complaint; an optional "no" needs nothing.
    assert validate_values(SCHEMA, COMPLETE | {"s.consult": "no"}, require=False)[1] == {}
    assert validate_values(SCHEMA, COMPLETE | {"s.optional": "no"}, require=True)[1] == {}

    answered = COMPLETE | {"s.consult": "no", "s.consult.comment": "Attending on leave; call booked 3 Feb"}
    values, errors = validate_values(SCHEMA, answered, require=True)
    assert errors == {} and values["s.consult.comment"] == "Attending on leave; call booked 3 Feb"
    views = {f.field.key: f for section in section_views(SCHEMA, values) for f in section.fields}
    assert views["consult"].display == "No: Attending on leave; call booked 3 Feb"
    assert views["crs"].display == "Grade 2" and views["ecog"].display.startswith("1 · Restricted")


@pytest.mark.django_db
def test_the_shipped_templates_ask_for_typed_grades_and_ecog() -> None:
    def types(name: str) -> dict[str, str]:
        version = published_version(HandoffTemplate.objects.get(name=name, owner_site=None))
        # Typed since version 2; the transition template's version 3 keeps them.
        assert version is not None and version.number >= 2
        return {f.path: f.type for f in fields_of(version.schema)}

    transition = types(TRANSITION)
    assert transition["treatment.highest_crs"] == transition["treatment.highest_icans"] == "grade"
    assert types("Referral packet")["disease.performance_status"] == "ecog"
    assert types("Toxicity transfer")["event.highest_crs"] == "grade"


@pytest.mark.django_db
def test_the_prefill_says_none_recorded_and_never_0(world: World) -> None:
    version = published_version(HandoffTemplate.objects.get(name=TRANSITION, owner_site=None))
    assert version is not None
    values = prefill_values(world.shared_patient, version.schema)
    assert values["treatment.highest_crs"] == values["treatment.highest_icans"] == NONE_RECORDED

    now = dt.datetime(2027, 1, 14, 18, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        infused(world, dt.date(2027, 1, 11), dt.date(2027, 1, 11))
        toxicity_record(
            actor=world.center_coordinator,
            patient=world.shared_patient,
            site=world.center,
            kind="crs",
            onset_at=now,
            inputs={"temperature_c": 38.8, "hypotension": True},
        )
    values = prefill_values(world.shared_patient, version.schema)
    assert (values["treatment.highest_crs"], values["treatment.highest_icans"]) == (2, NONE_RECORDED)
    # Version 1 asked for a number: "none recorded" cannot go there, so it stays empty.
    first = HandoffTemplate.objects.get(name=TRANSITION, owner_site=None).versions.get(number=1)
    assert "treatment.highest_icans" not in prefill_values(world.shared_patient, first.schema)


@pytest.mark.django_db
def test_the_edit_page_offers_grades_as_choices_with_none_recorded_chosen(client: Client, world: World) -> None:
    handoff = handoff_start(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        template=HandoffTemplate.objects.get(name=TRANSITION, owner_site=None),
        from_site=world.center,
        to_site=world.practice,
    )
    login(client, world.center_coordinator)
    html = client.get(reverse("handoff-edit", kwargs={"handoff_id": handoff.pk})).content.decode()
    assert '<select name="treatment.highest_crs"' in html
    assert '<option value="none recorded" selected>None recorded</option>' in html
    assert 'name="follow_up.consult_done.comment"' in html

    response = client.post(
        reverse("handoff-edit", kwargs={"handoff_id": handoff.pk}),
        {"action": "save", "treatment.highest_crs": "7"},
    )
    assert "Choose a grade from 0 to 4" in response.content.decode()
