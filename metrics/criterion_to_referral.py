"""Access: how long after a referred patient first met a CAR-T criterion the practice referred
them, per practice (refer early: docs/clinicians/metrics.md).

The patients are those referred in the period (the access block's cohort), each counted once
per referring practice, at its first referral submitted in the period. For each, the day the
treatment history first met a labelled use (`candidates.first_met`: the history as it stood on
each dated event, the rules as they are now) up to the day the referral was submitted, in the
practice's time zone; the days between the two. A patient whose history met no use by then was
referred early; one without any line recorded cannot be placed and is counted apart.

Four queries whatever the number of patients: the referrals, their patients' lines, their
transplant candidacies, the rules; the rest is plain Python.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F

from candidates.first_met import DatedHistory, first_met
from candidates.matching import History, Line, Transplant
from candidates.models import TherapyLine, TransplantCandidacy
from candidates.selectors import active_rules, line_of
from metrics.access import referred
from metrics.scope import Cohort
from metrics.sql import LocalDate

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
    patient_id: uuid.UUID
    practice: str
    submitted_on: dt.date
    disease_area: str
    born_on: dt.date


def _first_referrals(cohort: Cohort) -> list[_Referred]:
    """Each patient's first referral submitted in the period, per practice."""
    rows = (
        referred(cohort)
        .annotate(submitted_on=LocalDate(F("submitted_at"), F("from_site__time_zone")))
        .order_by("submitted_at", "pk")
        .values_list(
            "patient_id",
            "from_site_id",
            "from_site__name",
            "submitted_on",
            "patient__disease_area",
            "patient__date_of_birth",
        )
    )
    first: dict[tuple[int, uuid.UUID], _Referred] = {}
    for patient_id, site_id, practice, submitted_on, disease_area, born_on in rows:
        first.setdefault((site_id, patient_id), _Referred(patient_id, practice, submitted_on, disease_area, born_on))
    return list(first.values())


def _histories(cohort: Cohort, patients: dict[uuid.UUID, _Referred]) -> dict[uuid.UUID, DatedHistory]:
    """The dated history of each referred patient with a line recorded: two queries."""
    referred_patients = referred(cohort).values("patient_id")
    lines: dict[uuid.UUID, list[Line]] = defaultdict(list)
    refractory_on: dict[uuid.UUID, dict[int, dt.date]] = defaultdict(dict)
    for line in (
        TherapyLine.objects.filter(patient_id__in=referred_patients)
        .annotate(recorded_on=LocalDate(F("created_at"), F("site__time_zone")))
        .order_by("patient_id", "number")
    ):
        lines[line.patient_id].append(line_of(line))
        refractory_on[line.patient_id][line.number] = line.progressed_on or line.ended_on or line.recorded_on
    candidacies = {
        patient_id: (Transplant(status), recorded_on)
        for patient_id, status, recorded_on in TransplantCandidacy.objects.filter(patient_id__in=referred_patients)
        .annotate(recorded_on=LocalDate(F("updated_at"), F("site__time_zone")))
        .values_list("patient_id", "status", "recorded_on")
    }
    histories = {}
    for patient_id, patient_lines in lines.items():
        patient = patients[patient_id]
        transplant, transplant_on = candidacies.get(patient_id, (Transplant.UNKNOWN, None))
        history = History(patient.disease_area, patient.born_on, tuple(patient_lines), transplant)
        histories[patient_id] = DatedHistory(history, refractory_on[patient_id], transplant_on)
    return histories


def criterion_to_referral(cohort: Cohort) -> list[PracticeTiming]:
    """By practice (by name), then all practices together when there are several."""
    firsts = _first_referrals(cohort)
    if not firsts:
        return []
    histories = _histories(cohort, {r.patient_id: r for r in firsts})
    rules = active_rules()
    days: dict[str, list[int]] = defaultdict(list)
    early: dict[str, int] = defaultdict(int)
    no_history: dict[str, int] = defaultdict(int)
    referred_by: dict[str, int] = defaultdict(int)
    for first in firsts:
        referred_by[first.practice] += 1
        dated = histories.get(first.patient_id)
        if dated is None:
            no_history[first.practice] += 1
        elif (met_on := first_met(dated, rules, first.submitted_on)) is None:
            early[first.practice] += 1
        else:
            days[first.practice].append((first.submitted_on - met_on).days)
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
