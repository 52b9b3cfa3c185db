"""A patient's death: recorded by either care-team site, it cancels the planned steps, stops
new referrals and dates after it, takes the patient off the candidates, tells the point persons;
corrected in place; withdrawn if recorded in error, planning the steps again.

Time is frozen nine days after the shared patient's infusion (`tests.helpers.NOW`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from candidates.models import CandidateStanding
from candidates.selectors import assessment_of
from carecoord.models import OutgoingEmail, PatientDeath, TimelineEntry
from carecoord.roles import Role
from referrals.deaths import death_record, death_withdraw
from referrals.milestones.services import milestone_cancel, milestone_complete, milestone_move, milestone_plan
from referrals.models import Milestone, Referral
from referrals.services import referral_move
from referrals.workflow import Move
from tests.factories import first_line_vrd, member, patient_at
from tests.helpers import INFUSED_ON, NOW, World, api, draft_referral, infused, name_point_persons
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db

DIED_ON = dt.date(2027, 1, 18)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _died(
    world: World, died_on: dt.date = DIED_ON, cause: str = "infection", detail: str = "Pneumonia"
) -> PatientDeath:
    return death_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        died_on=died_on,
        cause=cause,
        detail=detail,
    )


def _statuses(referral: Referral) -> dict[str, str]:
    return dict(Milestone.objects.filter(referral=referral).values_list("kind", "status"))


def test_a_death_cancels_the_planned_steps_keeps_the_done_ones_and_tells_the_point_persons(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    name_point_persons(world)
    planned = set(Milestone.objects.filter(referral=referral, status="planned").values_list("pk", flat=True))
    assert planned  # the monitoring and follow-up steps after day 0
    death = _died(world)
    statuses = _statuses(referral)
    assert statuses["infusion"] == "done"
    assert set(Milestone.objects.filter(pk__in=planned).values_list("status", flat=True)) == {"cancelled"}
    assert set(death.cancelled_steps) == planned
    entry = TimelineEntry.objects.filter(patient=world.shared_patient, kind="death").get()
    assert entry.title == "Died on 18 Jan 2027" and entry.site == world.practice
    assert "Cause: Infection. Pneumonia" in entry.body and f"{len(planned)} planned steps cancelled" in entry.body
    # Every point person but the recorder, once; the patient by initials only, no cause.
    emails = OutgoingEmail.objects.filter(template="patient-death")
    assert sorted(emails.values_list("to_address", flat=True)) == sorted(
        ["nurse@lakeside.test", world.center_coordinator.email, world.community_oncologist.email]
    )
    for email in emails:
        assert world.shared_patient.family_name not in email.body_text + email.subject
        assert "Pneumonia" not in email.body_text and "nfection" not in email.body_text
        assert world.shared_patient.initials in email.subject
    audit = AuditEntry.objects.filter(object_type="carecoord.patientdeath").get()
    assert audit.action == AuditEntry.Action.CREATE and audit.patient_id == world.shared_patient.pk


def test_a_correction_changes_the_record_and_cancels_or_emails_nothing_more(world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    name_point_persons(world)
    first = _died(world)
    emails = OutgoingEmail.objects.count()
    corrected = death_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        died_on=dt.date(2027, 1, 19),
        cause="crs",
    )
    assert (corrected.died_on, corrected.cause, corrected.site, corrected.detail) == (
        dt.date(2027, 1, 19),
        "crs",
        world.center,
        "",
    )
    assert corrected.cancelled_steps == first.cancelled_steps
    assert OutgoingEmail.objects.count() == emails
    titles = list(TimelineEntry.objects.filter(kind="death").values_list("title", flat=True))
    assert titles == ["Died on 18 Jan 2027", "Death record corrected: died on 19 Jan 2027"]


def test_withdrawing_a_death_recorded_in_error_plans_the_steps_again(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    before = _statuses(referral)
    _died(world)
    death_withdraw(
        actor=world.center_coordinator, patient=world.shared_patient, site=world.center, reason="Wrong patient"
    )
    assert _statuses(referral) == before
    assert not PatientDeath.objects.exists()
    entry = TimelineEntry.objects.filter(kind="death").order_by("-pk").first()
    assert entry is not None and entry.title == "Death on 18 Jan 2027 withdrawn: recorded in error"
    assert "Why: Wrong patient" in entry.body
    assert AuditEntry.objects.filter(object_type="carecoord.patientdeath", action="delete").exists()


def test_a_step_cancelled_before_the_death_stays_cancelled_when_it_is_withdrawn(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    step = Milestone.objects.filter(referral=referral, status="planned").order_by("planned_on").first()
    assert step is not None
    Milestone.objects.filter(pk=step.pk).update(status="cancelled")
    _died(world)
    death_withdraw(actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, reason="x")
    step.refresh_from_db()
    assert step.status == "cancelled"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"died_on": dt.date(2027, 1, 25)}, "died_on", "future"),
        ({"died_on": dt.date(1950, 1, 1)}, "died_on", "date of birth"),
        ({"died_on": dt.date(2027, 1, 5)}, "died_on", "A step done is recorded on 11 Jan 2027"),  # the infusion
        ({"cause": "old age"}, "cause", "primary cause"),
        ({"detail": "x" * 501}, "detail", "500"),
    ],
)
def test_a_death_that_cannot_be_is_refused_on_its_field(
    world: World, fields: dict[str, Any], field: str, words: str
) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    with pytest.raises(ValidationError) as refused:
        _died(world, **fields)
    assert words in refused.value.message_dict[field][0]
    assert not PatientDeath.objects.exists()
    assert not Milestone.objects.filter(status="cancelled").exists()


def test_only_a_role_that_records_care_at_a_care_team_site_records_a_death(world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    with pytest.raises(PermissionDenied):
        death_record(actor=reader, patient=world.shared_patient, site=world.practice, died_on=DIED_ON, cause="other")
    with pytest.raises(ValidationError) as refused:
        death_record(
            actor=world.outsider,
            patient=world.shared_patient,
            site=world.unrelated_practice,
            died_on=DIED_ON,
            cause="other",
        )
    assert "site" in refused.value.message_dict
    with pytest.raises(ValidationError) as nothing:
        death_withdraw(actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, reason="x")
    assert "No death" in nothing.value.message_dict["reason"][0]
    assert not PatientDeath.objects.exists()


def test_after_a_death_nothing_is_planned_after_it_and_no_referral_moves_on(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    other = draft_referral(world, to_center=None, patient=patient_at(world.practice, world.community_coordinator))
    _died(world)
    Milestone.objects.filter(referral=referral, kind="apheresis").delete()
    with pytest.raises(ValidationError) as late:
        milestone_plan(
            actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2027, 1, 19)
        )
    assert "The patient died on 18 Jan 2027: nothing more is planned." in late.value.message_dict["planned_on"][0]
    with pytest.raises(ValidationError) as new:
        draft_referral(world)
    assert "no referral can be started" in new.value.message_dict["patient"][0]
    assert other.pk  # another patient's referral is not concerned


def test_a_submitted_referral_of_a_patient_who_died_can_only_be_closed(world: World) -> None:
    referral = referral_move(actor=world.community_coordinator, referral=draft_referral(world), move=Move.SUBMIT)
    _died(world)
    with pytest.raises(ValidationError) as refused:
        referral_move(actor=world.center_coordinator, referral=referral, move=Move.ACKNOWLEDGE)
    assert "can only be withdrawn or declined" in refused.value.message_dict["move"][0]
    closed = referral_move(actor=world.community_coordinator, referral=referral, move=Move.WITHDRAW)
    assert closed.state == "withdrawn"


def test_a_patient_who_died_is_no_candidate_until_the_death_is_withdrawn(world: World) -> None:
    patient = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, disease_area="multiple_myeloma"
    )
    first_line_vrd(patient, world.community_coordinator, world.practice)
    first_line_vrd(
        patient,
        world.community_coordinator,
        world.practice,
        number=2,
        regimen="DPd",
        drug_classes=["anti_cd38", "imid"],
        started_on=dt.date(2025, 8, 4),
        refractory=True,
    )
    standing = CandidateStanding.objects.get(patient=patient)
    assert standing.standing == "meets"
    death_record(
        actor=world.community_coordinator, patient=patient, site=world.practice, died_on=DIED_ON, cause="relapse"
    )
    standing.refresh_from_db()
    assert standing.standing == "" and standing.first_met_on == dt.date(2025, 8, 4)  # still counted as never referred
    death_withdraw(actor=world.community_coordinator, patient=patient, site=world.practice, reason="Wrong patient")
    assert CandidateStanding.objects.get(patient=patient).standing == "meets"


def _step(referral: Referral, kind: str) -> Milestone:
    return Milestone.objects.get(referral=referral, kind=kind)


def test_a_step_the_death_cancelled_is_recorded_done_if_it_happened_before_it(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON)  # planned, not yet marked done
    _died(world)
    infusion = _step(referral, "infusion")
    assert infusion.status == "cancelled"
    with pytest.raises(ValidationError) as late:
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 19))
    assert "after the patient's death" in late.value.message_dict["actual_on"][0]
    done = milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=INFUSED_ON)
    assert done.status == "done"
    # Nothing was planned again from the day 0 it made.
    assert not Milestone.objects.filter(referral=referral, status="planned").exists()


def test_nothing_is_planned_moved_nor_replanned_after_a_death(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    _died(world)
    visit = Milestone.objects.filter(referral=referral, status="cancelled").order_by("planned_on").first()
    assert visit is not None
    with pytest.raises(ValidationError) as replanned:
        milestone_plan(
            actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2027, 1, 10)
        )
    assert "nothing more is planned" in replanned.value.message_dict["planned_on"][0]
    with pytest.raises(ValidationError):
        milestone_move(actor=world.center_coordinator, milestone=visit, planned_on=dt.date(2027, 1, 17), reason="x")
    assert not Milestone.objects.filter(referral=referral, status="planned").exists()


def test_a_step_cancelled_by_hand_is_not_completed_as_if_the_death_had_cancelled_it(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    step = Milestone.objects.filter(referral=referral, status="planned").order_by("planned_on").first()
    assert step is not None
    milestone_cancel(actor=world.center_coordinator, milestone=step, reason="Not needed")
    _died(world)
    with pytest.raises(ValidationError) as refused:
        milestone_complete(actor=world.center_coordinator, milestone=step, actual_on=dt.date(2027, 1, 12))
    assert "Only a planned milestone" in refused.value.message_dict["status"][0]


def test_a_withdrawal_leaves_a_step_changed_since_the_death_as_it_is(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    first, *others = Milestone.objects.filter(referral=referral, status="planned").order_by("planned_on")
    with time_machine.travel(NOW - dt.timedelta(hours=2), tick=False):
        _died(world)
    # Recorded done since (it happened before the death): it stays done.
    milestone_complete(actor=world.center_coordinator, milestone=first, actual_on=dt.date(2027, 1, 12))
    death_withdraw(actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, reason="x")
    assert _step(referral, first.kind).status == "done"
    assert {m.status for m in Milestone.objects.filter(pk__in=[m.pk for m in others])} == {"planned"}


def test_a_death_before_a_recorded_toxicity_is_refused(world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    toxicity_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        kind="infection",
        onset_at=dt.datetime(2027, 1, 19, 14, tzinfo=dt.UTC),
        ctcae_grade=3,
        infection_site="Lung",
        organism="Aspergillus",
    )
    with pytest.raises(ValidationError) as refused:
        _died(world, died_on=dt.date(2027, 1, 17))
    assert "A toxicity's onset is recorded on 19 Jan 2027" in refused.value.message_dict["died_on"][0]
    assert _died(world, died_on=dt.date(2027, 1, 19)).pk  # the day of the onset itself


def test_the_candidacy_of_a_patient_who_died_is_none_wherever_it_is_read(world: World) -> None:
    patient = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, disease_area="multiple_myeloma"
    )
    first_line_vrd(patient, world.community_coordinator, world.practice, refractory=True)
    assert assessment_of(patient).standing == "meets"
    death_record(
        actor=world.community_coordinator, patient=patient, site=world.practice, died_on=DIED_ON, cause="relapse"
    )
    assert assessment_of(patient).standing is None
    url = reverse("api:patient-candidacy", kwargs={"patient_id": patient.pk})
    assert api(world.community_coordinator).get(url).json()["standing"] is None


def test_a_site_naming_no_primary_point_person_hears_through_its_coordinators(world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)  # nobody named at either site
    _died(world)
    told = set(OutgoingEmail.objects.filter(template="patient-death").values_list("to_address", flat=True))
    assert told == {world.center_coordinator.email}  # the practice's coordinator recorded it
