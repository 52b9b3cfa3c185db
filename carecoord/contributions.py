"""What the core contributes to the combined pages: the digest's recent events and the work
queue's care-team links that name no primary point person. Registered in `AppConfig.ready`,
like each domain app's own `contributions`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, QuerySet

from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, recent_window, register_digest_section
from carecoord.lookups import InArray
from carecoord.models import CareTeamLink, TimelineEntry
from carecoord.models.deaths import alive_by_key
from carecoord.roles import Capability
from carecoord.selectors.patients import links_without_primary
from carecoord.selectors.sites import sites_where_role_can
from carecoord.work_queue import QueueList, QueueScope, Slot, read_per_shape, register_queue_list


def digest_recent_events(scope: DigestScope) -> SectionRead:
    """The past week of every patient's timeline, in one query; but the referral's steps,
    which the referrals app tells in one line a patient (`referrals.contributions`)."""
    since, until = recent_window(scope)
    read = SectionRead()
    # The biggest read of a digest (a week of every patient's events): tuples, not model
    # instances, and each day's label formatted once.
    day_labels: dict[dt.date, str] = {}
    for patient_id, occurred_at, title in (
        TimelineEntry.objects.filter(scope.of_patients(), occurred_at__gte=since, occurred_at__lt=until)
        .exclude(kind=TimelineEntry.Kind.REFERRAL)
        .values_list("patient_id", "occurred_at", "title")
    ):
        day = occurred_at.astimezone(scope.zone).date()
        label = day_labels.get(day) or day_labels.setdefault(day, scope.day_text(day))
        read.recent.append((patient_id, f"{label}: {title}"))
    return read


def _without_primary(scope: QueueScope) -> QuerySet[CareTeamLink]:
    managing = sites_where_role_can(scope.memberships, Capability.MANAGE_CARE_TEAM)
    return links_without_primary(scope.user, managing).filter(alive_by_key())


# What a row of the list shows, of the link, its patient and site.
QUEUE_ROW = ("patient__given_name", "patient__family_name", "site__name")


@read_per_shape()
def queue_links_without_primary(scope: QueueScope) -> QuerySet[CareTeamLink]:
    """The viewer's sites that name no primary point person for a patient alive.

    The rows shown are picked from the links alone (a subquery computed first as an array, with
    the patient's death read by the patient's key), then joined with what they show: PostgreSQL
    took longer to plan the walk joined with the patients and sites than to run it (the
    statement took 2.8 ms for someone of eight practices, 1.4 for someone of one; now 1.7 and
    1.0)."""
    picked = _without_primary(scope).values("pk")[: scope.limit]
    return (
        CareTeamLink.objects.filter(InArray(F("pk"), picked))
        .select_related("patient", "site")
        .only(*QUEUE_ROW)
        .order_by("joined_at")
    )


def unnamed_patients(scope: QueueScope) -> QuerySet[Any]:
    return _without_primary(scope).order_by().values("patient_id")


def register_core_contributions() -> None:
    register_digest_section(DigestSection(name="recent events", order=10, read=digest_recent_events))
    register_queue_list(
        QueueList(
            name="unnamed",
            slot=Slot.URGENT,
            order=10,
            read_order=20,
            template="carecoord/_queue_unnamed.html",
            items=queue_links_without_primary,
            patients=unnamed_patients,
        )
    )
