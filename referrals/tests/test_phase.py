"""The phase is derived from the referral and its milestones, never typed (referrals.phase)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from carecoord.models import Patient
from carecoord.models.patients import Phase
from referrals.milestones.services import milestone_complete, milestone_plan, milestone_set_infusion
from referrals.models import Milestone
from referrals.phase import PathStep, current_episode, phase_of, phase_path, phases_now, refresh_phases_due
from referrals.schedule import MilestoneKind
from referrals.workflow import State
from tests.helpers import World, accept, draft_referral, infused, login

TODAY = dt.date(2027, 3, 1)


@dataclass
class M:
    kind: str
    planned_on: dt.date | None = None
    status: str = "planned"
    actual_on: dt.date | None = None
    referral_id: int = 1


def done(kind: str, on: dt.date) -> M:
    return M(kind, on, "done", on)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("state", "milestones", "phase"),
    [
        (None, [], Phase.REFERRAL),
        (State.DRAFT, [], Phase.REFERRAL),
        (State.SUBMITTED, [], Phase.REFERRAL),
        (State.DECLINED, [], Phase.REFERRAL),
        (State.WITHDRAWN, [], Phase.REFERRAL),
        (State.RECEIVED, [], Phase.INTAKE_REVIEW),
        (State.UNDER_REVIEW, [], Phase.INTAKE_REVIEW),
        (State.CONSULT_SCHEDULED, [M("consult", days(3))], Phase.CONSULT),
        (State.CONSULT_SCHEDULED, [M("consult", days(-1))], Phase.CONSULT),  # past but not recorded
        (State.CONSULT_SCHEDULED, [done("consult", days(-1))], Phase.ELIGIBILITY),
        (State.ACCEPTED, [], Phase.INSURANCE),
        (State.ACCEPTED, [M("insurance_authorization", days(-2))], Phase.INSURANCE),
        (State.ACCEPTED, [done("insurance_authorization", days(-2))], Phase.APHERESIS),
        (State.ACCEPTED, [M("apheresis", TODAY)], Phase.APHERESIS),
        (State.ACCEPTED, [done("apheresis", days(-3))], Phase.MANUFACTURING),
        (State.ACCEPTED, [done("apheresis", days(-9)), M("bridging_therapy", TODAY)], Phase.BRIDGING),
        (State.ACCEPTED, [done("apheresis", days(-9)), M("bridging_therapy", days(1))], Phase.MANUFACTURING),
        (State.ACCEPTED, [M("lymphodepletion_start", days(-1)), M("infusion", days(4))], Phase.LYMPHODEPLETION),
        (State.ACCEPTED, [M("infusion", TODAY)], Phase.INFUSION),
        (State.ACCEPTED, [M("infusion", days(-3))], Phase.INFUSION),  # due, not recorded done
        (State.ACCEPTED, [done("infusion", TODAY)], Phase.INFUSION),
        (State.ACCEPTED, [done("infusion", days(-3)), M("monitoring_end", days(11))], Phase.MONITORING),
        (State.ACCEPTED, [done("infusion", days(-14)), M("monitoring_end", TODAY)], Phase.HAND_BACK),
        (
            State.ACCEPTED,
            [done("infusion", days(-40)), done("monitoring_end", days(-26)), done("hand_back", days(-19))],
            Phase.FOLLOW_UP,
        ),
        # One year after day 0 (calendar months) is long-term follow-up, whatever else was recorded.
        (State.ACCEPTED, [done("infusion", dt.date(2026, 3, 1))], Phase.LONG_TERM),
        (
            State.ACCEPTED,
            [done("infusion", dt.date(2026, 3, 2)), done("monitoring_end", dt.date(2026, 3, 16))],
            Phase.HAND_BACK,
        ),
        # A cancelled step is not a step.
        (State.ACCEPTED, [M("apheresis", days(-3), "cancelled")], Phase.INSURANCE),
    ],
)
def test_phase_of_each_step(state: str | None, milestones: list[M], phase: Phase) -> None:
    assert phase_of(state=state, milestones=milestones, today=TODAY) == phase


@dataclass
class R:
    pk: int
    state: str


def test_current_episode_is_the_latest_open_or_accepted_referral() -> None:
    assert current_episode([]) is None
    treated, declined = R(1, State.ACCEPTED), R(2, State.DECLINED)
    assert current_episode([treated, declined]) == treated
    again = R(3, State.DRAFT)
    assert current_episode([treated, declined, again]) == again
    assert current_episode([R(4, State.WITHDRAWN), R(5, State.DECLINED)]) == R(5, State.DECLINED)


@pytest.mark.django_db
def test_the_cached_phase_follows_every_service(world: World) -> None:
    patient = world.shared_patient

    def cached() -> str:
        return Patient.objects.values_list("phase", flat=True).get(pk=patient.pk)

    def derived() -> str:
        return phases_now([patient.pk])[patient.pk]

    with time_machine.travel(dt.datetime(2027, 1, 1, 15, tzinfo=dt.UTC), tick=False):
        referral = draft_referral(world)
        assert cached() == derived() == Phase.REFERRAL
        referral = accept(world, referral)
        assert cached() == derived() == Phase.INSURANCE
        milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 2, 1))
        assert cached() == derived() == Phase.INSURANCE
        milestone_plan(
            actor=world.center_coordinator,
            referral=referral,
            kind="insurance_authorization",
            planned_on=dt.date(2026, 12, 30),
        )
        authorization = Milestone.objects.get(referral=referral, kind="insurance_authorization")
        milestone_complete(actor=world.center_coordinator, milestone=authorization, actual_on=dt.date(2026, 12, 30))
        assert cached() == derived() == Phase.APHERESIS


@pytest.mark.django_db
def test_the_beat_moves_the_cached_phase_when_a_planned_day_arrives(world: World) -> None:
    patient = world.shared_patient
    with time_machine.travel(dt.datetime(2027, 1, 20, 15, tzinfo=dt.UTC), tick=False):
        infused(world, dt.date(2027, 1, 26))
        assert Patient.objects.get(pk=patient.pk).phase == Phase.INSURANCE
    # Lymphodepletion starts on day -5, 21 January: the first pass after midnight in Chicago sees it.
    with time_machine.travel(dt.datetime(2027, 1, 21, 6, 7, tzinfo=dt.UTC), tick=False):
        assert refresh_phases_due() == 1
        assert Patient.objects.get(pk=patient.pk).phase == Phase.LYMPHODEPLETION
        assert refresh_phases_due() == 0


@pytest.mark.django_db
def test_timeline_strip_and_dashboard_show_the_derived_phase(client: Client, world: World) -> None:
    with time_machine.travel(dt.datetime(2027, 1, 20, 15, tzinfo=dt.UTC), tick=False):
        referral = infused(world, dt.date(2027, 1, 17))
        infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 17))
        login(client, world.community_oncologist)
        timeline = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
        dashboard = client.get(reverse("dashboard"), {"phase": Phase.MONITORING})

    assert 'aria-current="step">' in timeline.content.decode()
    current = timeline.content.decode().split('aria-current="step">', 1)[1].split("</li>", 1)[0]
    assert "Intensive monitoring" in current
    assert "Sharedcare, Sharon" in dashboard.content.decode()


# The path as the timeline's strip shows it: a phase is done only when its steps are recorded done.


def test_a_phase_passed_by_the_calendar_but_not_recorded_is_overdue_not_done() -> None:
    course = [
        done("insurance_authorization", days(-30)),
        M("apheresis", days(-20)),  # planned, its day passed, never recorded
        M("bridging_therapy", days(-10), status="cancelled"),
        M("lymphodepletion_start", days(-5)),
        done("lymphodepletion_end", days(-3)),
        M("infusion", days(-1)),
    ]
    phase = phase_of(state=State.ACCEPTED, milestones=course, today=TODAY)
    assert phase == Phase.INFUSION
    path = dict(phase_path(phase, course, TODAY))
    assert path[Phase.REFERRAL] == path[Phase.ELIGIBILITY] == PathStep.DONE  # the referral's own moves
    assert path[Phase.INSURANCE] == PathStep.DONE
    assert path[Phase.APHERESIS] == PathStep.OVERDUE
    assert path[Phase.MANUFACTURING] == PathStep.OVERDUE  # no cells without a recorded collection
    assert path[Phase.BRIDGING] == PathStep.UNRECORDED  # cancelled: not a step
    assert path[Phase.LYMPHODEPLETION] == PathStep.OVERDUE  # its end done, its start not
    assert path[Phase.INFUSION] == PathStep.CURRENT
    assert path[Phase.MONITORING] == path[Phase.LONG_TERM] == PathStep.FUTURE


def test_a_phase_behind_whose_step_is_still_ahead_is_due() -> None:
    course = [M("apheresis", days(2)), M("bridging_therapy", days(-1))]
    phase = phase_of(state=State.ACCEPTED, milestones=course, today=TODAY)
    assert phase == Phase.BRIDGING
    path = dict(phase_path(phase, course, TODAY))
    assert path[Phase.APHERESIS] == path[Phase.MANUFACTURING] == PathStep.DUE
    assert path[Phase.INSURANCE] == PathStep.UNRECORDED


def test_manufacturing_is_done_once_its_planned_release_is_recorded_not_with_the_collection_alone() -> None:
    collected = done("apheresis", days(-20))
    release = M("manufacturing_release", days(-2))  # planned, its day passed, not recorded
    course = [collected, release, M("lymphodepletion_start", days(-1))]
    phase = phase_of(state=State.ACCEPTED, milestones=course, today=TODAY)
    assert phase == Phase.LYMPHODEPLETION
    assert dict(phase_path(phase, course, TODAY))[Phase.MANUFACTURING] == PathStep.OVERDUE
    released = [collected, done("manufacturing_release", days(-2)), M("lymphodepletion_start", days(-1))]
    assert dict(phase_path(phase, released, TODAY))[Phase.MANUFACTURING] == PathStep.DONE
    no_release_planned = [collected, M("lymphodepletion_start", days(-1))]
    assert dict(phase_path(phase, no_release_planned, TODAY))[Phase.MANUFACTURING] == PathStep.DONE


def test_every_phase_behind_is_done_when_its_steps_are_recorded() -> None:
    course = [
        done("insurance_authorization", days(-60)),
        done("apheresis", days(-50)),
        done("lymphodepletion_start", days(-45)),
        done("lymphodepletion_end", days(-43)),
        done("infusion", days(-40)),
        done("monitoring_end", days(-26)),
        done("hand_back", days(-19)),
    ]
    phase = phase_of(state=State.ACCEPTED, milestones=course, today=TODAY)
    assert phase == Phase.FOLLOW_UP
    steps = [step for _phase, step in phase_path(phase, course, TODAY)]
    assert steps.count(PathStep.DONE) == list(Phase).index(Phase.FOLLOW_UP) - 1
    assert [phase for phase, step in phase_path(phase, course, TODAY) if step != PathStep.DONE] == [
        Phase.BRIDGING,  # none planned
        Phase.FOLLOW_UP,
        Phase.LONG_TERM,
    ]
