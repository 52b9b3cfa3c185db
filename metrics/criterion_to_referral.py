"""Access: how long after a referred patient first met a CAR-T criterion the practice referred
them, per practice (refer early: docs/clinicians/metrics.md).

The patients are those referred in the period (the access block's cohort), each counted once
per referring practice, at its first referral submitted in the period. The day each first met a
labelled use is the one their cached candidate standing holds (`CandidateStanding.first_met_on`:
`candidates.first_met`, the history as it stood on each dated event, found when the history or
the rules change); the days from it to the day the referral was submitted, in the practice's
time zone. A patient who first met one after that day, or never, was referred early; one
without a line recorded (no standing) cannot be placed and is counted apart.

One query whatever the number of patients; the grouping and percentiles are plain Python.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F

from carecoord.local_date import LocalDate
from metrics.access import referred
from metrics.scope import Cohort

ALL_PRACTICES = "All practices"


@dataclass(frozen=True)
class PracticeTiming:
    """One practice's referred patients: how many; of those who met a criterion first, the days
    from meeting it to the referral (how many, median, 90th percentile); those referred before
    meeting any; those without a recorded history."""

    practice: str
    referred: int
    met_first: int
    median: float | None
    p90: float | None
    early: int
    no_history: int


def percentile(values: Sequence[int], fraction: float) -> float | None:
    """As PostgreSQL's `percentile_cont` (the other spans' `metrics.sql.Percentile`): interpolated
    between the two nearest ranks; None of nothing."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class _Referred:
    practice: str
    submitted_on: dt.date
    has_history: bool
    first_met_on: dt.date | None


def _first_referrals(cohort: Cohort) -> list[_Referred]:
    """Each patient's first referral submitted in the period, per practice, with the patient's
    first-met day: one query."""
    rows = (
        referred(cohort)
        .annotate(submitted_on=LocalDate(F("submitted_at"), F("from_site__time_zone")))
        .order_by("submitted_at", "pk")
        .values_list(
            "patient_id",
            "from_site_id",
            "from_site__name",
            "submitted_on",
            "patient__candidate_standing__as_of",  # a standing exists: a line is recorded
            "patient__candidate_standing__first_met_on",
        )
    )
    first: dict[tuple[int, uuid.UUID], _Referred] = {}
    for patient_id, site_id, practice, submitted_on, as_of, first_met_on in rows:
        first.setdefault((site_id, patient_id), _Referred(practice, submitted_on, as_of is not None, first_met_on))
    return list(first.values())


def criterion_to_referral(cohort: Cohort) -> list[PracticeTiming]:
    """By practice (by name), then all practices together when there are several."""
    days: dict[str, list[int]] = defaultdict(list)
    early: dict[str, int] = defaultdict(int)
    no_history: dict[str, int] = defaultdict(int)
    referred_by: dict[str, int] = defaultdict(int)
    for first in _first_referrals(cohort):
        referred_by[first.practice] += 1
        if not first.has_history:
            no_history[first.practice] += 1
        elif first.first_met_on is None or first.first_met_on > first.submitted_on:
            early[first.practice] += 1
        else:
            days[first.practice].append((first.submitted_on - first.first_met_on).days)
    practices = sorted(referred_by)
    groups = [(name, [name]) for name in practices]
    if len(practices) > 1:
        groups.append((ALL_PRACTICES, practices))
    rows = []
    for label, names in groups:
        spans = [day for name in names for day in days[name]]
        rows.append(
            PracticeTiming(
                practice=label,
                referred=sum(referred_by[name] for name in names),
                met_first=len(spans),
                median=percentile(spans, 0.5),
                p90=percentile(spans, 0.9),
                early=sum(early[name] for name in names),
                no_history=sum(no_history[name] for name in names),
            )
        )
    return rows
