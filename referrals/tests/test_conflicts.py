"""Dates that no longer fit their course after day 0 moves: shown until moved or confirmed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from referrals.conflicts import find_conflicts
from referrals.milestones.services import (
    milestone_confirm_conflict,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
)
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.services import referral_set_plan
from tests.helpers import World, dashboard_queue, infused, login, name_point_persons
from workspace.digests.build import build_digest

DAY_ZERO = dt.date(2027, 3, 1)
NOW = dt.datetime(2027, 2, 1, 15, tzinfo=dt.UTC)


@dataclass
class M:
    kind: str
    planned_on: dt.date | None
    status: str = "planned"
    actual_on: dt.date | None = None


def kinds(conflicts: Mapping[str, object]) -> set[str]:
    return set(conflicts)


def test_a_visit_on_or_before_day_0_conflicts() -> None:
    found = find_conflicts(DAY_ZERO, [M("visit_day_30", dt.date(2027, 2, 15)), M("visit_day_60", DAY_ZERO)])
    assert kinds(found) == {"visit_day_30", "visit_day_60"}
    assert "day -14" in found["visit_day_30"].message and "not after the infusion" in found["visit_day_30"].message


def test_a_preparation_step_on_or_after_day_0_conflicts() -> None:
    found = find_conflicts(
        DAY_ZERO,
        [M("apheresis", dt.date(2027, 3, 2)), M("lymphodepletion_end", DAY_ZERO), M("consult", dt.date(2027, 1, 2))],
    )
    assert kinds(found) == {"apheresis", "lymphodepletion_end"}


def test_a_step_before_the_step_it_follows_conflicts() -> None:
    found = find_conflicts(
        DAY_ZERO,
        [
            M("lymphodepletion_start", dt.date(2027, 2, 25)),
            M("lymphodepletion_end", dt.date(2027, 2, 24)),
            M("apheresis", dt.date(2027, 2, 1), "done", dt.date(2027, 2, 3)),
            M("manufacturing_release", dt.date(2027, 2, 2)),
        ],
    )
    assert kinds(found) == {"lymphodepletion_end", "manufacturing_release"}
    assert "before “apheresis" in found["manufacturing_release"].message


def test_a_hand_back_before_the_end_of_monitoring_or_of_the_stay_near_the_center_conflicts() -> None:
    found = find_conflicts(
        DAY_ZERO,
        [
            M("monitoring_end", dt.date(2027, 3, 15)),
            M("stay_near_center_end", dt.date(2027, 3, 29)),
            M("hand_back", dt.date(2027, 3, 20)),
        ],
    )
    assert kinds(found) == {"hand_back"}
    assert "stay near the center ends" in found["hand_back"].message


def test_done_and_cancelled_steps_and_dates_without_day_0_do_not_conflict() -> None:
    assert find_conflicts(DAY_ZERO, [M("visit_day_30", dt.date(2027, 2, 1), "cancelled")]) == {}
    assert find_conflicts(DAY_ZERO, [M("visit_day_30", dt.date(2027, 2, 1), "done", dt.date(2027, 2, 1))]) == {}
    assert find_conflicts(None, [M("visit_day_30", dt.date(2027, 2, 1))]) == {}


def test_the_key_changes_when_the_dates_behind_a_conflict_change() -> None:
    first = find_conflicts(DAY_ZERO, [M("visit_day_30", dt.date(2027, 2, 15))])["visit_day_30"]
    moved = find_conflicts(dt.date(2027, 3, 8), [M("visit_day_30", dt.date(2027, 2, 15))])["visit_day_30"]
    assert first.key != moved.key


def _visit(referral: Referral) -> Milestone:
    return Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)


@pytest.fixture
def moved(world: World) -> Referral:
    """Day 0 on 1 Mar, the day-30 visit set by hand on 25 Mar, then the infusion moved to 1 Apr."""
    with time_machine.travel(NOW, tick=False):
        referral = infused(world, DAY_ZERO)
        milestone_move(
            actor=world.center_coordinator,
            milestone=_visit(referral),
            planned_on=dt.date(2027, 3, 25),
            reason="Clinic day",
        )
        assert not _visit(referral).has_open_conflict
        milestone_set_infusion(
            actor=world.center_coordinator,
            referral=referral,
            infusion_on=dt.date(2027, 4, 1),
            reason="Product release delayed",
        )
    return referral


@pytest.mark.django_db
def test_a_date_entered_by_hand_stays_and_is_flagged_after_day_0_moves(world: World, moved: Referral) -> None:
    visit = _visit(moved)
    assert visit.planned_on == dt.date(2027, 3, 25)
    assert visit.has_open_conflict
    assert "day -7" in visit.conflict
    entry = world.shared_patient.timeline.latest("occurred_at", "pk")
    assert entry.title == "Infusion moved from 1 Mar 2027 to 1 Apr 2027"
    assert "1 planned date conflicts with the course" in entry.body and "Follow-up visit, day 30" in entry.body


@pytest.mark.django_db
def test_the_cache_always_equals_the_rule(world: World, moved: Referral) -> None:
    milestones = list(Milestone.objects.filter(referral=moved))
    rule = find_conflicts(dt.date(2027, 4, 1), milestones)
    assert {m.kind: m.conflict for m in milestones if m.conflict} == {kind: c.message for kind, c in rule.items()}


@pytest.mark.django_db
def test_confirming_a_conflict_needs_a_reason_and_is_on_the_timeline(world: World, moved: Referral) -> None:
    with pytest.raises(ValidationError) as refused:
        milestone_confirm_conflict(actor=world.community_oncologist, milestone=_visit(moved), reason=" ")
    assert "reason" in refused.value.message_dict

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        kept = milestone_confirm_conflict(
            actor=world.community_oncologist, milestone=_visit(moved), reason="Restaging scan booked that day"
        )
    assert not kept.has_open_conflict and kept.has_confirmed_conflict
    entry = world.shared_patient.timeline.latest("occurred_at", "pk")
    assert entry.title == "Follow-up visit, day 30 kept on 25 Mar 2027 despite a conflict"
    assert "Restaging scan booked that day" in entry.body
    # A new move of day 0 makes it a new conflict, which shows again.
    milestone_set_infusion(
        actor=world.center_coordinator, referral=moved, infusion_on=dt.date(2027, 4, 8), reason="Bed availability"
    )
    assert _visit(moved).has_open_conflict


@pytest.mark.django_db
def test_moving_the_date_clears_the_conflict(world: World, moved: Referral) -> None:
    with time_machine.travel(NOW, tick=False):
        milestone_move(
            actor=world.center_coordinator, milestone=_visit(moved), planned_on=dt.date(2027, 5, 1), reason="Follows"
        )
    visit = _visit(moved)
    assert (visit.conflict, visit.has_open_conflict) == ("", False)


@pytest.mark.django_db
def test_a_hand_back_planned_before_the_stay_near_the_center_ends_is_flagged(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        referral = infused(world, DAY_ZERO)
        referral_set_plan(actor=world.center_coordinator, referral=referral, product=None, hand_back_day=10)
    hand_back = Milestone.objects.get(referral=referral, kind=MilestoneKind.HAND_BACK)
    assert hand_back.has_open_conflict
    assert "before “monitoring ends”" in hand_back.conflict


@pytest.mark.django_db
def test_conflicts_show_on_the_timeline_the_work_queue_and_the_digest(
    client: Client, world: World, moved: Referral
) -> None:
    name_point_persons(world)
    visit = _visit(moved)
    with time_machine.travel(NOW, tick=False):
        login(client, world.center_coordinator)
        timeline = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})).content
        dashboard = dashboard_queue(client).content
        digest = build_digest(world.community_oncologist, dt.date(2027, 2, 1), NOW.date())

    assert b"Date conflicts" in timeline and b"Keep this date" in timeline
    assert f"#milestone-{visit.pk}".encode() in dashboard and b"Date conflicts" in dashboard
    assert any("Date conflict: Follow-up visit, day 30" in line for line in digest.patients[0].overdue)


@pytest.mark.django_db
def test_confirming_from_the_timeline_redirects_with_a_message(client: Client, world: World, moved: Referral) -> None:
    login(client, world.community_oncologist)
    visit = _visit(moved)
    url = reverse("milestone-confirm", kwargs={"milestone_id": visit.pk})

    missing = client.post(url, {"reason": ""})
    assert missing.status_code == 400 and b"Say why the date stays as it is." in missing.content

    response = client.post(url, {"reason": "Scan booked"}, follow=True)
    assert b"kept on 25 Mar 2027" in response.content
    assert not _visit(moved).has_open_conflict


@pytest.mark.django_db
def test_planning_a_preparation_step_after_day_0_is_flagged(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        referral = infused(world, DAY_ZERO)
        step = milestone_plan(
            actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2027, 3, 5)
        )
    step.refresh_from_db()
    assert step.has_open_conflict and "not before the infusion" in step.conflict


@pytest.mark.django_db
def test_a_later_unrelated_change_does_not_report_the_conflict_again(world: World, moved: Referral) -> None:
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        milestone_plan(actor=world.center_coordinator, referral=moved, kind="consult", planned_on=dt.date(2027, 2, 10))
    entry = world.shared_patient.timeline.latest("occurred_at", "pk")
    assert entry.title == "Consult at the center planned for 10 Feb 2027"
    assert "conflict" not in entry.body
    assert _visit(moved).has_open_conflict  # still shown on the page, the work queue and the digest


@pytest.mark.django_db
def test_the_work_queues_conflicts_past_its_cap_link_to_the_patients_needing_my_action(
    client: Client, world: World, moved: Referral, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("workspace.work_queue.WORK_QUEUE_LIMIT", 0)  # every conflict is past the cap
    with time_machine.travel(NOW, tick=False):
        login(client, world.center_coordinator)
        html = dashboard_queue(client).content.decode()
    conflicts = html.split('id="conflicts-heading"', 1)[1].split("</section>", 1)[0]
    link = f'<a href="{reverse("dashboard")}?needs_action=on#patients-heading">all the patients needing my action</a>'
    assert f"Showing the first 0: {link}" in conflicts
