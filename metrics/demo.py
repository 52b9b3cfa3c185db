"""The demo's program history for the metrics page: the moments the other demos leave at the
time of seeding (a referral's acknowledgement, an alert and its acknowledgement, a hand-off
sent and acknowledged) dated back to the day of the story they belong to, so the page shows
times over the months the stories span rather than everything happening today.

Each moment is derived from what the stories dated already (the acknowledgement's move, the
event's onset or grading, the hand-back's day) with a delay that varies from row to row, so
seeding again computes the same moments and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from carecoord import demo
from carecoord.models import PatientIdentifier
from handoffs.models import Handoff
from referrals.models import Milestone, Referral, ReferralMove
from referrals.schedule import MilestoneKind
from referrals.workflow import State, add_business_days
from toxicity.models import Alert, ToxicityAssessment

# Minutes from an alert to the first acknowledgement at its site: within the escalation time,
# later than it, and a day later.
ALERT_DELAYS = (12, 40, 150, 290, 1620)
# Hours from a hand-off sent to its acknowledgement.
HANDOFF_DELAYS = (3, 20, 50)


def _demo_patients() -> QuerySet[PatientIdentifier, Any]:
    """The demo's patients (`carecoord.demo.PATIENTS`, by their MRN): nobody else's rows move."""
    return PatientIdentifier.objects.filter(mrn__in=[spec.mrn for spec in demo.PATIENTS]).values("patient_id")


def _referrals() -> int:
    """Acknowledged when the center's acknowledging move is dated; due by the center's
    deadline counted from the submission's day."""
    changed = 0
    acknowledged = ReferralMove.objects.filter(referral=OuterRef("pk"), to_state=State.RECEIVED).values("at")[:1]
    rows = (
        Referral.objects.filter(submitted_at__isnull=False, patient__in=_demo_patients())
        .select_related("to_center")
        .annotate(moved_at=Subquery(acknowledged))
    )
    for referral in rows:
        if referral.submitted_at is None:
            continue
        due = add_business_days(referral.submitted_at, referral.to_center.referral_acknowledge_business_days)
        seen = referral.moved_at if referral.acknowledged_at is not None else None
        if (referral.acknowledge_by, referral.acknowledged_at) != (due, seen):
            changed += Referral.objects.filter(pk=referral.pk).update(acknowledge_by=due, acknowledged_at=seen)
    return changed


def _alerts() -> int:
    """Made when the change they tell of happened (the event's onset, or the grading that
    raised its grade), acknowledged after a delay that varies from event to event."""
    changed = 0
    graded = ToxicityAssessment.objects.filter(event=OuterRef("event"), grade=OuterRef("grade")).order_by("assessed_at")
    rows = (
        Alert.objects.filter(event__patient__in=_demo_patients())
        .select_related("event")
        .annotate(graded_at=Subquery(graded.values("assessed_at")[:1]))
    )
    for alert in rows:
        base = alert.graded_at if alert.reason == Alert.Reason.GRADE_ROSE and alert.graded_at else alert.event.onset_at
        made = base + dt.timedelta(minutes=10)
        seen = None
        if alert.acknowledged_at is not None:
            delay = 0 if alert.acknowledged_on_recording else ALERT_DELAYS[alert.event_id % len(ALERT_DELAYS)]
            # Never later than the acknowledgement the story made (at the time of seeding).
            seen = min(made + dt.timedelta(minutes=delay), alert.acknowledged_at)
        if (alert.created_at, alert.acknowledged_at) != (made, seen):
            changed += Alert.objects.filter(pk=alert.pk).update(created_at=made, acknowledged_at=seen)
    return changed


def _handoffs() -> int:
    """Sent on the hand-back's day, acknowledged hours or days later."""
    changed = 0
    hand_back = Milestone.objects.filter(
        referral__patient=OuterRef("patient"), kind=MilestoneKind.HAND_BACK, planned_on__isnull=False
    ).order_by("-referral_id")
    rows = Handoff.objects.filter(sent_at__isnull=False, patient__in=_demo_patients()).annotate(
        day=Subquery(hand_back.values("planned_on")[:1])
    )
    for handoff in rows:
        if handoff.day is None or handoff.sent_at is None:
            continue
        # Never later than the story sent and acknowledged it (at the time of seeding): a
        # hand-back planned for today is not sent in the future.
        sent = min(dt.datetime.combine(handoff.day, dt.time(15), tzinfo=dt.UTC), handoff.sent_at)
        seen = None
        if handoff.acknowledged_at is not None:
            delay = dt.timedelta(hours=HANDOFF_DELAYS[handoff.pk % len(HANDOFF_DELAYS)])
            seen = min(sent + delay, handoff.acknowledged_at)
        if (handoff.sent_at, handoff.acknowledged_at) != (sent, seen):
            changed += Handoff.objects.filter(pk=handoff.pk).update(sent_at=sent, acknowledged_at=seen)
    return changed


def seed_program_history() -> int:
    """Date back the demo's acknowledgements, alerts and hand-offs; returns the rows changed
    (none on a second run)."""
    return _referrals() + _alerts() + _handoffs()
