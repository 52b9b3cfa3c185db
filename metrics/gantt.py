"""Patient paths: each course infused in the period as one row of steps (apheresis,
manufacturing, bridging, infusion, monitoring, hand-back), for the Gantt chart of the metrics.

The cohort is the safety block's: the infusions marked done in the period (`safety.treated`),
of the viewer's patients, in order of the day of infusion, the first `PATH_LIMIT` of them. A
step's day is its milestone's: the actual day once done, else the planned day (shown as
planned); a cancelled step has none. Each row names its patient by the minimum that
identifies them to the viewer (docs/clinical-rules.md#minimum-phi): the MRN at the chosen site
(or at the first of the viewer's sites that has one), else the initials. Two queries whatever
the number of courses: the courses listed with their total (by a window), then their steps.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery, Window
from django.db.models.functions import Left

from calendars.selectors import patient_label
from carecoord.models import PatientIdentifier
from metrics.charts import Step
from metrics.safety import treated
from metrics.scope import Cohort
from referrals.milestones.kinds import PreparationKind
from referrals.models import Milestone
from referrals.schedule import MilestoneKind

PATH_LIMIT = 40  # rows drawn and listed; the rest are counted ("first 40 of 52")

# The milestones a path reads, by the name of its annotation.
STEPS: dict[str, str] = {
    "apheresis": PreparationKind.APHERESIS,
    "release": PreparationKind.MANUFACTURING_RELEASE,
    "bridging": PreparationKind.BRIDGING_THERAPY,
    "lymphodepletion": MilestoneKind.LYMPHODEPLETION_START,
    "monitoring_end": MilestoneKind.MONITORING_END,
    "hand_back": MilestoneKind.HAND_BACK,
}


@dataclass(frozen=True)
class Day:
    """A step's day, and whether it is only planned (not marked done yet)."""

    on: dt.date
    planned: bool


@dataclass(frozen=True)
class Path:
    """One course: its patient (id, and the label shown), its product and the days of its steps."""

    patient_id: uuid.UUID
    referral_id: int
    label: str
    product: str
    infusion: dt.date
    apheresis: Day | None
    release: Day | None
    bridging: Day | None
    lymphodepletion: Day | None
    monitoring_end: Day | None
    hand_back: Day | None

    def day(self, step: Day | None) -> int | None:
        """`step` as days from the infusion (day 0): -35, +21."""
        return None if step is None else (step.on - self.infusion).days


@dataclass(frozen=True)
class Paths:
    rows: list[Path]
    total: int  # the courses of the cohort, of which `rows` are the first


def _step(kind: str) -> FilteredRelation:
    """The course's milestone `kind`, unless cancelled: a join of one row at most."""
    return FilteredRelation(
        "referral__milestones",
        condition=Q(referral__milestones__kind=kind) & ~Q(referral__milestones__status=Milestone.Status.CANCELLED),
    )


def _day(row: dict[str, Any], name: str) -> Day | None:
    actual, planned, status = row[f"{name}_actual"], row[f"{name}_planned"], row[f"{name}_status"]
    if status == Milestone.Status.DONE and actual is not None:
        return Day(actual, planned=False)
    return Day(planned, planned=True) if planned is not None else None


def _label_sites(cohort: Cohort) -> list[int]:
    """Whose MRN names a patient: the chosen site's, else the viewer's sites' (first by id)."""
    if cohort.site_id is not None:
        return [cohort.site_id] if cohort.site_id in cohort.own_site_ids else []
    return sorted(cohort.own_site_ids)


NAMED = ("referral_id", "patient_id", "product", "mrn", "given_initial", "family_initial")


def patient_paths(cohort: Cohort, limit: int = PATH_LIMIT) -> Paths:
    # First the courses listed and how many there are (the window counts them before the
    # limit), then their steps: joined for the rows listed only, not for every course of the
    # period (238 ms for 8,768 courses over five years, most of it in the joins).
    first = list(
        treated(cohort)
        .annotate(total=Window(Count("pk")))
        .order_by("actual_on", "referral_id")
        .values_list("pk", "total")[:limit]
    )
    if not first:
        return Paths([], 0)
    mrn = (
        PatientIdentifier.objects.filter(patient_id=OuterRef("referral__patient_id"), site_id__in=_label_sites(cohort))
        .order_by("site_id")
        .values("mrn")[:1]
    )
    columns = {
        f"{name}_{part}": F(f"{name}__{field}")
        for name in STEPS
        for part, field in (("actual", "actual_on"), ("planned", "planned_on"), ("status", "status"))
    }
    rows = list(
        Milestone.objects.filter(pk__in=[pk for pk, _ in first])
        .annotate(**{name: _step(kind) for name, kind in STEPS.items()})
        .annotate(
            patient_id=F("referral__patient_id"),
            product=F("referral__product__brand_name"),
            mrn=Subquery(mrn),
            given_initial=Left("referral__patient__given_name", 1),
            family_initial=Left("referral__patient__family_name", 1),
            **columns,
        )
        .order_by("actual_on", "referral_id")
        .values(*NAMED, "actual_on", *columns)
    )
    paths = [
        Path(
            patient_id=row["patient_id"],
            referral_id=row["referral_id"],
            label=patient_label(row["mrn"], row["given_initial"], row["family_initial"]),
            product=row["product"] or "Product not recorded",
            infusion=row["actual_on"],
            **{name: _day(row, name) for name in STEPS},
        )
        for row in rows
    ]
    return Paths(paths, first[0][1])


def _planned(*days: Day | None) -> bool:
    return any(day is not None and day.planned for day in days)


def path_steps(path: Path) -> list[Step]:
    """The bars of a course, in the order they are drawn (a later one over an earlier one):
    manufacturing from apheresis to the product's release, bridging up to the day before
    lymphodepletion (or day 0), monitoring from day 0 to the end of its window."""
    apheresis, release, bridging = path.day(path.apheresis), path.day(path.release), path.day(path.bridging)
    monitoring, hand_back = path.day(path.monitoring_end), path.day(path.hand_back)
    steps = []
    if apheresis is not None and release is not None:
        steps.append(Step("Manufacturing", apheresis, max(release, apheresis), _planned(path.apheresis, path.release)))
    if apheresis is not None:
        steps.append(Step("Apheresis", apheresis, apheresis, _planned(path.apheresis)))
    if bridging is not None:
        until = (path.day(path.lymphodepletion) or 0) - 1
        steps.append(Step("Bridging", bridging, max(until, bridging), _planned(path.bridging)))
    if monitoring is not None and monitoring >= 0:
        steps.append(Step("Monitoring", 0, monitoring, _planned(path.monitoring_end)))
    steps.append(Step("Infusion", 0, 0, planned=False))
    if hand_back is not None:
        steps.append(Step("Hand-back", hand_back, hand_back, _planned(path.hand_back)))
    return steps
