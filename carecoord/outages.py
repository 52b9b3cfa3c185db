"""Alert emails that did not go out in time: who is told, and when.

While an alert email waits longer than EMAIL_UNDELIVERED_WARNING_MINUTES, the sites it was
for see it in the app (toxicity.selectors.undelivered_alerts). Once the relay takes alerts
again, the site administrators are emailed once about the outage: the late ones, how late.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Max, Min, Q, QuerySet
from django.utils import timezone

from carecoord.emails import email_queue
from carecoord.models import OutageReport, OutgoingEmail, SiteMembership, User
from carecoord.roles import Role


def late_threshold() -> dt.timedelta:
    return dt.timedelta(minutes=settings.EMAIL_UNDELIVERED_WARNING_MINUTES)


def _told(late: QuerySet[OutgoingEmail]) -> QuerySet[User]:
    """The staff, and the coordinators of the sites the late alerts were for."""
    sites = late.values("alert__site")
    coordinators = SiteMembership.objects.active_on(timezone.now().date()).filter(site__in=sites, role=Role.COORDINATOR)
    return User.objects.filter(Q(is_staff=True) | Q(pk__in=coordinators.values("user")), is_active=True).order_by("pk")


def report_recovered_outages(now: dt.datetime | None = None) -> OutageReport | None:
    """Email the site administrators once about alert emails delivered late since the last
    report, when none is waiting any more (the relay is back). None when there is nothing to say."""
    now = now or timezone.now()
    waiting = OutgoingEmail.objects.filter(urgent=True, created_at__lt=now - late_threshold()).exclude(
        status=OutgoingEmail.Status.SENT
    )
    if waiting.exists():
        return None  # still down: the report goes out with the relay
    last = OutageReport.objects.first()
    late = (
        OutgoingEmail.objects.filter(urgent=True, status=OutgoingEmail.Status.SENT)
        .annotate(wait=ExpressionWrapper(F("sent_at") - F("created_at"), output_field=DurationField()))
        .filter(wait__gt=late_threshold())
    )
    if last is not None:
        late = late.filter(sent_at__gt=last.reported_at)
    summary = late.aggregate(first=Min("created_at"), last=Max("sent_at"), longest=Max("wait"))
    count = late.count()
    if not count:
        return None
    with transaction.atomic():
        report = OutageReport.objects.create(reported_at=now, delivered_late=count)
        context = {
            "count": count,
            "since": summary["first"],
            "until": summary["last"],
            "longest_minutes": round(summary["longest"].total_seconds() / 60),
        }
        for admin in _told(late):
            email_queue(
                recipient=admin,
                template="alert-outage-recovered",
                context=context,
                dedupe_key=f"alert-outage-recovered:{report.pk}:{admin.pk}",
            )
    return report
