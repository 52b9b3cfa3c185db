"""Sending the weekly digests: claim the week with a row, queue the email in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from carecoord.emails import email_queue
from carecoord.models import DigestDelivery, DigestPreference, PointPerson, User
from workspace.digests.build import UTC, Digest, build_digest, zone_of, zones_of
from workspace.digests.schedule import due_week, week_start_of

logger = logging.getLogger(__name__)

TEMPLATE = "weekly-digest"
DEFAULT_WEEKDAY = 0
DEFAULT_HOUR = 7


def point_persons() -> list[User]:
    """Active people named point person on at least one open care-team link."""
    # A subquery, not a join: `isnull=True` across a reverse relation would also match people
    # who are point person for nobody.
    named = PointPerson.objects.open().values("user_id")
    return list(User.objects.filter(is_active=True, pk__in=named).order_by("pk"))


def digest_for(user: User, week_start: dt.date) -> Digest:
    """What would be sent to `user` for `week_start` now; writes nothing."""
    zone = zone_of(user)
    return build_digest(user, week_start, timezone.now().astimezone(zone).date(), zone=zone)


def digest_deliver(*, user: User, week_start: dt.date, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> bool:
    """Build and queue `user`'s digest for `week_start` unless that week is already claimed."""
    if DigestDelivery.objects.filter(recipient=user, week_start=week_start).exists():
        return False
    digest = build_digest(user, week_start, now.astimezone(zone).date(), zone=zone)
    content = digest.to_content()
    with transaction.atomic():
        # The unique (recipient, week_start) row is the claim: a concurrent run gets the
        # existing row back and stops here.
        delivery, created = DigestDelivery.objects.get_or_create(
            recipient=user, week_start=week_start, defaults={"built_at": now, "content": content}
        )
        if not created:
            return False
        delivery.email = email_queue(
            recipient=user,
            template=TEMPLATE,
            context={"digest": content, "link": reverse("my-digest")},
            dedupe_key=f"digest:{user.pk}:{week_start}",
        )
        delivery.save(update_fields=["email"])
    return True


def send_due_digests(
    now: dt.datetime | None = None, *, users: Iterable[User] | None = None, ignore_schedule: bool = False
) -> int:
    """Send every digest whose send time, in site time, has passed this week; returns how many were sent.

    `ignore_schedule` sends the current week's digest now (the management command), still once.
    """
    now = now or timezone.now()
    people = list(users) if users is not None else point_persons()
    zones = zones_of([user.pk for user in people], now.date())
    preferences = {p.user_id: p for p in DigestPreference.objects.filter(user__in=[u.pk for u in people])}
    sent = 0
    for user in people:
        zone = zones.get(user.pk, UTC)
        preference = preferences.get(user.pk)
        weekday = preference.weekday if preference else DEFAULT_WEEKDAY
        hour = preference.hour if preference else DEFAULT_HOUR
        week_start = week_start_of(now, zone) if ignore_schedule else due_week(now, zone, weekday, hour)
        if week_start is None:
            continue
        if digest_deliver(user=user, week_start=week_start, zone=zone, now=now):
            sent += 1
    if sent:
        logger.info("queued %s weekly digests", sent)
    return sent
