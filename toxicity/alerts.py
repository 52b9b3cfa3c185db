"""Same-day alerts to the named point persons, their acknowledgement and their escalation.

Alerts and their emails are rows written in the transaction of the change that caused them,
so a broker outage delays an email but never loses it (see carecoord.emails).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from carecoord.access.grants import local_today
from carecoord.audit.services import audited_update
from carecoord.emails import email_queue
from carecoord.models import CareTeamLink, PatientIdentifier, PointPerson, Site, SiteMembership, TimelineEntry, User
from carecoord.roles import Role
from carecoord.timeline import timeline_record
from toxicity.models import Alert, ToxicityEvent

SEVERE_GRADE = 3


def _escalate_at(site: Site, grade: int, now: dt.datetime) -> dt.datetime:
    minutes = site.escalate_severe_after_minutes if grade >= SEVERE_GRADE else site.escalate_other_after_minutes
    return now + dt.timedelta(minutes=minutes)


def _patient_reference(event: ToxicityEvent, site: Site) -> str:
    """The minimum that identifies the patient to a site: its own MRN, else initials."""
    mrn = PatientIdentifier.objects.filter(patient=event.patient, site=site).values_list("mrn", flat=True).first()
    return f"MRN {mrn}" if mrn else f"patient {event.patient.initials}"


def _send(alert: Alert) -> None:
    event = alert.event
    context = {
        "alert": alert,
        "event": event,
        "kind": event.get_kind_display(),
        "reference": _patient_reference(event, alert.site),
        "link": reverse("toxicity-event", kwargs={"event_id": event.pk}),
    }
    email = email_queue(
        recipient=alert.recipient, template="toxicity-alert", context=context, dedupe_key=f"toxicity-alert:{alert.pk}"
    )
    if email is not None:
        Alert.objects.filter(pk=alert.pk).update(email=email)


def alert_point_persons(event: ToxicityEvent, reason: str) -> list[Alert]:
    """Alert every point person (primary and backup) at every site on the patient's care team."""
    now = timezone.now()
    persons = PointPerson.objects.filter(
        link__patient=event.patient, link__ended_at__isnull=True, user__is_active=True
    ).select_related("link__site", "user")
    escalates = reason in (Alert.Reason.RECORDED, Alert.Reason.GRADE_ROSE)
    alerts = []
    for person in persons:
        site = person.link.site
        alert = Alert.objects.create(
            event=event,
            recipient=person.user,
            site=site,
            reason=reason,
            grade=event.grade,
            escalate_at=_escalate_at(site, event.grade, now) if escalates else None,
        )
        _send(alert)
        alerts.append(alert)
    return alerts


def alert_acknowledge(*, actor: User, alert: Alert) -> Alert:
    """The recipient has seen the alert; their site's other open alerts on it count as seen too."""
    if alert.recipient_id != actor.pk:
        raise PermissionDenied("Only the person alerted can acknowledge this alert.")
    if alert.acknowledged_at is not None:
        raise ValidationError({"alert": "This alert is already acknowledged."})
    now = timezone.now()
    with transaction.atomic():
        audited_update(
            Alert.objects.filter(event=alert.event, site=alert.site, acknowledged_at__isnull=True),
            acknowledged_at=now,
            acknowledged_by=actor,
        )
        timeline_record(
            patient=alert.event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=alert.site,
            title=f"Alert acknowledged at {alert.site}: {alert.event.get_kind_display()} grade {alert.grade}",
        )
    alert.refresh_from_db()
    return alert


def _escalation_recipients(alert: Alert) -> list[User]:
    """The site's backup point person and its coordinators, other than the person alerted."""
    backup = PointPerson.objects.filter(
        link__patient=alert.event.patient,
        link__site=alert.site,
        link__ended_at__isnull=True,
        rank=PointPerson.Rank.BACKUP,
    ).select_related("user")
    coordinators = (
        SiteMembership.objects.active_on(local_today(alert.site))
        .filter(site=alert.site, role=Role.COORDINATOR)
        .select_related("user")
    )
    people = {p.user.pk: p.user for p in backup} | {m.user.pk: m.user for m in coordinators}
    people.pop(alert.recipient_id, None)
    return [user for user in people.values() if user.is_active]


def escalate_due_alerts(now: dt.datetime | None = None) -> int:
    """Escalate, once each, the alerts not acknowledged in time; returns how many escalated."""
    now = now or timezone.now()
    due = Alert.objects.filter(escalate_at__lte=now, escalated_at__isnull=True, acknowledged_at__isnull=True)
    escalated = 0
    for alert_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            claim = Alert.objects.filter(pk=alert_id, escalated_at__isnull=True, acknowledged_at__isnull=True)
            if not audited_update(claim, escalated_at=now):
                continue  # acknowledged meanwhile, or another run took it
            alert = Alert.objects.select_related("event__patient", "site", "recipient").get(pk=alert_id)
            if not CareTeamLink.objects.filter(patient=alert.event.patient, site=alert.site, ended_at__isnull=True):
                continue
            recipients = _escalation_recipients(alert)
            for user in recipients:
                _send(
                    Alert.objects.create(
                        event=alert.event,
                        recipient=user,
                        site=alert.site,
                        reason=Alert.Reason.ESCALATED,
                        grade=alert.grade,
                        escalated_from=alert,
                    )
                )
            names = ", ".join(sorted(user.full_name for user in recipients)) or "nobody else at the site"
            timeline_record(
                patient=alert.event.patient,
                kind=TimelineEntry.Kind.TOXICITY,
                site=alert.site,
                title=f"Alert to {alert.recipient.full_name} not acknowledged in time: escalated to {names}",
            )
            escalated += 1
    return escalated
