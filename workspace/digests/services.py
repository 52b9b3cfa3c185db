"""Sending the weekly digests: claim the week with a row, build and queue the email in the same
transaction. The beat task fans the due people out to the workers in batches
(`workspace.tasks`); the claim makes a duplicate or re-run batch send nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from carecoord.emails import email_queue, email_send_here
from carecoord.models import DigestDelivery, DigestPreference, PointPerson, User
from carecoord.models.digests import ONE_DIGEST_PER_WEEK
from carecoord.reports_database import reading_for_reports
from carecoord.zones import UTC, zone_of, zones_of
from workspace.digests.build import Digest, build_digest
from workspace.digests.schedule import due_week, week_start_of
from workspace.digests.stored import REPORTED_PARTS

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


def digest_preview(user: User, zone: zoneinfo.ZoneInfo | None = None) -> dict[str, Any]:
    """This week's digest of `user` as its email would say it if sent now: the same build and
    the same selection (`email_content`), for the in-app page before (or after) the weekly send.
    Reads only: nothing is claimed, stored or queued, so the week's email still goes out.
    `zone`: the person's (`zone_of`), when the caller has it already."""
    zone = zone or zone_of(user)
    now = timezone.now()
    digest = build_digest(user, week_start_of(now, zone), now.astimezone(zone).date(), zone=zone)
    return email_content(digest.to_content())


def digest_deliver(
    *, user: User, week_start: dt.date, zone: zoneinfo.ZoneInfo, now: dt.datetime, enqueue: bool = True
) -> bool:
    """Claim `user`'s week, build the digest and queue its email, in one transaction; False
    (and nothing built) when the week is already claimed.

    The unique (recipient, week_start) row is the claim, taken before building: a concurrent
    run (a duplicate task, a second beat) waits on the insert, then finds the row taken and
    stops. A failure rolls the claim back with everything else, so the week is tried again.
    `enqueue=False` leaves the email to the caller to send (`carecoord.emails.email_queue`).
    """
    try:
        with transaction.atomic():
            delivery = DigestDelivery.objects.create(recipient=user, week_start=week_start, built_at=now)
            with reading_for_reports():  # from the replica, when there is one
                digest = build_digest(user, week_start, now.astimezone(zone).date(), zone=zone)
            delivery.content = digest.to_content()
            delivery.email = email_queue(
                recipient=user,
                template=TEMPLATE,
                context={"digest": email_content(delivery.content), "link": reverse("my-digest")},
                dedupe_key=f"digest:{user.pk}:{week_start}",
                enqueue=enqueue,
                zone=zone,
            )
            delivery.save(update_fields=["content", "email"])
    except IntegrityError as error:
        if _violated(error) != ONE_DIGEST_PER_WEEK:
            raise
        return False  # already claimed
    return True


def _violated(error: IntegrityError) -> str | None:
    """The name of the constraint a database error reports, if any."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def email_content(content: dict[str, Any]) -> dict[str, Any]:
    """The stored digest as its email shows it: the patients with something to report (the
    templates leave the others out; here they are not even walked)."""
    reporting = [p for p in content["patients"] if any(p.get(part) for part in REPORTED_PARTS)]
    return {**content, "patients": reporting}


@dataclass(frozen=True)
class DueDigest:
    """A person whose digest for `week_start` is due and not yet claimed."""

    user: User
    week_start: dt.date
    zone: zoneinfo.ZoneInfo


def digests_due(
    now: dt.datetime, *, users: Iterable[User] | None = None, ignore_schedule: bool = False
) -> list[DueDigest]:
    """The point persons (or `users`) whose send time, in site time, has passed this week and
    whose week is not claimed yet, in four queries whatever their number.

    `ignore_schedule` takes the current week now (the management command), still once.
    """
    people = list(users) if users is not None else point_persons()
    ids = [user.pk for user in people]
    zones = zones_of(ids, now.date())
    preferences = {
        user_id: (weekday, hour)
        for user_id, weekday, hour in DigestPreference.objects.filter(user__in=ids).values_list(
            "user_id", "weekday", "hour"
        )
    }
    due: list[DueDigest] = []
    for user in people:
        zone = zones.get(user.pk, UTC)
        weekday, hour = preferences.get(user.pk, (DEFAULT_WEEKDAY, DEFAULT_HOUR))
        week_start = week_start_of(now, zone) if ignore_schedule else due_week(now, zone, weekday, hour)
        if week_start is not None:
            due.append(DueDigest(user=user, week_start=week_start, zone=zone))
    claimed = set(
        DigestDelivery.objects.filter(recipient__in=ids, week_start__in={d.week_start for d in due}).values_list(
            "recipient_id", "week_start"
        )
    )
    return [d for d in due if (d.user.pk, d.week_start) not in claimed]


def send_due_digests(
    now: dt.datetime | None = None, *, users: Iterable[User] | None = None, ignore_schedule: bool = False
) -> int:
    """Send, in this process, every digest due (`digests_due`); returns how many were sent.

    The beat task spreads the same work over the workers instead (`workspace.tasks`).
    """
    now = now or timezone.now()
    sent = sum(
        digest_deliver(user=d.user, week_start=d.week_start, zone=d.zone, now=now)
        for d in digests_due(now, users=users, ignore_schedule=ignore_schedule)
    )
    if sent:
        logger.info("queued %s weekly digests", sent)
    return sent


def send_digests_of(user_ids: Iterable[int], *, worker: str, now: dt.datetime | None = None) -> tuple[int, list[int]]:
    """Send the digests due of these people (one batch of the beat's fan-out): each built in its
    own transaction, one person's failure logged without stopping the others; then their emails
    from here, over one SMTP conversation (`email_send_here`; a refused one is retried by
    `send_email`). Returns how many were sent and the ids of the people whose digest failed
    (their week stays unclaimed)."""
    now = now or timezone.now()
    sent: list[DueDigest] = []
    failed: list[int] = []
    for due in digests_due(now, users=User.objects.filter(pk__in=list(user_ids), is_active=True).order_by("pk")):
        try:
            if digest_deliver(user=due.user, week_start=due.week_start, zone=due.zone, now=now, enqueue=False):
                sent.append(due)
        except Exception:
            # The person's id only: the digest's content is patient data.
            logger.exception("the weekly digest of user %s failed", due.user.pk)
            failed.append(due.user.pk)
    if sent:
        emails = DigestDelivery.objects.filter(
            recipient__in=[d.user.pk for d in sent], week_start__in={d.week_start for d in sent}, email__isnull=False
        ).order_by("recipient_id")
        email_send_here(emails.values_list("email_id", flat=True), worker=worker)
        logger.info("sent %s weekly digests", len(sent))
    return len(sent), failed
