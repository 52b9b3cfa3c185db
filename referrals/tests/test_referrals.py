"""The referral workflow and the treatment timeline, through the services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from carecoord.access import patients_visible_to
from carecoord.models import CareTeamLink, Patient, Site, TimelineEntry
from carecoord.models.patients import Phase
from carecoord.roles import Role
from carecoord.services.comments import comment_post
from referrals.milestones.services import (
    milestone_cancel,
    milestone_complete,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
)
from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove
from referrals.schedule import MilestoneKind
from referrals.services import referral_attach_document, referral_create_with_patient, referral_move
from referrals.workflow import Move, State
from tests.factories import SiteFactory, member
from tests.helpers import REFERRAL_FIELDS, World, accepted_referral, advance, draft_referral

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%fake but well-formed enough for the signature check\n"


def test_submitting_puts_the_center_on_the_care_team_and_sets_the_deadline(world: World) -> None:
    newcomer = Patient.objects.get(pk=world.shared_patient.pk)
    CareTeamLink.objects.filter(patient=newcomer, site=world.center).delete()  # not yet shared
    from carecoord.access.grants import sync_patient_access

    sync_patient_access(newcomer)
    assert newcomer not in patients_visible_to(world.center_coordinator)
    referral = draft_referral(world)
    # Friday 16:00 in Chicago: one business day later is Monday 16:00.
    with time_machine.travel(dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.UTC), tick=False):
        referral = referral_move(actor=world.community_coordinator, referral=referral, move=Move.SUBMIT)
    assert referral.state == State.SUBMITTED
    assert referral.acknowledge_by == dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC)
    assert newcomer in patients_visible_to(world.center_coordinator)
    assert TimelineEntry.objects.filter(patient=newcomer, kind=TimelineEntry.Kind.CARE_TEAM).exists()


def test_each_move_records_who_when_and_from_which_site(world: World) -> None:
    referral = advance(
        draft_referral(world),
        [(Move.SUBMIT, world.community_coordinator), (Move.ACKNOWLEDGE, world.center_coordinator)],
    )
    moves = list(ReferralMove.objects.filter(referral=referral).values_list("to_state", "actor", "site"))
    assert moves == [
        (State.SUBMITTED, world.community_coordinator.pk, world.practice.pk),
        (State.RECEIVED, world.center_coordinator.pk, world.center.pk),
    ]
    titles = list(TimelineEntry.objects.filter(patient=referral.patient).values_list("title", flat=True))
    assert "Referral submitted" in titles and "Referral received by the center" in titles
    world.shared_patient.refresh_from_db()
    assert world.shared_patient.phase == Phase.INTAKE_REVIEW


def test_the_practice_cannot_acknowledge_and_the_center_cannot_withdraw(world: World) -> None:
    referral = advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
    with pytest.raises(ValidationError) as error:
        referral_move(actor=world.community_coordinator, referral=referral, move=Move.ACKNOWLEDGE)
    assert "receiving center" in error.value.message_dict["move"][0]
    with pytest.raises(ValidationError):
        referral_move(actor=world.center_coordinator, referral=referral, move=Move.WITHDRAW)


def test_a_second_open_referral_points_to_the_open_one(world: World) -> None:
    first = draft_referral(world)
    with pytest.raises(ValidationError) as error:
        draft_referral(world)
    assert f"#{first.pk}" in error.value.message_dict["to_center"][0]


def test_a_closed_referral_allows_a_new_one(world: World) -> None:
    first = advance(draft_referral(world), [(Move.WITHDRAW, world.community_coordinator)])
    assert first.state == State.WITHDRAWN
    assert draft_referral(world).pk != first.pk


def test_declining_needs_a_reason(world: World) -> None:
    referral = advance(
        draft_referral(world),
        [(Move.SUBMIT, world.community_coordinator), (Move.ACKNOWLEDGE, world.center_coordinator)],
    )
    with pytest.raises(ValidationError) as error:
        referral_move(actor=world.center_coordinator, referral=referral, move=Move.DECLINE)
    assert "decline_reason" in error.value.message_dict
    referral_move(actor=world.center_coordinator, referral=referral, move=Move.DECLINE, decline_reason="Not eligible")
    assert TimelineEntry.objects.filter(patient=referral.patient, body="Not eligible").exists()


def test_transplant_ineligibility_is_recorded_not_refused(world: World) -> None:
    referral = draft_referral(world)
    assert referral.transplant_eligibility == "ineligible"
    assert advance(referral, [(Move.SUBMIT, world.community_coordinator)]).state == State.SUBMITTED


def test_scheduling_the_consult_plans_the_consult_milestone(world: World) -> None:
    referral = accepted_referral(world)
    consult = Milestone.objects.get(referral=referral, kind="consult")
    assert consult.planned_on == dt.date(2026, 12, 1)
    assert referral.state == State.ACCEPTED


def test_read_only_staff_cannot_move_a_referral(world: World) -> None:
    from carecoord.roles import Role

    reader = member(world.center, Role.READ_ONLY)
    referral = advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
    with pytest.raises(PermissionDenied):
        referral_move(actor=reader, referral=referral, move=Move.ACKNOWLEDGE)


def test_referral_to_a_community_practice_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        draft_referral(
            world, to_center=SiteFactory.create(name="Elsewhere Oncology", kind=Site.Kind.COMMUNITY_PRACTICE)
        )
    assert "to_center" in error.value.message_dict


def test_a_new_patient_and_referral_are_saved_together_or_not_at_all(world: World) -> None:
    before = Patient.objects.count()
    with pytest.raises(ValidationError) as error:
        referral_create_with_patient(
            actor=world.community_coordinator,
            from_site=world.practice,
            to_center=world.center,
            referring_physician=world.community_oncologist,
            mrn="NEW-1",
            patient_fields={
                "given_name": "New",
                "family_name": "Person",
                "date_of_birth": dt.date(1970, 1, 1),
                "sex": "male",
                "disease_area": "lbcl",
            },
            **{**REFERRAL_FIELDS, "performance_status": 9},
        )
    assert "performance_status" in error.value.message_dict
    assert Patient.objects.count() == before


def test_documents_are_kept_when_valid(world: World, tmp_path: Path) -> None:
    referral = draft_referral(world)
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        document = referral_attach_document(
            actor=world.community_coordinator,
            referral=referral,
            kind="pathology",
            upload=SimpleUploadedFile("path.pdf", PDF, content_type="application/pdf"),
        )
        assert document.content_type == "application/pdf"
        assert document.file.read() == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.exe", b"MZ\x90\x00binary", "not accepted"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"x" * (1024 * 1024 + 10), "limit is 1 MB"),
    ],
)
def test_bad_documents_get_a_clear_error_and_nothing_is_saved(
    world: World, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    referral = draft_referral(world)
    with (
        override_settings(MEDIA_ROOT=str(tmp_path), REFERRAL_DOCUMENT_MAX_MB=1),
        pytest.raises(ValidationError) as error,
    ):
        referral_attach_document(
            actor=world.community_coordinator,
            referral=referral,
            kind="imaging",
            upload=SimpleUploadedFile(name, content),
        )
    assert message in error.value.message_dict["file"][0]
    assert not ReferralDocument.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_setting_the_infusion_plans_the_course_and_moving_it_keeps_manual_dates(world: World) -> None:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    planned = dict(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on"))
    assert planned[MilestoneKind.INFUSION] == dt.date(2027, 1, 11)
    assert planned[MilestoneKind.NO_DRIVING_END] == dt.date(2027, 1, 25)
    assert planned[MilestoneKind.VISIT_DAY_30] == dt.date(2027, 2, 10)

    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    milestone_move(actor=world.community_oncologist, milestone=visit, planned_on=dt.date(2027, 2, 12), reason="Clinic")
    with pytest.raises(ValidationError) as error:
        milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 18))
    assert "reason" in error.value.message_dict
    milestone_set_infusion(
        actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 18), reason="Slot moved"
    )
    planned = dict(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on"))
    assert planned[MilestoneKind.NO_DRIVING_END] == dt.date(2027, 2, 1)
    assert planned[MilestoneKind.VISIT_DAY_30] == dt.date(2027, 2, 12)  # entered by hand: kept


def test_only_the_center_sets_or_moves_day_0_and_the_entry_is_signed_by_it(world: World) -> None:
    """The practice (any role there), and a reader at the center, are refused: nothing is planned,
    nothing moves, nothing goes on the timeline; the center's entry is signed by the center."""
    referral = accepted_referral(world)
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    entries = TimelineEntry.objects.count()
    for practice_user in (world.community_coordinator, world.community_oncologist, reader):
        with pytest.raises(PermissionDenied):
            milestone_set_infusion(actor=practice_user, referral=referral, infusion_on=dt.date(2027, 1, 11))
    assert not Milestone.objects.filter(referral=referral, kind=MilestoneKind.INFUSION).exists()
    assert TimelineEntry.objects.count() == entries

    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    planned = TimelineEntry.objects.get(title="Infusion (day 0) planned for 11 Jan 2027")
    assert planned.site == world.center
    course = sorted(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on"))
    entries = TimelineEntry.objects.count()
    with pytest.raises(PermissionDenied, match=world.center.name):
        milestone_set_infusion(
            actor=world.community_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 18), reason="Slot"
        )
    assert sorted(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on")) == course
    assert TimelineEntry.objects.count() == entries


def _course(referral: Referral) -> list[tuple[str, object, object, str]]:
    return sorted(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on", "actual_on", "status"))


def test_the_practice_records_the_infusion_done_on_its_planned_day_only(world: World) -> None:
    """Another day moves day 0 and every date after it: the center's act. The practice is told on
    the date which day it may record, and nothing changes; on the planned day it records it."""
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
    course, entries = _course(referral), TimelineEntry.objects.count()
    with time_machine.travel(dt.datetime(2027, 1, 14, 18, tzinfo=dt.UTC), tick=False):
        for moved in (dt.date(2027, 1, 13), dt.date(2027, 1, 4)):
            with pytest.raises(ValidationError) as refused:
                milestone_complete(actor=world.community_coordinator, milestone=infusion, actual_on=moved)
            assert refused.value.message_dict == {
                "actual_on": [
                    "Record the infusion done on its planned day, 11 Jan 2027: another day moves day 0, "
                    f"which the staff of {world.center.name} record."
                ]
            }
        assert _course(referral) == course and TimelineEntry.objects.count() == entries
        done = milestone_complete(actor=world.community_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 11))
    assert (done.status, done.actual_on) == (Milestone.Status.DONE, dt.date(2027, 1, 11))
    assert TimelineEntry.objects.get(title="Infusion done on 11 Jan 2027").site == world.practice


def test_the_center_records_the_infusion_done_on_another_day_and_day_0_moves(world: World) -> None:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
    with time_machine.travel(dt.datetime(2027, 1, 14, 18, tzinfo=dt.UTC), tick=False):
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 13))
    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    assert visit.planned_on == dt.date(2027, 2, 12)  # 30 days from the 13th


def test_a_preparation_step_done_is_not_planned_again(world: World) -> None:
    """Planning a step again would make a done one planned, its done date and place lost: refused
    on the step, nothing changed; a cancelled one may be planned again."""
    referral = accepted_referral(world)
    bridging = milestone_plan(
        actor=world.center_coordinator,
        referral=referral,
        kind="bridging_therapy",
        planned_on=dt.date(2026, 11, 30),
        given_at=world.practice,
        confirm_date=True,
    )
    milestone_complete(actor=world.center_coordinator, milestone=bridging, actual_on=dt.date(2026, 11, 30))
    with pytest.raises(ValidationError) as refused:
        milestone_plan(
            actor=world.community_coordinator,
            referral=referral,
            kind="bridging_therapy",
            planned_on=dt.date(2027, 1, 8),
        )
    assert refused.value.message_dict == {
        "kind": ["Bridging therapy is recorded done on 30 Nov 2026: correct its done date on its row if it is wrong."]
    }
    bridging.refresh_from_db()
    assert (bridging.status, bridging.actual_on, bridging.given_at) == (
        Milestone.Status.DONE,
        dt.date(2026, 11, 30),
        world.practice,
    )
    apheresis = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2027, 1, 4)
    )
    milestone_cancel(actor=world.center_coordinator, milestone=apheresis, reason="Line not placed")
    again = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2027, 1, 6)
    )
    assert (again.pk, again.status, again.planned_on) == (apheresis.pk, Milestone.Status.PLANNED, dt.date(2027, 1, 6))


def test_only_the_center_cancels_the_infusion(world: World) -> None:
    """Cancelled, the infusion leaves the course without a day 0: the center's act. The practice
    (any role) is refused and nothing changes; it still cancels its own steps."""
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
    course, entries = _course(referral), TimelineEntry.objects.count()
    for practice_user in (world.community_coordinator, world.community_oncologist):
        with pytest.raises(PermissionDenied, match=world.center.name):
            milestone_cancel(actor=practice_user, milestone=infusion, reason="Not happening here")
    assert _course(referral) == course and TimelineEntry.objects.count() == entries
    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    assert milestone_cancel(actor=world.community_coordinator, milestone=visit, reason="Seen at the center").status == (
        Milestone.Status.CANCELLED
    )
    cancelled = milestone_cancel(actor=world.center_coordinator, milestone=infusion, reason="Product out of spec")
    assert cancelled.status == Milestone.Status.CANCELLED


def test_a_step_done_is_told_by_its_date_not_a_day_label_that_goes_stale_when_day_0_moves(world: World) -> None:
    """The timeline shows each milestone's day live (its table); a title written once would keep
    "day -18" after day 0 moved and the table said day -19."""
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    consult = Milestone.objects.get(referral=referral, kind="consult")
    milestone_complete(actor=world.center_coordinator, milestone=consult, actual_on=dt.date(2026, 12, 1))
    milestone_set_infusion(
        actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 12), reason="Bed"
    )
    entry = TimelineEntry.objects.get(title__startswith="Consult at the center done on")
    assert entry.title == "Consult at the center done on 1 Dec 2026"


def test_milestones_are_done_moved_or_cancelled_with_reasons(world: World) -> None:
    referral = accepted_referral(world)
    consult = Milestone.objects.get(referral=referral, kind="consult")
    with pytest.raises(ValidationError):
        milestone_cancel(actor=world.community_oncologist, milestone=consult, reason=" ")
    milestone_complete(actor=world.center_coordinator, milestone=consult, actual_on=dt.date(2026, 12, 1))
    consult.refresh_from_db()
    assert consult.status == Milestone.Status.DONE
    with pytest.raises(ValidationError):
        milestone_move(actor=world.center_coordinator, milestone=consult, planned_on=dt.date(2026, 12, 2), reason="x")


def test_comments_go_on_the_timeline_and_need_a_care_team_site(world: World) -> None:
    entry = comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body="Hi")
    assert entry.kind == TimelineEntry.Kind.COMMENT and entry.body == "Hi"
    with pytest.raises(ValidationError) as error:
        comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.center, body="x")
    assert "site" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body=" ")
    assert "body" in error.value.message_dict
