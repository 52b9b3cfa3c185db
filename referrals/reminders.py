"""The acknowledgement deadline: overdue referrals and the one reminder to the center."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from carecoord.access.grants import local_today
from carecoord.emails import email_queue
from carecoord.models import SiteMembership, TimelineEntry, User
from carecoord.roles import Role
from carecoord.timeline import timeline_record
from referrals.models import Referral
from referrals.workflow import State


def referrals_overdue(now: dt.datetime | None = None) -> QuerySet[Referral]:
    """Submitted referrals whose center has not acknowledged them by the deadline."""
    return Referral.objects.filter(state=State.SUBMITTED, acknowledge_by__lt=now or timezone.now())


def center_coordinators(referral: Referral) -> list[User]:
    today = local_today(referral.to_center)
    memberships = SiteMembership.objects.active_on(today).filter(
        site=referral.to_center, role=Role.COORDINATOR, user__is_active=True
    )
    return [m.user for m in memberships.select_related("user")]


def remind_overdue_referrals(now: dt.datetime | None = None) -> int:
    """Email the center's coordinators once per overdue referral; returns how many referrals.

    Each referral is claimed by a conditional update of `reminder_sent_at`, so two runs at
    once (two beats, a retry) never remind twice; the emails are rows in the same
    transaction, so a broker outage delays them but loses none.
    """
    now = now or timezone.now()
    reminded = 0
    for referral_id in referrals_overdue(now).filter(reminder_sent_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            claimed = Referral.objects.filter(
                pk=referral_id, state=State.SUBMITTED, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            referral = Referral.objects.select_related("patient", "from_site", "to_center").get(pk=referral_id)
            link = reverse("patient-detail", kwargs={"patient_id": referral.patient_id})
            for coordinator in center_coordinators(referral):
                email_queue(
                    recipient=coordinator,
                    template="referral-acknowledgement-overdue",
                    context={
                        "referral": referral,
                        "initials": referral.patient.initials,
                        "link": link,
                        "due": timezone.localtime(referral.acknowledge_by, referral.to_center.zone),
                    },
                    dedupe_key=f"referral-ack-overdue:{referral.pk}:{coordinator.pk}",
                )
            timeline_record(
                patient=referral.patient,
                kind=TimelineEntry.Kind.REFERRAL,
                site=referral.to_center,
                title=f"Acknowledgement overdue: coordinators at {referral.to_center} reminded",
            )
            reminded += 1
    return reminded
