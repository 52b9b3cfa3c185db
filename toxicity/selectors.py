"""Reads of toxicity events and alerts, always scoped through the patient's access path."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable

from django.db.models import Count, F, Prefetch, QuerySet
from django.utils import timezone

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.access.walks import seen_row_by_row
from carecoord.lookups import AnyOf
from carecoord.models import OutgoingEmail, Patient, Site
from carecoord.outages import late_threshold
from toxicity.assessment import Circumstances, is_pediatric
from toxicity.models import (
    FEVER_MASKING,
    Alert,
    AlertQuerySet,
    ManufacturerReport,
    ToxicityAssessment,
    ToxicityEvent,
    ToxicityEventQuerySet,
    ToxicityKind,
    ToxicityTreatment,
)

UNDELIVERED_SHOWN = 20


@functools.cache
def _events_with_timing() -> ToxicityEventQuerySet:
    """`ToxicityEvent.objects.with_timing()`, built once per process: its two subqueries took
    0.7 ms to build on every list and page of events, a copy of them a twentieth of that (it
    depends on nothing of the request: day 0 is read in SQL, as it is when the query runs).
    Never evaluate it itself: only clones of it (`.filter()`) are read, so it holds no rows."""
    return ToxicityEvent.objects.with_timing()


def toxicity_events_visible_to(user: AnyUser) -> QuerySet[ToxicityEvent]:
    """The events of the user's patients, with their timing (day +N, flags) from day 0 as it is now."""
    return (
        _events_with_timing()
        .filter(patient_id__in=visible_patient_ids(user))
        .select_related("patient", "reporting_site", "reported_by")
    )


def assessment_circumstances(
    *, patient: Patient, kind: str, at: dt.datetime, site: Site, event: ToxicityEvent | None = None
) -> tuple[Circumstances, ToxicityTreatment | None]:
    """What the record adds to an assessment of `kind` made at `at` by `site`: whether the
    patient is graded as a child (ICANS), and the treatment that masks fever (CRS), if any."""
    pediatric = kind == ToxicityKind.ICANS and is_pediatric(patient.date_of_birth, site.date_of(at))
    masked_by = None
    if kind == ToxicityKind.CRS and event is not None and event.pk is not None:
        masked_by = (
            ToxicityTreatment.objects.filter(event=event, kind__in=FEVER_MASKING, given_at__lte=at)
            .order_by("given_at", "pk")
            .first()
        )
    by = ""
    if masked_by is not None:
        given = site.time_of(masked_by.given_at)
        by = f"{masked_by.get_kind_display().lower()} given {given:%d %b %Y, %H:%M}"
    return Circumstances(pediatric=pediatric, fever_masked_by=by), masked_by


def event_prefetches() -> list[Prefetch]:
    """The course, treatments and alerts of events, in three queries whatever their number."""
    return [
        Prefetch(
            "assessments", queryset=ToxicityAssessment.objects.select_related("assessed_by", "site", "fever_masked_by")
        ),
        Prefetch("treatments", queryset=ToxicityTreatment.objects.select_related("recorded_by", "site")),
        Prefetch("alerts", queryset=Alert.objects.select_related("recipient", "site", "acknowledged_by")),
    ]


def get_event_for_user(user: AnyUser, event_id: int | str) -> ToxicityEvent:
    """The event with its course, treatments, alerts and manufacturer report prefetched; 404
    outside the user's scope. The report is a query of its own: joined to the event's (three
    more tables), it took PostgreSQL 1 ms more to plan than the event's query and the report's
    together (2-3 ms a view, most events having none)."""
    report = Prefetch("manufacturer_report", queryset=ManufacturerReport.objects.select_related("recorded_by", "site"))
    events = toxicity_events_visible_to(user).prefetch_related(*event_prefetches(), report)
    return get_visible_or_404(events, event_id, "event")


def manufacturer_reports_pending(user: AnyUser) -> QuerySet[ToxicityEvent]:
    """Secondary malignancies of the user's patients not yet reported to the manufacturer, oldest
    first, with the patient and the recording site the work queue shows (not the timing from
    day 0 nor the reporter the event's page shows: planning them cost the dashboard 1 ms)."""
    return (
        ToxicityEvent.objects.filter(
            patient_id__in=visible_patient_ids(user),
            kind=ToxicityKind.SECONDARY_MALIGNANCY,
            manufacturer_report__isnull=True,
        )
        .select_related("patient", "reporting_site")
        .order_by("onset_at", "pk")
    )


def alerts_visible_to(user: AnyUser) -> AlertQuerySet:
    """The user's own alerts about patients they still share care of (in-app notifications):
    each one's patient checked in the grants (`seen_row_by_row`: a person's alerts are few, the
    patients they see may be the whole network's)."""
    if not user.is_authenticated:
        return Alert.objects.none()
    return (
        Alert.objects.filter(seen_row_by_row(user), recipient=user)
        .select_related("event__patient", "site")
        .order_by(F("acknowledged_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def waiting_alert_count(user: AnyUser) -> int:
    """How many of the user's alerts wait for their acknowledgement: the header's badge, the
    alerts page's status line, the work queue's heading."""
    return alerts_visible_to(user).unacknowledged().count()


def get_alert_for_user(user: AnyUser, alert_id: int | str) -> Alert:
    return get_visible_or_404(alerts_visible_to(user), alert_id, "alert")


def undelivered_alerts(patient: Patient) -> list[Alert]:
    """Alerts of `patient` (loaded by the caller through the access path) whose email has not
    gone out in the warning time, shown until delivered. (The work queue's, of the viewer's
    sites: `unsent_alerts_for` read by `late_among`.)"""
    alerts = late_among(_unsent().filter(event__patient=patient), "event")
    for alert in alerts:
        alert.event.patient = patient
    return alerts


def _unsent() -> AlertQuerySet:
    return Alert.objects.exclude(email__status=OutgoingEmail.Status.SENT)


def unsent_alerts_for(user: AnyUser, site_ids: Iterable[int]) -> AlertQuerySet:
    """Alerts of the user's patients sent for one of `site_ids` whose email has not gone out,
    late or not yet, before the clock: `late_among` reads which are late (the work queue keeps
    this part built for each shape of viewer)."""
    return _unsent().filter(event__patient_id__in=visible_patient_ids(user), site_id__in=list(site_ids))


def late_among(unsent: QuerySet[Alert], event: str) -> list[Alert]:
    """The alerts of `unsent` whose email has not gone out in the warning time, oldest first.

    The patient's page and the dashboard ask on every view and nearly always find none: a
    query of the alerts' ids alone first (PostgreSQL plans the three or four tables in a
    fraction of the time of the six or seven the banner reads: 5-6 ms on a large network),
    then, only when there are any, the alerts with what the banner shows (`event`: the event
    alone, or with its patient)."""
    late = unsent.filter(email__created_at__lt=timezone.now() - late_threshold())
    ids = list(late.order_by("email__created_at").values_list("pk", flat=True)[:UNDELIVERED_SHOWN])
    if not ids:
        return []
    shown = Alert.objects.filter(pk__in=ids).select_related("recipient", "site", "email", event)
    return list(shown.order_by("email__created_at"))


def open_alert_counts(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For each of `patient_ids` with any, how many of their toxicity events have an alert nobody
    has acknowledged yet, in one query."""
    rows = (
        Alert.objects.unacknowledged()
        .filter(AnyOf(F("event__patient_id"), list(patient_ids)))
        .order_by()
        .values("event__patient_id")
        .annotate(events=Count("event_id", distinct=True))
        .values_list("event__patient_id", "events")
    )
    return dict(rows)


def active_toxicities_of(patient: Patient) -> list[ToxicityEvent]:
    """The active events of an already-authorised patient, worst first, with their timing and
    their alerts (who acknowledged them, at which site): two queries whatever their number."""
    alerts = Alert.objects.select_related("site", "acknowledged_by").order_by("created_at", "pk")
    return list(_active_of(patient).with_timing().prefetch_related(Prefetch("alerts", queryset=alerts)))


def active_events_brief(patient: Patient) -> list[ToxicityEvent]:
    """The active events of an already-authorised patient, worst first, with the site that
    recorded each and nothing else (the record page names them, to be reassessed rather than
    recorded twice): one query whatever their number."""
    return list(_active_of(patient))


def _active_of(patient: Patient) -> ToxicityEventQuerySet:
    return (
        ToxicityEvent.objects.active()
        .filter(patient=patient)
        .select_related("reporting_site")
        .order_by("-grade", "onset_at", "pk")
    )
