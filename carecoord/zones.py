"""Whose clock a time is shown on: a person's own site time zone, by one rule everywhere.

A person's zone is the zone of their primary site: the first of their active memberships (the
earliest started; the lowest id between two started the same day). Someone who works at no
site today sees UTC. Pages (`viewer_zone`, from the memberships the page has loaded anyway),
emails (each recipient's, `zones_of` for a batch), PDFs and digests all follow it, so one
person never reads the same moment on two clocks.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence

from django.utils import timezone

from carecoord.models import SiteMembership, User

UTC = zoneinfo.ZoneInfo("UTC")


def viewer_zone(memberships: Sequence[SiteMembership]) -> zoneinfo.ZoneInfo:
    """The zone of the primary site among `memberships` (the person's active ones), else UTC."""
    if not memberships:
        return UTC
    return min(memberships, key=lambda m: (m.starts_on, m.pk)).site.zone


def zones_of(user_ids: Iterable[int], today: dt.date | None = None) -> dict[int, zoneinfo.ZoneInfo]:
    """Each person's zone (one query for everyone); people with no active membership are left out."""
    memberships = (
        SiteMembership.objects.active_on(today or timezone.now().date())
        .filter(user__in=list(user_ids))
        .order_by("starts_on", "pk")
        .values_list("user_id", "site__time_zone")
    )
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    for user_id, time_zone in memberships:
        if user_id not in zones:
            zones[user_id] = zoneinfo.ZoneInfo(time_zone)
    return zones


def zone_of(user: User, today: dt.date | None = None) -> zoneinfo.ZoneInfo:
    """The person's zone (one query); UTC when they work at no site."""
    return zones_of([user.pk], today).get(user.pk, UTC)
