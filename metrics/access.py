"""Access: how fast a referred patient moves from the referral to the infusion, and who is
referred but not treated, and why.

The cohort is the referrals submitted in the period (in the viewer's time zone) for the
viewer's patients. Each step is the referral's own: its acknowledgement, its first decision
(accepted or declined), its milestones marked done (consult, apheresis, product release,
infusion). Days are counted between dates in the center's time zone. Five queries whatever
the number of referrals (`docs/clinicians/metrics.md` defines each figure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
    DateField,
    F,
    FilteredRelation,
    Q,
    QuerySet,
)
from django.db.models.functions import Lower, Trim, TruncMonth

from carecoord.local_date import LocalDate
from metrics.figures import Month, Span, Tally, by_month, in_bin, span_aggregates, span_of
from metrics.scope import Cohort
from metrics.small_counts import SMALL
from metrics.sql import DaysBetween, HoursBetween, flag
from referrals.milestones.kinds import PreparationKind
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.workflow import OPEN_STATES, State

DECIDED = (State.ACCEPTED, State.DECLINED)

# Referral to infusion, in days: the distribution's bins (lower bound, label).
TO_INFUSION_BINS: tuple[tuple[int, str], ...] = (
    (0, "under 30 days"),
    (30, "30-44 days"),
    (45, "45-59 days"),
    (60, "60-89 days"),
    (90, "90 days or more"),
)


@dataclass(frozen=True)
class AccessFigures:
    referred: int
    spans: list[Span]
    acknowledged_in_time: int  # within the center's deadline
    acknowledgement_known: int  # acknowledged, or still waiting past the deadline
    funnel: list[Tally]  # referred → ... → infused
    decisions: list[Tally]  # accepted, declined
    decline_reasons: list[Tally]  # reasons given at least `SMALL` times, then the rest
    not_treated: list[Tally]  # why referred patients were not (yet) infused
    months: list[Month]  # referrals submitted and accepted, by month
    to_infusion: list[Tally]  # distribution of referral → infusion


def _done(kind: str) -> FilteredRelation:
    """The referral's step `kind` marked done: a join of one row at most (one milestone per
    kind), read in the same pass as the referral rather than looked up for each."""
    return FilteredRelation("milestones", condition=Q(milestones__kind=kind, milestones__status=Milestone.Status.DONE))


def referred(cohort: Cohort) -> QuerySet[Referral]:
    """The referrals counted: submitted in the period, of the viewer's patients."""
    return Referral.objects.filter(cohort.referrals(), cohort.period.moments("submitted_at"))


def _courses(cohort: Cohort) -> QuerySet[Any]:
    zone = F("to_center__time_zone")
    return (
        referred(cohort)
        .annotate(
            consult=_done(PreparationKind.CONSULT),
            apheresis=_done(PreparationKind.APHERESIS),
            release=_done(PreparationKind.MANUFACTURING_RELEASE),
            infusion=_done(MilestoneKind.INFUSION),
            # Accepted and declined are final: a referral makes one of those moves at most.
            decided=FilteredRelation("moves", condition=Q(moves__to_state__in=DECIDED)),
        )
        .annotate(
            submitted_on=LocalDate(F("submitted_at"), zone),
            consult_on=F("consult__actual_on"),
            apheresis_on=F("apheresis__actual_on"),
            release_on=F("release__actual_on"),
            infusion_on=F("infusion__actual_on"),
            decision=F("decided__to_state"),
            decided_on=LocalDate(F("decided__at"), zone),
        )
        .annotate(
            acknowledgement=HoursBetween(F("acknowledged_at"), F("submitted_at")),
            to_consult=DaysBetween(F("consult_on"), F("submitted_on")),
            to_decision=DaysBetween(F("decided_on"), F("submitted_on")),
            to_apheresis=DaysBetween(F("apheresis_on"), F("submitted_on")),
            to_release=DaysBetween(F("release_on"), F("apheresis_on")),
            vein_to_vein=DaysBetween(F("infusion_on"), F("apheresis_on")),
            to_infusion=DaysBetween(F("infusion_on"), F("submitted_on")),
        )
    )


SPANS = (
    ("to_consult", "Referral submitted → consult", "days"),
    ("to_decision", "Referral submitted → accepted or declined", "days"),
    ("to_apheresis", "Referral submitted → apheresis", "days"),
    ("to_release", "Apheresis → product release", "days"),
    ("vein_to_vein", "Apheresis → infusion (vein-to-vein)", "days"),
    ("to_infusion", "Referral submitted → infusion", "days"),
)


def access_figures(cohort: Cohort) -> AccessFigures:
    courses = _courses(cohort)
    infused = Q(infusion_on__isnull=False)
    flags = {
        "acknowledged": Q(acknowledged_at__isnull=False),
        "known": Q(acknowledged_at__isnull=False) | Q(acknowledge_by__lt=cohort.now),
        "in_time": Q(acknowledged_at__lte=F("acknowledge_by")),
        "consulted": Q(consult_on__isnull=False),
        "accepted": Q(decision=State.ACCEPTED),
        "declined": Q(decision=State.DECLINED),
        "collected": Q(apheresis_on__isnull=False),
        "infused": infused,
        "not_declined": ~infused & Q(state=State.DECLINED),
        "not_withdrawn": ~infused & Q(state=State.WITHDRAWN),
        "not_yet_decided": ~infused & Q(state__in=sorted(OPEN_STATES)),
        "not_yet_infused": ~infused & Q(state=State.ACCEPTED),
    }
    row = courses.annotate(**{f"is_{name}": flag(q) for name, q in flags.items()}).aggregate(
        referred=Count("pk"),
        **{name: Count(F(f"is_{name}")) for name in flags},
        **span_aggregates("acknowledgement"),
        **{name: agg for span, _, _ in SPANS for name, agg in span_aggregates(span).items()},
    )
    spans = [span_of(row, "acknowledgement", "Referral submitted → acknowledged", "hours")]
    spans += [span_of(row, name, label, unit) for name, label, unit in SPANS]
    return AccessFigures(
        referred=row["referred"],
        spans=spans,
        acknowledged_in_time=row["in_time"],
        acknowledgement_known=row["known"],
        funnel=[
            Tally("Referred", row["referred"]),
            Tally("Acknowledged", row["acknowledged"]),
            Tally("Consult done", row["consulted"]),
            Tally("Accepted", row["accepted"]),
            Tally("Apheresis done", row["collected"]),
            Tally("Infused", row["infused"]),
        ],
        decisions=[Tally("Accepted", row["accepted"]), Tally("Declined", row["declined"])],
        decline_reasons=decline_reasons(cohort),
        not_treated=[
            Tally("Declined by the center", row["not_declined"]),
            Tally("Withdrawn by the practice", row["not_withdrawn"]),
            Tally("Still being evaluated", row["not_yet_decided"]),
            Tally("Accepted, not yet infused", row["not_yet_infused"]),
        ],
        months=_months(cohort),
        to_infusion=_to_infusion(courses),
    )


def decline_reasons(cohort: Cohort) -> list[Tally]:
    """The reasons declined referrals give, the same words (case and spaces aside) counted
    together. A reason is named only when at least five referrals give it: a rarer reason is
    free text about one or two patients, so it is counted among "Other reasons"."""
    reason = Lower(Trim("decline_reason"))
    rows = (
        referred(cohort)
        .filter(state=State.DECLINED)
        .annotate(said=reason)
        .values("said")
        .annotate(count=Count("pk"))
        .order_by("-count", "said")
    )
    named = [Tally(r["said"].capitalize(), r["count"]) for r in rows if r["count"] >= SMALL and r["said"]]
    other = sum(r["count"] for r in rows if r["count"] < SMALL or not r["said"])
    return [*named, *([Tally("Other reasons", other)] if other else [])]


def _months(cohort: Cohort) -> list[Month]:
    month = TruncMonth("submitted_at", tzinfo=cohort.period.zone, output_field=DateField())
    rows = (
        referred(cohort)
        .annotate(month=month)
        .values("month")
        .annotate(submitted=Count("pk"), accepted=Count("pk", filter=Q(state=State.ACCEPTED)))
        .order_by("month")
    )
    counts: dict[tuple[dt.date, str], int] = {}
    for r in rows:
        counts[(r["month"], "Referred")] = r["submitted"]
        counts[(r["month"], "Accepted")] = r["accepted"]
    return by_month(cohort.period.months(), counts, ["Referred", "Accepted"])


def _to_infusion(courses: QuerySet[Any]) -> list[Tally]:
    rows = (
        courses.filter(infusion_on__isnull=False)
        .annotate(bin=in_bin("to_infusion", TO_INFUSION_BINS))
        .values("bin")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = {r["bin"]: r["count"] for r in rows}
    return [Tally(label, counts.get(label, 0)) for _, label in TO_INFUSION_BINS]
