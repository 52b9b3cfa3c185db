"""What the work queue's kept lists (`built_per_shape`, `read_per_shape`) must still answer:
each person's own lab notices, the items that fall due as the days pass (prophylaxis stops,
milestones), and a kept list filtered on a window function."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db.models import Count, QuerySet, Window

from carecoord.access import patients_visible_to
from carecoord.models import Patient, User
from carecoord.roles import Role
from carecoord.selectors.sites import active_memberships_of
from carecoord.work_queue import QueueScope, read_per_shape
from infections.contributions import queue_prevention_due
from infections.rules import DUE_DAYS
from infections.services import ProphylaxisInput, prophylaxis_add
from labs.contributions import queue_lab_flags
from labs.kinds import LabKind
from labs.models import LabFlagNotice, LabResult
from referrals.contributions import queue_milestones_due
from referrals.milestones.services import milestone_plan
from tests.factories import member
from tests.helpers import World, accept, draft_referral, in_a_request
from workspace.work_queue import queue_scope

pytestmark = pytest.mark.django_db


def _notice_to_oncologist(world: World) -> LabFlagNotice:
    result = LabResult.objects.create(
        patient=world.shared_patient,
        kind=LabKind.ANC,
        value=300,
        unit="cells/µL",
        entered_value=0.3,
        entered_unit="10^9/L",
        taken_on=world.practice.today(),
        site=world.practice,
        recorded_by=world.community_coordinator,
        flagged=True,
        flag_below=500,
    )
    return LabFlagNotice.objects.create(
        result=result, recipient=world.community_oncologist, site=world.practice, role="primary"
    )


def test_people_of_one_shape_each_see_their_own_lab_notices(world: World) -> None:
    """`per_user=True` on the lab notices: the statement holds `recipient_id = <viewer>`."""
    notice = _notice_to_oncologist(world)
    colleague = member(world.practice, Role.PHYSICIAN)  # the oncologist's role at the same site

    def read(user: User) -> list[LabFlagNotice]:
        return in_a_request(lambda: list(queue_lab_flags(queue_scope(user, active_memberships_of(user)))))

    assert read(world.community_oncologist) == [notice]
    assert read(colleague) == []


def test_a_prophylaxis_stop_falls_due_on_the_day_it_enters_the_window(world: World) -> None:
    """`dated=True` on the prevention lists: the statement holds `today + DUE_DAYS`."""
    user = world.community_oncologist
    scope = queue_scope(user, active_memberships_of(user))
    prophylaxis_add(
        actor=user,
        patient=world.shared_patient,
        site=world.practice,
        item=ProphylaxisInput(
            kind="antifungal",
            agent="Fluconazole 400 mg daily",
            start_on=scope.today - dt.timedelta(days=20),
            planned_stop_on=scope.today + dt.timedelta(days=DUE_DAYS + 1),
            stop_condition="Until ANC > 500/µL",
        ),
    )
    assert in_a_request(lambda: queue_prevention_due(scope)) == []
    tomorrow = dataclasses.replace(
        scope, today=scope.today + dt.timedelta(days=1), week_end=scope.week_end + dt.timedelta(days=1)
    )
    assert [row.patient for row in in_a_request(lambda: queue_prevention_due(tomorrow))] == [world.shared_patient]


def test_a_milestone_falls_due_on_the_day_it_enters_the_coming_week(world: World) -> None:
    """`dated=True` on the milestones due: the statement holds the week's end."""
    user = world.center_coordinator
    scope = queue_scope(user, active_memberships_of(user))
    referral = accept(world, draft_referral(world))
    planned = milestone_plan(
        actor=user, referral=referral, kind="apheresis", planned_on=scope.week_end + dt.timedelta(days=1)
    )
    assert planned not in [milestone for milestone, _label in in_a_request(lambda: queue_milestones_due(scope))]
    tomorrow = dataclasses.replace(
        scope, today=scope.today + dt.timedelta(days=1), week_end=scope.week_end + dt.timedelta(days=1)
    )
    assert planned in [milestone for milestone, _label in in_a_request(lambda: queue_milestones_due(tomorrow))]


def test_a_kept_list_may_filter_on_a_window_function(world: World) -> None:
    """Django compiles a filter on a window (QUALIFY) through a clone of the query, which carries
    `KeptStatement`'s patched `get_compiler` (an instance attribute: `Query.clone` copies
    `__dict__`) and so compiles the outer query again, for ever."""

    def counted(scope: QueueScope) -> QuerySet[Patient]:
        visible = patients_visible_to(scope.user).annotate(seen=Window(Count("pk")))
        return visible.filter(seen__gte=1).order_by("family_name")

    kept = read_per_shape()(counted)
    user = world.community_oncologist
    scope = queue_scope(user, active_memberships_of(user))
    assert list(counted(scope)) == [world.shared_patient]
    assert in_a_request(lambda: kept(scope)) == [world.shared_patient]
