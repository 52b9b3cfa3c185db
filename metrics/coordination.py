"""Coordination: how well the sites answer each other.

Alerts and hand-offs are counted when they were made in the period, for the viewer's
patients; with one of the viewer's sites chosen, only those that site received. An alert
counts once per site it reached (one person's acknowledgement covers their site), the
recording site's own alerts aside (acknowledged as they are recorded). Follow-up steps count
when they were due in the period. Seven queries whatever the number of patients
(`docs/clinicians/metrics.md` defines each figure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Concat, TruncMonth

from carecoord.models import DigestDelivery, OutgoingEmail, SiteMembership
from handoffs.models import Handoff, HandoffQuestion
from metrics.figures import Month, Span, Tally, by_month, span_aggregates, span_of
from metrics.scope import Cohort
from metrics.sql import DaysBetween, HoursBetween, flag, median, p90
from referrals.milestones.kinds import PreparationKind
from referrals.models import Milestone, overdue_on
from referrals.schedule import MilestoneKind
from toxicity.models import Alert

# A visit done within this many days after its planned date is on time; a CIBMTR form is on
# time when it is done by its due date.
VISIT_GRACE_DAYS = 7

# Time to acknowledge an alert at a site, in hours (lower bound, label); the escalation times
# are 30 minutes (grade 3 and above) and 4 hours by default.
ACKNOWLEDGEMENT_BINS: tuple[tuple[float, str], ...] = (
    (0, "within 30 minutes"),
    (0.5, "30 minutes to 4 hours"),
    (4, "4 to 24 hours"),
    (24, "after a day"),
)
NOT_ACKNOWLEDGED = "not acknowledged"


@dataclass(frozen=True)
class CoordinationFigures:
    alerts: int  # alerts reaching a site
    alert_acknowledgement: Span
    alerts_escalated: int
    handoffs: int
    handoff_acknowledgement: Span
    handoffs_with_questions: int
    digests_built: int
    digests_delivered: int
    overdue: list[Tally]  # steps overdue today, by kind of step
    visits_due: int
    visits_on_time: int
    forms_due: int
    forms_on_time: int
    hand_back: Span  # the day after infusion of the hand-back
    months: list[Month]  # alerts, and those escalated, by month
    acknowledgement_bins: list[Tally]


def _alerts(cohort: Cohort) -> QuerySet[Alert]:
    """The alerts counted: made in the period about the viewer's patients, to another site
    than the one recording the change, at the chosen site; escalation copies aside."""
    alerts = Alert.objects.filter(
        cohort.treated_patients("event__patient"),
        cohort.period.moments("created_at"),
        acknowledged_on_recording=False,
    ).exclude(reason=Alert.Reason.ESCALATED)
    if cohort.site_id is not None:
        alerts = alerts.filter(site_id=cohort.site_id)
    return alerts


def _alerts_at_sites(cohort: Cohort) -> QuerySet[Any, Any]:
    """One row per alert and site: first made, first acknowledged, escalated or not."""
    return (
        _alerts(cohort)
        .values("event_id", "site_id", "reason", "grade")
        .annotate(made=Min("created_at"), seen=Min("acknowledged_at"), escalated=Max("escalated_at"))
        .order_by()
    )


def coordination_figures(cohort: Cohort) -> CoordinationFigures:
    bins = _bins()
    notices = _alerts_at_sites(cohort).annotate(
        hours=HoursBetween(F("seen"), F("made")),
        was_escalated=flag(Q(escalated__isnull=False)),
        never=flag(Q(seen__isnull=True)),
        **{f"bin_{index}": flag(condition) for index, (_, condition) in enumerate(bins)},
    )
    alerts = notices.aggregate(
        n=Count("*"),
        escalated_n=Count(F("was_escalated")),
        never_n=Count(F("never")),
        **{f"bin_{index}_n": Count(F(f"bin_{index}")) for index in range(len(bins))},
        **span_aggregates("hours"),
    )
    handoffs = _handoffs(cohort)
    digests = _digests(cohort)
    follow_up = _follow_up(cohort)
    return CoordinationFigures(
        alerts=alerts["n"],
        alert_acknowledgement=span_of(alerts, "hours", "Alert made → acknowledged at the site", "hours"),
        alerts_escalated=alerts["escalated_n"],
        handoffs=handoffs["n"],
        handoff_acknowledgement=span_of(handoffs, "hours", "Hand-off sent → acknowledged", "hours"),
        handoffs_with_questions=handoffs["asked_n"],
        digests_built=digests["built"],
        digests_delivered=digests["delivered"],
        overdue=_overdue(cohort),
        visits_due=follow_up["visits"],
        visits_on_time=follow_up["visits_on_time"],
        forms_due=follow_up["forms"],
        forms_on_time=follow_up["forms_on_time"],
        hand_back=_hand_back(cohort),
        months=_months(cohort),
        acknowledgement_bins=[
            *(Tally(label, alerts[f"bin_{index}_n"]) for index, (label, _) in enumerate(bins)),
            Tally(NOT_ACKNOWLEDGED, alerts["never_n"]),
        ],
    )


def _bins() -> list[tuple[str, Q]]:
    """Each bin of `ACKNOWLEDGEMENT_BINS` as (label, condition on `hours`)."""
    bounds: list[float | None] = [low for low, _ in ACKNOWLEDGEMENT_BINS[1:]]
    bounds.append(None)
    return [
        (label, Q(hours__gte=low) & (Q(hours__lt=high) if high is not None else Q()))
        for (low, label), high in zip(ACKNOWLEDGEMENT_BINS, bounds, strict=True)
    ]


def _handoffs(cohort: Cohort) -> dict[str, Any]:
    handoffs = Handoff.objects.filter(cohort.treated_patients("patient"), cohort.period.moments("sent_at"))
    if cohort.site_id is not None:
        handoffs = handoffs.filter(to_site_id=cohort.site_id)
    # A question the receiving site asked back (its answers to the sender's questions and its notes are not).
    asked = HandoffQuestion.objects.filter(
        handoff=OuterRef("pk"), site=OuterRef("to_site"), kind=HandoffQuestion.Kind.QUESTION
    )
    return handoffs.aggregate(
        n=Count("pk"),
        asked_n=Count(flag(Q(Exists(asked)))),
        hours_n=Count(HoursBetween(F("acknowledged_at"), F("sent_at"))),
        hours_median=median(HoursBetween(F("acknowledged_at"), F("sent_at"))),
        hours_p90=p90(HoursBetween(F("acknowledged_at"), F("sent_at"))),
    )


def _digests(cohort: Cohort) -> dict[str, Any]:
    """Weekly digests built in the period for people working at the chosen site (or at any of
    the viewer's sites), and how many of their emails were sent. A digest is about the
    person's patients, not the viewer's: only the counts are shown."""
    sites = [cohort.site_id] if cohort.site_id is not None else sorted(cohort.own_site_ids)
    people = SiteMembership.objects.filter(site_id__in=sites).values("user_id")
    digests = DigestDelivery.objects.filter(cohort.period.moments("built_at"), recipient_id__in=people)
    return digests.aggregate(
        built=Count("pk"), delivered=Count("pk", filter=Q(email__status=OutgoingEmail.Status.SENT))
    )


# The kinds of step, for the count of those overdue.
STEP_GROUPS: tuple[tuple[str, Q], ...] = (
    ("Preparation (consult to bridging)", Q(kind__in=[kind.value for kind in PreparationKind])),
    ("Follow-up visits", Q(kind__startswith="visit_")),
    ("CIBMTR forms", Q(kind__startswith="cibmtr_")),
)
OTHER_STEPS = "Treatment and monitoring"


def _overdue(cohort: Cohort) -> list[Tally]:
    """Steps planned for a day before today and not done: now, whatever the period."""
    steps = Milestone.objects.filter(cohort.referrals("referral"), overdue_on(cohort.today))
    counted = steps.aggregate(
        **{f"group_{index}": Count("pk", filter=condition) for index, (_, condition) in enumerate(STEP_GROUPS)},
        every=Count("pk"),
    )
    named = [Tally(label, counted[f"group_{index}"]) for index, (label, _) in enumerate(STEP_GROUPS)]
    return [*named, Tally(OTHER_STEPS, counted["every"] - sum(t.count for t in named))]


def _follow_up(cohort: Cohort) -> dict[str, Any]:
    """Visits and CIBMTR forms planned in the period (up to today), and how many were done on time."""
    end = min(cohort.period.end, cohort.today)
    due = Milestone.objects.filter(
        cohort.referrals("referral"), planned_on__gte=cohort.period.start, planned_on__lte=end
    ).exclude(status=Milestone.Status.CANCELLED)
    done = Q(status=Milestone.Status.DONE)
    visits, forms = Q(kind__startswith="visit_"), Q(kind__startswith="cibmtr_")
    late_visit = F("planned_on") + dt.timedelta(days=VISIT_GRACE_DAYS)
    return due.aggregate(
        visits=Count("pk", filter=visits),
        visits_on_time=Count("pk", filter=visits & done & Q(actual_on__lte=late_visit)),
        forms=Count("pk", filter=forms),
        forms_on_time=Count("pk", filter=forms & done & Q(actual_on__lte=F("planned_on"))),
    )


def _hand_back(cohort: Cohort) -> Span:
    """The day after infusion (day +N) on which patients were handed back, in the period. The
    course's infusion is joined (one row at most: one milestone a kind), so that each hand-back
    reads it once, not once for each aggregate over its day."""
    handed_back = (
        Milestone.objects.filter(
            cohort.referrals("referral"),
            cohort.period.days("actual_on"),
            kind=MilestoneKind.HAND_BACK,
            status=Milestone.Status.DONE,
        )
        .annotate(
            infusion=FilteredRelation(
                "referral__milestones",
                condition=Q(
                    referral__milestones__kind=MilestoneKind.INFUSION,
                    referral__milestones__status=Milestone.Status.DONE,
                ),
            )
        )
        .annotate(day=DaysBetween(F("actual_on"), F("infusion__actual_on")))
    )
    row = handed_back.aggregate(**span_aggregates("day"))
    return span_of(row, "day", "Hand-back to the community, day after infusion", "days")


def _months(cohort: Cohort) -> list[Month]:
    """Alerts reaching a site, and those escalated, by the month they were made. The alerts of
    one site about one change are made together, so each is counted once by its key."""
    notice = Concat(
        "event_id", Value("-"), "site_id", Value("-"), "reason", Value("-"), "grade", output_field=CharField()
    )
    rows = (
        _alerts(cohort)
        .annotate(month=TruncMonth("created_at", tzinfo=cohort.period.zone, output_field=DateField()))
        .values("month")
        .annotate(
            made=Count(notice, distinct=True),
            escalated=Count(notice, distinct=True, filter=Q(escalated_at__isnull=False)),
        )
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {}
    for r in rows:
        counts[(r["month"], "Alerts")] = r["made"]
        counts[(r["month"], "Escalated")] = r["escalated"]
    return by_month(cohort.period.months(), counts, ["Alerts", "Escalated"])
