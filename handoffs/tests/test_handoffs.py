"""Hand-offs through the services: prefilled, validated against their version, sent,
acknowledged by the receiving point person, superseded, and reminded once."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import F

from carecoord.models import OutgoingEmail, Site, TimelineEntry
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplate
from handoffs.services import (
    handoff_acknowledge,
    handoff_ask,
    handoff_save,
    handoff_send,
    handoff_start,
    published_version,
    remind_overdue_handoffs,
    template_draft,
    template_publish,
)
from referrals.milestones.services import milestone_set_infusion
from tests.factories import UserFactory, patient_at
from tests.helpers import TRANSITION, World, accepted_referral, name_point_persons, sent_handoff

pytestmark = pytest.mark.django_db

FILLED: dict[str, Any] = {
    "treatment.product": "Yescarta (axicabtagene ciloleucel)",
    "treatment.infusion_date": "2027-01-11",
    "treatment.highest_crs": "2",
    "treatment.highest_icans": "0",
    "medications.current": [{"drug": "Acyclovir", "dose": "800 mg", "frequency": "twice daily", "until": "1 year"}],
    "medications.hsv_vzv": "Acyclovir 800 mg twice daily for 12 months",
    "medications.pjp": "TMP-SMX DS three times weekly until CD4 > 200",
    "monitoring.immunoglobulin_plan": "IgG at day 30, then monthly; IVIG if < 400 mg/dL with infections",
    "monitoring.lab_schedule": [{"test": "CBC with differential", "frequency": "weekly", "until": "counts recover"}],
    "monitoring.irradiated_products": "yes",
    "monitoring.vaccination_plan": "Influenza from month 3; inactivated from month 6; no live vaccines",
    "restrictions.driving_until": "2027-01-25",
    "restrictions.proximity_until": "2027-01-25",
    "safety.red_flags": "Fever, confusion, word-finding trouble, tremor, seizures, bleeding",
    "safety.center_24_7": "+1 555 100 2400",
    "safety.point_persons": "Nina Nurse",
    "follow_up.next_center_visit": "2027-02-10",
    "follow_up.long_term_plan": "Yearly visits for 15 years; CIBMTR forms",
    "follow_up.consult_done": "yes",
}


def _start(world: World) -> Handoff:
    return handoff_start(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        template=HandoffTemplate.objects.get(name=TRANSITION),
        from_site=world.center,
        to_site=world.practice,
    )


def _sent(world: World) -> Handoff:
    handoff = _start(world)
    assert handoff_save(actor=world.center_coordinator, handoff=handoff, values=FILLED) == {}
    return handoff_send(actor=world.center_coordinator, handoff=handoff)


def test_a_new_handoff_is_prefilled_from_what_carecoord_knows(world: World) -> None:
    name_point_persons(world)
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    values = _start(world).values
    assert values["treatment.infusion_date"] == "2027-01-11"
    assert values["restrictions.driving_until"] == "2027-01-25"
    assert values["safety.center_24_7"] == "Lakeside CAR-T Center: +1 555 100 2400"
    assert "Olive Oncologist" in values["safety.point_persons"]
    # No CRS was recorded: the prefill says so, it does not write a grade 0 nobody gave.
    assert values["treatment.highest_crs"] == "none recorded"


def test_a_draft_with_errors_is_kept_and_sending_names_each_missing_field(world: World) -> None:
    handoff = _start(world)
    errors = handoff_save(actor=world.center_coordinator, handoff=handoff, values={"treatment.infusion_date": "soon"})
    assert "YYYY-MM-DD" in errors["treatment.infusion_date"]
    handoff.refresh_from_db()
    assert handoff.values["treatment.infusion_date"] == "soon"
    with pytest.raises(ValidationError) as error:
        handoff_send(actor=world.center_coordinator, handoff=handoff)
    assert "values.medications.pjp" in error.value.message_dict
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.DRAFT


def test_sending_stamps_notifies_the_receivers_and_supersedes_the_previous(world: World) -> None:
    name_point_persons(world)
    first = _sent(world)
    assert first.state == Handoff.State.SENT and first.sent_by == world.center_coordinator
    assert OutgoingEmail.objects.filter(template="handoff-sent").count() == 2  # primary and backup
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.HANDOFF, title__startswith="Hand-off sent").exists()
    second = _sent(world)
    first.refresh_from_db()
    assert (first.state, first.superseded_by) == (Handoff.State.SUPERSEDED, second)


def test_only_the_receiving_point_person_acknowledges(world: World) -> None:
    name_point_persons(world)
    handoff = _sent(world)
    with pytest.raises(PermissionDenied):
        handoff_acknowledge(actor=world.center_coordinator, handoff=handoff)
    handoff_acknowledge(actor=world.community_oncologist, handoff=handoff)
    assert handoff.state == Handoff.State.ACKNOWLEDGED and handoff.acknowledged_by == world.community_oncologist


def test_questions_go_back_to_the_sender(world: World) -> None:
    name_point_persons(world)
    handoff = _sent(world)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which IVIG dose?")
    assert OutgoingEmail.objects.filter(template="handoff-question", recipient=world.center_coordinator).exists()
    with pytest.raises(ValidationError):
        handoff_ask(actor=world.community_oncologist, handoff=handoff, body="  ")


def _waiting_on(*sites: Site) -> list[tuple[int, bool]]:
    """The hand-offs waiting on `sites`, each with whether a question waits for their answer."""
    site_ids = [site.pk for site in sites]
    return list(Handoff.objects.awaiting(site_ids).with_to_answer(site_ids).values_list("pk", F("to_answer")))


def test_an_answer_closes_the_question_and_a_question_back_reopens_it(world: World) -> None:
    name_point_persons(world)
    handoff = _sent(world)  # from the center to the practice
    handoff_acknowledge(actor=world.community_oncologist, handoff=handoff)
    assert handoff.last_word_site is None
    assert _waiting_on(world.center) == _waiting_on(world.practice) == []

    asked = handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which IVIG dose?")
    assert asked.kind == HandoffQuestion.Kind.QUESTION
    assert _open_question(handoff) == (world.practice.pk, asked.created_at)
    assert _waiting_on(world.center) == [(handoff.pk, True)]
    assert _waiting_on(world.practice) == []
    # Someone at both sites has asked the question themselves: nothing waits on them.
    assert _waiting_on(world.center, world.practice) == []

    # A follow-up from the same site: still one question, waiting since the first.
    handoff_ask(actor=world.community_coordinator, handoff=handoff, body="And from which IgG level?")
    assert _open_question(handoff) == (world.practice.pk, asked.created_at)

    answer = handoff_ask(actor=world.center_coordinator, handoff=handoff, body="0.4 g/kg below 400 mg/dL.")
    assert answer.kind == HandoffQuestion.Kind.ANSWER
    assert _open_question(handoff) == (None, None)
    assert handoff.last_word_site is None and handoff.awaited_site_id() is None
    assert _waiting_on(world.center) == _waiting_on(world.practice) == []

    # "Thanks, noted." after the answer: a question by default, unless it needs no answer.
    note = handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Thanks, noted.", needs_answer=False)
    assert note.kind == HandoffQuestion.Kind.NOTE
    assert _waiting_on(world.center) == _waiting_on(world.practice) == []

    # An answer that asks back: the practice's question is answered, the center's waits.
    back = handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which lab first?")
    asked_back = handoff_ask(
        actor=world.center_coordinator, handoff=handoff, body="CBC. Was the IgG drawn?", needs_answer=True
    )
    assert (back.kind, asked_back.kind) == (HandoffQuestion.Kind.QUESTION, HandoffQuestion.Kind.QUESTION)
    assert _open_question(handoff) == (world.center.pk, asked_back.created_at)
    assert _waiting_on(world.practice) == [(handoff.pk, True)]
    assert _waiting_on(world.center) == []
    # A note from the asking site leaves its question open.
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Any lab will do.", needs_answer=False)
    assert _open_question(handoff) == (world.center.pk, asked_back.created_at)


def _open_question(handoff: Handoff) -> tuple[int | None, dt.datetime | None]:
    """The hand-off's open question as kept on its row, checked against the object in memory."""
    kept = Handoff.objects.get(pk=handoff.pk)
    assert (kept.last_word_site_id, kept.last_word_at) == (handoff.last_word_site_id, handoff.last_word_at)
    if kept.last_word_at is not None:
        assert kept.waiting_since == kept.last_word_at
    return kept.last_word_site_id, kept.last_word_at


def test_a_sent_hand_off_waits_to_be_acknowledged_and_answered_at_once(world: World) -> None:
    handoff = _sent(world)
    assert _waiting_on(world.practice) == [(handoff.pk, False)]
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Did the summary reach you?")
    assert _waiting_on(world.practice) == [(handoff.pk, True)]
    assert _waiting_on(world.center) == []
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Yes.")
    assert _waiting_on(world.practice) == [(handoff.pk, False)]  # still to acknowledge
    assert _waiting_on(world.center) == []  # answered: nothing waits on the center


def test_the_thread_and_its_askers_are_told_what_each_message_is(world: World) -> None:
    name_point_persons(world)
    handoff = _sent(world)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which IVIG dose?")
    handoff_ask(actor=world.community_coordinator, handoff=handoff, body="And until when?")
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="0.4 g/kg, until IgG > 400.")
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Labs attached.", needs_answer=False)
    entries = TimelineEntry.objects.filter(title__contains="about the hand-off").order_by("pk")
    titles = list(entries.values_list("title", flat=True))
    practice, center = world.practice.name, world.center.name
    assert titles == [
        f"Question about the hand-off from {practice}",
        f"Question about the hand-off from {practice}",
        f"Answer about the hand-off from {center}",
        f"Note about the hand-off from {center}",
    ]
    # Both askers are told, once each; neither the answering site nor anyone else is.
    answered = OutgoingEmail.objects.filter(template="handoff-answer")
    assert sorted(answered.values_list("recipient", flat=True)) == sorted(
        [world.community_oncologist.pk, world.community_coordinator.pk]
    )
    email = answered.get(recipient=world.community_oncologist)
    assert "Which IVIG" not in email.subject + email.body_text + email.body_html  # no thread text by email
    assert handoff.patient.family_name not in email.subject + email.body_text + email.body_html


def test_two_messages_at_once_are_recorded_one_after_the_other(world: World) -> None:
    """`handoff_ask` locks the hand-off before it reads the open question: the second of two
    answers at once finds the question already answered (and so asks)."""
    handoff = _sent(world)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which IVIG dose?")
    stale = Handoff.objects.get(pk=handoff.pk)  # read before the answer, as a second request would
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="0.4 g/kg.")
    second = handoff_ask(actor=world.center_coordinator, handoff=stale, body="Or 0.5 g/kg.")
    assert second.kind == HandoffQuestion.Kind.QUESTION
    assert _open_question(stale) == (world.center.pk, second.created_at)


def test_the_migration_gives_existing_hand_offs_their_latest_questions_site(world: World) -> None:
    handoff = _sent(world)
    quiet = handoff_start(
        actor=world.center_coordinator,
        patient=patient_at(world.practice, world.community_coordinator, shared_with=world.center),
        template=HandoffTemplate.objects.get(name=TRANSITION),
        from_site=world.center,
        to_site=world.practice,
    )
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="A question")
    handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Its answer", needs_answer=True)
    Handoff.objects.update(last_word_site=None)
    with connection.cursor() as cursor:
        cursor.execute(import_module("handoffs.migrations.0008_last_word_site").LAST_WORDS)
    assert Handoff.objects.get(pk=handoff.pk).last_word_site == world.center
    assert Handoff.objects.get(pk=quiet.pk).last_word_site is None


def test_unacknowledged_after_a_business_day_the_receivers_are_reminded_once(world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC), tick=False):  # a Monday
        _sent(world)
    with time_machine.travel(dt.datetime(2026, 11, 17, 14, 0, tzinfo=dt.UTC), tick=False):
        assert remind_overdue_handoffs() == 0
    with time_machine.travel(dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC), tick=False):
        assert remind_overdue_handoffs() == 1
        assert remind_overdue_handoffs() == 0
    assert OutgoingEmail.objects.filter(template="handoff-reminder").count() == 2


def test_editing_a_template_makes_a_new_version_and_the_published_one_never_changes(world: World) -> None:
    admin = UserFactory.create(is_staff=True)
    template = HandoffTemplate.objects.get(name=TRANSITION)
    v1 = published_version(template)
    assert v1 is not None
    schema = {"sections": [{"key": "a", "title": "A", "fields": [{"key": "b", "label": "B", "type": "text"}]}]}
    with pytest.raises(PermissionDenied):
        template_draft(actor=world.center_coordinator, template=template, schema=schema)
    v2 = template_draft(actor=admin, template=template, schema=schema)
    assert (v2.number, v2.status) == (v1.number + 1, "draft")
    v1.refresh_from_db()
    assert v1.schema != schema
    assert _start(world).version == v1  # drafts are not used
    template_publish(actor=admin, version=v2)
    assert _start(world).version == v2
    with pytest.raises(ValidationError) as error:
        template_draft(actor=admin, template=template, schema={"sections": []})
    assert "schema" in error.value.message_dict


def test_the_migration_gives_existing_hand_offs_the_moment_of_their_latest_question(world: World) -> None:
    handoff = _sent(world)
    quiet = sent_handoff(world, patient_at(world.practice, world.community_coordinator, shared_with=world.center))
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="A question")
    answer = handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Its answer", needs_answer=True)
    Handoff.objects.update(last_word_at=None)
    with connection.cursor() as cursor:
        cursor.execute(import_module("handoffs.migrations.0010_last_word_at").LAST_WORD_AT)
    assert Handoff.objects.get(pk=handoff.pk).last_word_at == answer.created_at
    quiet = Handoff.objects.get(pk=quiet.pk)
    assert quiet.last_word_at is None
    assert quiet.waiting_since == quiet.acknowledge_by  # waits by its deadline
