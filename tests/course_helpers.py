"""Building a patient's course for tests: an accepted referral, day 0, the point persons."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.models import Patient, PointPerson, User
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_name_point_person
from referrals.milestones.services import milestone_complete, milestone_plan, milestone_set_infusion
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from tests.conftest import World
from tests.factories import member
from tests.referral_helpers import accept, accepted_referral, draft_referral


def infused(world: World, planned: dt.date, actual: dt.date | None = None) -> Referral:
    """The shared patient's accepted referral with day 0 planned on `planned`, done on `actual`."""
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=planned)
    if actual is not None:
        infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=actual)
    return referral


def name_point_persons(world: World) -> dict[str, User]:
    """Primary and backup at both sites of the shared patient's care team.

    Practice: the community oncologist (primary) and coordinator (backup); center: a nurse
    (primary) and the coordinator (backup).
    """
    practice_link = world.shared_patient.care_team.open().get(site=world.practice)
    center_link = world.shared_patient.care_team.open().get(site=world.center)
    center_nurse = member(world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse")
    for actor, link, user, rank in (
        (world.community_coordinator, practice_link, world.community_oncologist, PointPerson.Rank.PRIMARY),
        (world.community_coordinator, practice_link, world.community_coordinator, PointPerson.Rank.BACKUP),
        (world.center_coordinator, center_link, center_nurse, PointPerson.Rank.PRIMARY),
        (world.center_coordinator, center_link, world.center_coordinator, PointPerson.Rank.BACKUP),
    ):
        care_team_name_point_person(actor=actor, link=link, user=user, rank=rank)
    return {"center_nurse": center_nurse}


def at_apheresis(world: World, patient: Patient) -> Referral:
    """`patient` accepted by the center with the insurance authorization done: the apheresis phase."""
    referral = accept(world, draft_referral(world, patient=patient))
    done_on = timezone.localdate() - dt.timedelta(days=2)
    authorization = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="insurance_authorization", planned_on=done_on
    )
    milestone_complete(actor=world.center_coordinator, milestone=authorization, actual_on=done_on)
    return referral
