"""Writing to and reading from a patient's shared timeline (carecoord.models.TimelineEntry)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
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
) -> TimelineEntry:
    """Add one entry; call it inside the transaction of the change it reports."""
    return TimelineEntry.objects.create(
        patient=patient,
        kind=kind,
        title=title[:200],
        actor=actor,
        site=site,
        body=body,
        occurred_at=occurred_at or timezone.now(),
    )


def timeline_of(patient: Patient) -> QuerySet[TimelineEntry]:
    """Every entry of an already-authorised patient, oldest first, in one query."""
    return TimelineEntry.objects.filter(patient=patient).select_related("site", "actor")


def comments_of(patient: Patient) -> QuerySet[TimelineEntry]:
    """The messages between the care-team sites on an already-authorised patient's timeline, oldest first."""
    return timeline_of(patient).filter(kind=TimelineEntry.Kind.COMMENT)
