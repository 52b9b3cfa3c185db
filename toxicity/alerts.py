"""Same-day alerts to the named point persons, their acknowledgement and their escalation.

Alerts and their emails are rows written in the transaction of the change that caused them,
so a broker outage delays an email but never loses it (see carecoord.emails).

Never nobody: a care-team site that names no primary point person (or whose primary has left)
is alerted through its active coordinators instead, and the pages flag the site until one is
named. The site that records a change is informed by definition: its alerts are acknowledged
at once by the person who recorded it, who is never asked to acknowledge their own entry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from audit.services import audited_bulk_create, audited_update
from carecoord.access import acting_site_for
from carecoord.claims import claim_then_notify
from carecoord.emails import Email, email_queue_new
from carecoord.models import CareTeamLink, PointPerson, Site, TimelineEntry, User
from carecoord.recipients import Recipient, alert_recipients, mrn_of, with_mrn
from carecoord.roles import Capability
from carecoord.selectors.sites import site_coordinators
from carecoord.timeline import timeline_record
from toxicity.models import Alert, ToxicityEvent

SEVERE_GRADE = 3
ROLE_ORDER: dict[str, int] = {role.value: n for n, role in enumerate(Alert.Role)}  # primary, backup, coordinator


def _escalate_at(site: Site, grade: int, now: dt.datetime) -> dt.datetime:
    minutes = site.escalate_severe_after_minutes if grade >= SEVERE_GRADE else site.escalate_other_after_minutes
    return now + dt.timedelta(minutes=minutes)


def _reference(event: ToxicityEvent, mrn: str) -> str:
    """The minimum that identifies the patient to a site: its own MRN, else initials."""
    return f"MRN {mrn}" if mrn else f"patient {event.patient.initials}"


def _create_and_send(alerts: Sequence[Alert], mrns: Mapping[int, str], *, not_to: User | None = None) -> None:
    """Write the alerts of one event (audited), each with its email to the recipient but `not_to`
    naming the patient by `mrns` (by site id), in two queries whatever their number; the emails
    are queued on commit.

    The emails are written first, so each alert row is written with its email: an email's key
    names the alert by what makes it unique (its event, reason, escalated alert, site and
    recipient) and this write (a random token: two changes of one event within the same clock
    tick, as under a frozen test clock, are two alerts, never one key for both)."""
    to_send = [alert for alert in alerts if not_to is None or alert.recipient_id != not_to.pk]
    if to_send:
        event = to_send[0].event
        link = reverse("toxicity-event", kwargs={"event_id": event.pk})
        write = uuid.uuid4().hex
        emails = email_queue_new(
            [
                Email(
                    recipient=alert.recipient,
                    template="toxicity-alert",
                    context={
                        "alert": alert,
                        "event": event,
                        "kind": event.get_kind_display(),
                        "reference": _reference(event, mrns.get(alert.site_id, "")),
                        "link": link,
                    },
                    dedupe_key=(
                        f"toxicity-alert:{event.pk}:{alert.reason}:{alert.escalated_from_id or ''}:"
                        f"{alert.site_id}:{alert.recipient_id}:{write}"
                    ),
                )
                for alert in to_send
            ],
            urgent=True,
        )
        for alert, email in zip(to_send, emails, strict=True):
            alert.email = email
    audited_bulk_create(Alert, alerts)


def alert_point_persons(event: ToxicityEvent, reason: str, *, actor: User, actor_site: Site) -> list[Alert]:
    """Alert the point persons (primary and backup) at every site on the patient's care team,
    or a site's coordinators where it names no primary. `actor_site`, where the change was
    recorded, has its alerts acknowledged by `actor` at once, and `actor` gets no email."""
    now = timezone.now()
    escalates = reason in (Alert.Reason.RECORDED, Alert.Reason.GRADE_ROSE)
    alerts = []
    recipients = alert_recipients(event.patient_id)
    for recipient in recipients:
        own_site = recipient.site.pk == actor_site.pk
        alerts.append(
            Alert(
                event=event,
                recipient=recipient.user,
                site=recipient.site,
                role=recipient.role,
                reason=reason,
                grade=event.grade,
                escalate_at=_escalate_at(recipient.site, event.grade, now) if escalates and not own_site else None,
                acknowledged_at=now if own_site else None,
                acknowledged_by=actor if own_site else None,
                acknowledged_on_recording=own_site,
            )
        )
    _create_and_send(alerts, {r.site.pk: r.mrn for r in recipients}, not_to=actor)
    return alerts


def alert_summary(alerts: Sequence[Alert], care_team: Sequence[CareTeamLink]) -> list[str]:
    """What the person who recorded a change is told of who was alerted, site by site."""
    lines = []
    for link in care_team:
        at_site = sorted(
            (a for a in alerts if a.site_id == link.site_id), key=lambda a: (ROLE_ORDER.get(a.role, 9), a.pk)
        )
        names = ", ".join(f"{a.recipient.full_name} ({a.get_role_display().lower()})" for a in at_site)
        if not at_site:
            lines.append(f"{link.site}: nobody could be alerted (no point person and no active coordinator).")
        elif all(a.role == Alert.Role.COORDINATOR for a in at_site):
            lines.append(f"{link.site} names no primary point person: its coordinators were alerted ({names}).")
        else:
            lines.append(f"{link.site}: {names}.")
    return lines


@dataclass(frozen=True)
class Acknowledged:
    """What one acknowledgement closed: the alert acted on (as it is now) and every alert that
    counts as seen with it (`covered`, that one included, highest grade first)."""

    alert: Alert
    covered: list[Alert]

    def message_for(self, user: User) -> str:
        """What the person is told: how many of their own alerts closed (their waiting count drops
        by as many) and of which grades. Their colleagues' copies at the site, closed with them,
        are not counted: they were never in this person's count."""
        alert = self.alert
        earlier = sorted(
            (a.grade for a in self.covered if a.recipient_id == user.pk and a.pk != alert.pk), reverse=True
        )
        if not earlier:
            return "Alert acknowledged. The other site sees it on the timeline."
        grades = _and([str(grade) for grade in earlier])
        before = f"the grade{'s' if len(earlier) > 1 else ''} {grades} before it"
        kind = alert.event.get_kind_display()
        return (
            f"{len(earlier) + 1} alerts acknowledged: {kind} grade {alert.grade} and {before}. "
            "The other site sees it on the timeline."
        )


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def alert_acknowledge(*, actor: User, alert: Alert) -> Acknowledged:
    """The recipient has seen the alert; their site's other open alerts on the event up to its
    grade count as seen too (the same fact sent to others of the site, escalations of it, an
    earlier lower grade). A higher grade the event rose to since stays open: acknowledging the
    first grade 1 of an event that rose to grade 3 never acknowledges the rise unseen. Returns
    what it closed, so that the person can be told (a click can close more than one)."""
    if alert.recipient_id != actor.pk:
        raise PermissionDenied("Only the person alerted can acknowledge this alert.")
    if alert.is_acknowledged:
        raise ValidationError({"alert": "This alert is already acknowledged."})
    # They act for the site they were alerted as, while they still work there: the audit trail
    # signs the acknowledgement with that site, not with another site of theirs on the care team.
    acting_site_for(actor, alert.event.patient, Capability.VIEW, among=[alert.site])
    now = timezone.now()
    covering = Alert.objects.unacknowledged().filter(event=alert.event, site=alert.site, grade__lte=alert.grade)
    with transaction.atomic():
        # Locked as they are read: what is listed is exactly what the update closes.
        covered = list(
            covering.select_for_update(of=("self",))
            .only("pk", "grade", "recipient")
            .order_by("-grade", "-created_at", "-pk")
        )
        audited_update(covering.filter(pk__in=[a.pk for a in covered]), acknowledged_at=now, acknowledged_by=actor)
        timeline_record(
            patient=alert.event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=alert.site,
            title=f"Alert acknowledged at {alert.site}: {alert.event.get_kind_display()} grade {alert.grade}",
            subject=alert.event,
        )
    alert.refresh_from_db()
    return Acknowledged(alert=alert, covered=covered)


def _escalation_recipients(alert: Alert) -> list[Recipient]:
    """The site's backup point person and its coordinators, other than the person alerted."""
    backup = (
        PointPerson.objects.open()
        .filter(
            link__patient=alert.event.patient,
            link__site=alert.site,
            rank=PointPerson.Rank.BACKUP,
            user__is_active=True,
        )
        .select_related("user")
    )
    people = {p.user.pk: Recipient(p.user, alert.site, Alert.Role.BACKUP) for p in backup}
    for user in site_coordinators(alert.site):
        people.setdefault(user.pk, Recipient(user, alert.site, Alert.Role.COORDINATOR))
    people.pop(alert.recipient_id, None)
    return list(people.values())


def escalate_due_alerts(now: dt.datetime | None = None) -> int:
    """Escalate, once each, the alerts not acknowledged in time; returns how many escalated.

    Each alert is claimed by setting `escalated_at` (audited) while it is still unacknowledged
    and not escalated (`carecoord.claims`). An alert whose site has meanwhile left the care team
    stays claimed and tells nobody.
    """
    now = now or timezone.now()

    def escalate(alert: Alert) -> bool:
        link = with_mrn(CareTeamLink.objects.open().filter(patient=alert.event.patient, site=alert.site)).first()
        if link is None:
            return False
        recipients = _escalation_recipients(alert)
        _create_and_send(
            [
                Alert(
                    event=alert.event,
                    recipient=recipient.user,
                    site=alert.site,
                    role=recipient.role,
                    reason=Alert.Reason.ESCALATED,
                    grade=alert.grade,
                    escalated_from=alert,
                )
                for recipient in recipients
            ],
            {alert.site_id: mrn_of(link)},
        )
        names = ", ".join(sorted(r.user.full_name for r in recipients)) or "nobody else at the site"
        timeline_record(
            patient=alert.event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            site=alert.site,
            title=f"Alert to {alert.recipient.full_name} not acknowledged in time: escalated to {names}",
            subject=alert.event,
        )
        return True

    return claim_then_notify(
        Alert.objects.due_for_escalation(now),
        still_due=Q(escalated_at__isnull=True, acknowledged_at__isnull=True),
        claim={"escalated_at": now},
        load=Alert.objects.select_related("event__patient", "site", "recipient"),
        notify=escalate,
        update=audited_update,
    )
