"""The acknowledgement deadline: the center told of a referral as it arrives, by when to
acknowledge it, then overdue referrals and the one reminder to the center."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from carecoord.claims import claim_then_notify
from carecoord.emails import Email, email_queue, email_queue_new
from carecoord.models import PointPerson, TimelineEntry, User
from carecoord.models.deaths import alive
from carecoord.selectors.sites import site_coordinators
from carecoord.timeline import timeline_record
from referrals.models import Referral
from referrals.workflow import State


def center_contacts(referral: Referral) -> list[tuple[User, str]]:
    """Who at the center hears of a referral as it arrives, once each, with why: its coordinators
    (who acknowledge it and are reminded when it is overdue), then, where the center already
    shares the patient's care, its point persons for the patient."""
    center = referral.to_center
    contacts = {user.pk: (user, f"a coordinator at {center}") for user in site_coordinators(center)}
    persons = PointPerson.objects.open().filter(
        link__patient_id=referral.patient_id, link__site=center, user__is_active=True
    )
    for person in sorted(persons.select_related("user"), key=lambda p: p.rank != PointPerson.Rank.PRIMARY):
        rank = PointPerson.Rank(person.rank).label.lower()
        contacts.setdefault(person.user_id, (person.user, f"the {rank} point person for this patient at {center}"))
    return list(contacts.values())


def tell_center_of_referral(referral: Referral) -> None:
    """Email the center's contacts that a submitted referral has arrived and by when to
    acknowledge it (the deadline leads an urgent one's subject). Initials and a link only."""
    context = {
        "referral": referral,
        "initials": referral.patient.initials,
        "link": reverse("referral-detail", kwargs={"referral_id": referral.pk}),
        "due": referral.acknowledge_by,
        "urgent": referral.urgency != Referral.Urgency.ROUTINE,
    }
    email_queue_new(
        [
            Email(user, "referral-submitted", context | {"why": why}, f"referral-submitted:{referral.pk}:{user.pk}")
            for user, why in center_contacts(referral)
        ]
    )


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
