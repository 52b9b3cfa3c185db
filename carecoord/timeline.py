"""Writing to and reading from a patient's shared timeline (carecoord.models.TimelineEntry)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Model, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from carecoord.models import Patient, Site, TimelineEntry, User


def timeline_record(
    *,
    patient: Patient,
    kind: str,
    title: str,
    actor: User | None = None,
    site: Site | None = None,
    body: str = "",
    occurred_at: dt.datetime | None = None,
    subject: Model | None = None,
) -> TimelineEntry:
    """Add one entry; call it inside the transaction of the change it reports. `subject` is the
    object the entry is about (a referral, a milestone, a toxicity event, a hand-off): the
    timeline links the entry to its page."""
    return TimelineEntry.objects.create(
        patient=patient,
        kind=kind,
        title=title[:200],
        actor=actor,
        site=site,
        body=body,
        occurred_at=occurred_at or timezone.now(),
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
    )


def timeline_of(patient: Patient) -> QuerySet[TimelineEntry]:
    """Every entry of an already-authorised patient, oldest first, in one query."""
    return TimelineEntry.objects.filter(patient=patient).select_related("site", "actor")


def comments_of(patient: Patient) -> QuerySet[TimelineEntry]:
    """The messages between the care-team sites on an already-authorised patient's timeline, oldest first."""
    return timeline_of(patient).filter(kind=TimelineEntry.Kind.COMMENT)


@dataclass(frozen=True)
class TimelineCounts:
    total: int
    before: int  # entries before the moment asked about
    comments: int


def timeline_counts(patient: Patient, before: dt.datetime) -> TimelineCounts:
    """How many entries the patient's timeline holds, how many of them are older than `before`,
    and how many are comments: one query."""
    counts = TimelineEntry.objects.filter(patient=patient).aggregate(
        total=Count("pk"),
        before=Count("pk", filter=Q(occurred_at__lt=before)),
        comments=Count("pk", filter=Q(kind=TimelineEntry.Kind.COMMENT)),
    )
    return TimelineCounts(total=counts["total"], before=counts["before"], comments=counts["comments"])


def days_with_entries(patient: Patient, before: dt.datetime, zone: dt.tzinfo, limit: int) -> list[dt.date]:
    """The latest `limit` calendar days in `zone` that have entries older than `before`, newest
    first: one query, for paging the history by day."""
    days = (
        TimelineEntry.objects.filter(patient=patient, occurred_at__lt=before)
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values_list("day", flat=True)
        .distinct()
        .order_by("-day")[:limit]
    )
    return list(days)
