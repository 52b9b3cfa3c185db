"""Dates of a course that no longer fit it, once day 0 or another date has moved.

A date someone entered by hand is never replaced by a computed one, so after day 0 moves it
may fall on the wrong side of the infusion (a follow-up visit at day -14), before the step it
follows (lymphodepletion ending before it starts), or a hand-back may come before the end of
monitoring or of the stay near the center. Such a date is a conflict: shown on the timeline,
the work queue and the digest until someone moves it or confirms it with a reason.

`find_conflicts` is the rule, pure; `refresh_conflicts` keeps `Milestone.conflict` equal to it
after every change to a course (`referrals/tests/test_conflicts.py` checks both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from referrals.day_zero import day_zero_in
from referrals.milestones.kinds import PreparationKind, milestone_label
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind, day_label

# Steps that come before the infusion; every other kind but the infusion comes after it.
BEFORE_INFUSION: frozenset[str] = frozenset(
    {*PreparationKind, MilestoneKind.LYMPHODEPLETION_START, MilestoneKind.LYMPHODEPLETION_END}
)
# A step that cannot come before another one of the same course.
NOT_BEFORE: dict[str, str] = {
    MilestoneKind.LYMPHODEPLETION_END: MilestoneKind.LYMPHODEPLETION_START,
    PreparationKind.MANUFACTURING_RELEASE: PreparationKind.APHERESIS,
}
# The hand-back comes once monitoring and the stay near the center are over (FDA label, June 2025).
HAND_BACK_NOT_BEFORE = (MilestoneKind.MONITORING_END, MilestoneKind.STAY_NEAR_CENTER_END)


class Dated(Protocol):
    kind: str
    status: str
    planned_on: dt.date | None
    actual_on: dt.date | None


@dataclass(frozen=True)
class Conflict:
    """Why a planned date does not fit its course; `key` changes whenever the dates behind it do."""

    message: str
    key: str


def _on(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _when(milestone: Dated) -> dt.date | None:
    if milestone.status == Milestone.Status.CANCELLED:
        return None
    return milestone.actual_on or milestone.planned_on


def find_conflicts(day_zero: dt.date | None, milestones: Iterable[Dated]) -> dict[str, Conflict]:
    """The conflict of each planned milestone of one course whose date does not fit, by kind."""
    by_kind = {m.kind: m for m in milestones}
    conflicts: dict[str, Conflict] = {}
    for kind, milestone in by_kind.items():
        on = milestone.planned_on
        if milestone.status != Milestone.Status.PLANNED or on is None or kind == MilestoneKind.INFUSION:
            continue
        found = _against_day_zero(kind, on, day_zero) or _against_steps(kind, on, by_kind)
        if found is not None:
            conflicts[kind] = found
    return conflicts


def _against_day_zero(kind: str, on: dt.date, day_zero: dt.date | None) -> Conflict | None:
    if day_zero is None:
        return None
    where = f"{day_label(day_zero, on)} ({_on(on)})"
    if kind in BEFORE_INFUSION and on >= day_zero:
        return Conflict(f"Planned on {where}, not before the infusion on {_on(day_zero)}.", f"after0:{on}:{day_zero}")
    if kind not in BEFORE_INFUSION and on <= day_zero:
        return Conflict(f"Planned on {where}, not after the infusion on {_on(day_zero)}.", f"before0:{on}:{day_zero}")
    return None


def _against_steps(kind: str, on: dt.date, by_kind: dict[str, Dated]) -> Conflict | None:
    earlier = [NOT_BEFORE[kind]] if kind in NOT_BEFORE else []
    if kind == MilestoneKind.HAND_BACK:
        earlier = list(HAND_BACK_NOT_BEFORE)
    for other_kind in earlier:
        other = by_kind.get(other_kind)
        other_on = _when(other) if other is not None else None
        if other_on is not None and on < other_on:
            label = milestone_label(other_kind).lower()
            return Conflict(
                f"Planned on {_on(on)}, before “{label}” on {_on(other_on)}.", f"{other_kind}:{on}:{other_on}"
            )
    return None


def refresh_conflicts(referral: Referral) -> list[Milestone]:
    """Make each milestone's stored conflict the rule's answer; returns the conflicts this
    refresh found new (a date that did not conflict before, or conflicts differently)."""
    milestones = list(Milestone.objects.filter(referral=referral))
    conflicts = find_conflicts(day_zero_in(milestones), milestones)
    changed = []
    for milestone in milestones:
        found = conflicts.get(milestone.kind)
        message, key = (found.message, found.key) if found else ("", "")
        if (milestone.conflict, milestone.conflict_key) != (message, key):
            milestone.conflict, milestone.conflict_key = message, key
            changed.append(milestone)
    # Not audited: the conflict is a cache of the dates, which are.
    Milestone.objects.bulk_update(changed, ["conflict", "conflict_key"])
    return [m for m in changed if m.has_open_conflict]
