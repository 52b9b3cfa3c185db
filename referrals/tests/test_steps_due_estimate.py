"""The lists of steps due (`MilestoneQuerySet.due_by`) filter on an expression PostgreSQL keeps
statistics of (migration 0007), so that it plans them for the few steps due and not for a
quarter of every step ever recorded: the mistake that sent the milestones-due page into a
parallel hash join of every referral, slower the more patients a person sees."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.utils import timezone

from referrals.models import Milestone
from tests.helpers import World, accepted_referral

DONE, FUTURE, OVERDUE = 200, 95, 5


def estimated_rows(sql_plan: str) -> float:
    return float(json.loads(sql_plan)[0]["Plan"]["Plan Rows"])


def test_the_planner_expects_the_steps_due_not_every_planned_step(world: World) -> None:
    today = timezone.localdate()
    referral = accepted_referral(world)
    Milestone.objects.filter(referral=referral).delete()
    # Done steps lie in the past, planned ones mostly ahead: the dates and the status are
    # correlated, which the columns' own statistics cannot tell.
    rows = [
        Milestone(referral=referral, kind=f"done-{i}", status="done", planned_on=today - dt.timedelta(days=1 + i))
        for i in range(DONE)
    ]
    rows += [
        Milestone(referral=referral, kind=f"ahead-{i}", planned_on=today + dt.timedelta(days=30 + i))
        for i in range(FUTURE)
    ]
    rows += [
        Milestone(referral=referral, kind=f"late-{i}", planned_on=today - dt.timedelta(days=1 + i))
        for i in range(OVERDUE)
    ]
    Milestone.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_milestone")
    due = Milestone.objects.due_by(today).order_by().values("pk")
    assert due.count() == OVERDUE
    # Without the expression's statistics PostgreSQL guesses a third of the planned steps (33)
    # or, from the two columns, two thirds of them (65); with them, about the five there are.
    estimate = estimated_rows(due.explain(format="json"))
    assert estimate <= 3 * OVERDUE, estimate
