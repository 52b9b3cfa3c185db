"""Safety: what happened to the patients infused in the period.

The cohort is the infusions marked done in the period (a patient infused twice counts twice)
of the viewer's patients. A toxicity, treatment or infection counts for a course when it
began on or after that course's day 0 (in the time zone of the site that recorded it). Days
+N of events are counted from the patient's day 0 (`referrals.day_zero`). Eight queries
whatever the number of patients (`docs/clinicians/metrics.md` defines each figure).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from carecoord.local_date import LocalDate
from carecoord.models import DeathCause, PatientDeath
from carecoord.models.deaths import NON_RELAPSE_CAUSES, alive
from infections.models import InfectionEvent
from metrics.figures import Month, Tally, binned, by_month
from metrics.scope import Cohort
from metrics.sql import DaysBetween, flag
from referrals.day_zero import day_zero_subquery
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from toxicity.kinds import ToxicityKind, death_cause_of
from toxicity.models import FATAL_GRADE, ToxicityEvent, ToxicityTreatment, fatal_event

NO_PRODUCT = "Product not recorded"
SEVERE = 3  # grade 3 and above: severe (ASTCT, CTCAE)

# Onset of CRS and ICANS, in days after the infusion (lower bound, label). A first CRS after
# day +14 is atypical (Ahmed et al., Blood Advances 2024; docs/clinical-rules.md).
ONSET_BINS: tuple[tuple[int, str], ...] = (
    (0, "day 0-3"),
    (4, "day 4-7"),
    (8, "day 8-14"),
    (15, "day 15-28"),
    (29, "after day 28"),
)
ATYPICAL_CRS_AFTER = 14
# Infections by the time after the infusion: early (first month), to day 90, to a year, later.
INFECTION_BINS: tuple[tuple[int, str], ...] = (
    (0, "day 0-30"),
    (31, "day 31-90"),
    (91, "day 91-365"),
    (366, "after a year"),
)
LATE_KINDS = (ToxicityKind.OTHER_NEUROTOXICITY, ToxicityKind.SECONDARY_MALIGNANCY)


@dataclass(frozen=True)
class GradeRow:
    """How many courses of a product reached each highest grade (0: none) of CRS or ICANS."""

    product: str
    courses: int
    by_grade: dict[int, int]


class CourseRow(NamedTuple):
    """The courses of one product, highest grades, month and treatments (`_courses`)."""

    product: str
    crs: int
    icans: int
    month: dt.date
    tocilizumab: bool
    steroids: bool
    icu: bool
    n: int


@dataclass(frozen=True)
class SafetyFigures:
    infused: int
    crs: list[GradeRow]
    icans: list[GradeRow]
    onset: dict[str, list[Tally]]  # "CRS", "ICANS" -> onset day distribution
    late: list[Tally]  # atypical or late events
    treatments: list[Tally]  # courses with tocilizumab, steroids, an ICU stay
    infections: list[Tally]  # infections by day range
    severe_infections: list[Tally]
    deaths: list[Tally]  # by cause, as recorded
    months: list[Month]  # infusions, and courses with severe CRS or ICANS, by month


def treated(cohort: Cohort) -> QuerySet[Milestone]:
    """The infusions counted: done in the period, of a counted referral."""
    return Milestone.objects.filter(
        cohort.referrals("referral"),
        cohort.period.days("actual_on"),
        kind=MilestoneKind.INFUSION,
        status=Milestone.Status.DONE,
    )


def _since_infusion(rows: QuerySet[Any], moment: str, zone: str) -> QuerySet[Any]:
    """`rows` of the course's patient whose `moment` falls on or after its day 0."""
    return rows.annotate(local_on=LocalDate(F(moment), F(zone))).filter(local_on__gte=OuterRef("actual_on"))


def _highest(kind: str) -> Coalesce:
    events = _since_infusion(
        ToxicityEvent.objects.filter(patient=OuterRef("referral__patient"), kind=kind),
        "onset_at",
        "reporting_site__time_zone",
    )
    worst = events.order_by().values("patient").annotate(worst=Max("highest_grade")).values("worst")
    return Coalesce(Subquery(worst, output_field=IntegerField()), Value(0))


def _treated_with(*kinds: str) -> Exists:
    given = ToxicityTreatment.objects.filter(event__patient=OuterRef("referral__patient"), kind__in=kinds)
    return Exists(_since_infusion(given, "given_at", "site__time_zone"))


def _infection(condition: Q) -> Exists:
    infections = InfectionEvent.objects.filter(condition, patient=OuterRef("referral__patient"))
    return Exists(infections.filter(onset_on__gte=OuterRef("actual_on")))


def _graded(cohort: Cohort) -> QuerySet[Any]:
    """The infusions counted, with the product and the highest CRS and ICANS grade of the course."""
    return treated(cohort).annotate(
        product=Coalesce(F("referral__product__brand_name"), Value(NO_PRODUCT), output_field=CharField()),
        crs=_highest(ToxicityKind.CRS),
        icans=_highest(ToxicityKind.ICANS),
    )


def _grade_rows(rows: list[dict[str, Any]], kind: str) -> list[GradeRow]:
    by_product: dict[str, Counter[int]] = {}
    for row in rows:
        by_product.setdefault(row["product"], Counter())[row[kind]] += row["n"]
    return [
        GradeRow(product, sum(grades.values()), {grade: grades.get(grade, 0) for grade in range(6)})
        for product, grades in sorted(by_product.items())
    ]


def _with_total(rows: list[GradeRow]) -> list[GradeRow]:
    if len(rows) < 2:
        return rows
    total = {grade: sum(r.by_grade[grade] for r in rows) for grade in range(6)}
    return [*rows, GradeRow("All products", sum(r.courses for r in rows), total)]


def _courses(cohort: Cohort) -> list[CourseRow]:
    """The infusions counted, grouped by everything the block tells of a course: its product,
    highest CRS and ICANS grades, month, and whether tocilizumab, steroids or the ICU came
    after day 0. One query; each course's lookups run once (grouped by, not filtered on),
    and the rows are a few per product and month, not one per patient."""
    icu = Q(_treated_with(ToxicityTreatment.Kind.ICU_TRANSFER)) | Q(_infection(Q(setting=InfectionEvent.Setting.ICU)))
    rows = (
        _graded(cohort)
        .annotate(
            month=TruncMonth("actual_on", output_field=DateField()),
            tocilizumab=_treated_with(ToxicityTreatment.Kind.TOCILIZUMAB),
            steroids=_treated_with(ToxicityTreatment.Kind.CORTICOSTEROID),
            icu=ExpressionWrapper(icu, output_field=BooleanField()),
        )
        .values_list("product", "crs", "icans", "month", "tocilizumab", "steroids", "icu")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [CourseRow(*row) for row in rows]


def safety_figures(cohort: Cohort) -> SafetyFigures:
    courses = _courses(cohort)
    grades = [{"product": c.product, "crs": c.crs, "icans": c.icans, "n": c.n} for c in courses]
    patients = treated(cohort).values("referral__patient_id")
    onset, late = _onsets(patients)
    infections, severe = _infections(patients)
    return SafetyFigures(
        infused=sum(c.n for c in courses),
        crs=_with_total(_grade_rows(grades, "crs")),
        icans=_with_total(_grade_rows(grades, "icans")),
        onset=onset,
        late=late,
        treatments=[
            Tally("Tocilizumab given", sum(c.n for c in courses if c.tocilizumab)),
            Tally("Corticosteroids given", sum(c.n for c in courses if c.steroids)),
            Tally("ICU stay", sum(c.n for c in courses if c.icu)),
        ],
        infections=infections,
        severe_infections=severe,
        deaths=_deaths(patients),
        months=_months(cohort, courses),
    )


def _by_day_after_day_zero(rows: QuerySet[Any], on: Any, *also: str) -> QuerySet[Any]:
    """How many `rows` (of a patient) fall on each day counted from the patient's day 0 to `on`
    (and each value of `also`): grouped by the day itself, so that PostgreSQL computes each
    row's day once (a CASE over it, or filters on it, would run the day-0 lookup once each)."""
    dated = rows.annotate(day=DaysBetween(on, day_zero_subquery("patient_id")))
    return dated.values("day", *also).annotate(n=Count("pk")).order_by()


def _onsets(patients: QuerySet[Any]) -> tuple[dict[str, list[Tally]], list[Tally]]:
    events = ToxicityEvent.objects.filter(
        patient_id__in=patients, kind__in=[ToxicityKind.CRS, ToxicityKind.ICANS, *LATE_KINDS]
    )
    onset_on = LocalDate(F("onset_at"), F("reporting_site__time_zone"))
    rows = [
        (r["kind"], r["day"], r["n"])
        for r in _by_day_after_day_zero(events, onset_on, "kind")
        if r["day"] is not None and r["day"] >= 0
    ]
    onset = {
        name: binned(((day, n) for k, day, n in rows if k == kind), ONSET_BINS)
        for kind, name in ((ToxicityKind.CRS, "CRS"), (ToxicityKind.ICANS, "ICANS"))
    }
    atypical = sum(n for kind, day, n in rows if kind == ToxicityKind.CRS and day > ATYPICAL_CRS_AFTER)
    late = [
        Tally(f"CRS with onset after day +{ATYPICAL_CRS_AFTER} (atypical)", atypical),
        *(Tally(ToxicityKind(kind).label, sum(n for k, _, n in rows if k == kind)) for kind in LATE_KINDS),
    ]
    return onset, late


def _infections(patients: QuerySet[Any]) -> tuple[list[Tally], list[Tally]]:
    infections = InfectionEvent.objects.filter(patient_id__in=patients).annotate(severe=flag(Q(grade__gte=SEVERE)))
    rows = [(r["day"], r["severe"], r["n"]) for r in _by_day_after_day_zero(infections, F("onset_on"), "severe")]
    every = binned(((day, n) for day, _, n in rows), INFECTION_BINS)
    severe = binned(((day, n) for day, is_severe, n in rows if is_severe), INFECTION_BINS)
    return every, severe


def _deaths(patients: QuerySet[Any]) -> list[Tally]:
    """Patients who died, each once: by the primary cause of their recorded death; for a
    patient whose death is not recorded, by the first toxicity whose outcome is fatal or whose
    grade reached 5 (as the cause its kind is), else an infection of grade 5 recorded without a
    toxicity. Then all deaths, and those not from relapse (nor of unknown cause): non-relapse
    mortality. Three queries, of the few patients who died."""
    causes: dict[Any, DeathCause] = {
        patient_id: DeathCause(cause)
        for patient_id, cause in PatientDeath.objects.filter(patient_id__in=patients).values_list("patient_id", "cause")
    }
    fatal = ToxicityEvent.objects.filter(fatal_event(), alive(), patient_id__in=patients).order_by("onset_at", "pk")
    for patient_id, kind in fatal.values_list("patient_id", "kind"):
        causes.setdefault(patient_id, death_cause_of(kind))
    other = InfectionEvent.objects.filter(
        alive(), patient_id__in=patients, grade=FATAL_GRADE, toxicity_event__isnull=True
    ).values_list("patient_id", flat=True)
    for patient_id in other:
        causes.setdefault(patient_id, DeathCause.INFECTION)
    counts = Counter(causes.values())
    by_cause = [Tally(cause.label, counts[cause]) for cause in DeathCause if counts[cause]]
    if not by_cause:
        return []
    non_relapse = sum(n for cause, n in counts.items() if cause in NON_RELAPSE_CAUSES)
    return [*by_cause, Tally("All deaths", len(causes)), Tally("Non-relapse deaths", non_relapse)]


def _months(cohort: Cohort, courses: list[CourseRow]) -> list[Month]:
    counts: Counter[tuple[dt.date, str]] = Counter()
    for course in courses:
        counts[(course.month, "Infused")] += course.n
        if course.crs >= SEVERE or course.icans >= SEVERE:
            counts[(course.month, "Severe CRS or ICANS")] += course.n
    return by_month(cohort.period.months(), counts, ["Infused", "Severe CRS or ICANS"])
