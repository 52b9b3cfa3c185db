"""The acknowledgement deadline: overdue referrals and the one reminder to the center."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from carecoord.claims import claim_then_notify
from carecoord.emails import email_queue
from carecoord.models import TimelineEntry
from carecoord.models.deaths import alive
from carecoord.selectors.sites import site_coordinators
from carecoord.timeline import timeline_record
from referrals.models import Referral
from referrals.workflow import State


def remind_overdue_referrals(now: dt.datetime | None = None) -> int:
    """Email the center's coordinators once per overdue referral; returns how many referrals.

    Each referral is claimed by setting `reminder_sent_at` while it is still submitted and not
    yet reminded (`carecoord.claims`), so two runs at once never remind twice.
    """
    now = now or timezone.now()

    def remind(referral: Referral) -> bool:
        link = reverse("patient-detail", kwargs={"patient_id": referral.patient_id})
        for coordinator in site_coordinators(referral.to_center):
            email_queue(
                recipient=coordinator,
                template="referral-acknowledgement-overdue",
                context={
                    "referral": referral,
                    "initials": referral.patient.initials,
                    "link": link,
                    "due": referral.to_center.time_of(referral.acknowledge_by),
                },
                dedupe_key=f"referral-ack-overdue:{referral.pk}:{coordinator.pk}",
            )
        timeline_record(
            patient=referral.patient,
            kind=TimelineEntry.Kind.REFERRAL,
            site=referral.to_center,
            title=f"Acknowledgement overdue: coordinators at {referral.to_center} reminded",
            subject=referral,
        )
        return True

    return claim_then_notify(
        # A patient who died: the referral is to close, not to acknowledge.
        Referral.objects.acknowledgement_overdue(now).filter(alive(), reminder_sent_at__isnull=True),
        still_due=Q(state=State.SUBMITTED, reminder_sent_at__isnull=True),
        claim={"reminder_sent_at": now},
        load=Referral.objects.select_related("patient", "from_site", "to_center"),
        notify=remind,
    )
