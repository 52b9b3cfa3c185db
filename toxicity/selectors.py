"""Reads of toxicity events and alerts, always scoped through the patient's access path."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404

from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from toxicity.models import Alert, ToxicityAssessment, ToxicityEvent, ToxicityTreatment


def toxicity_events_visible_to(user: AnyUser) -> QuerySet[ToxicityEvent]:
    return ToxicityEvent.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "patient", "reporting_site", "reported_by"
    )


def event_prefetches() -> list[Prefetch]:
    """The course, treatments and alerts of events, in three queries whatever their number."""
    return [
        Prefetch("assessments", queryset=ToxicityAssessment.objects.select_related("assessed_by", "site")),
        Prefetch("treatments", queryset=ToxicityTreatment.objects.select_related("recorded_by", "site")),
        Prefetch("alerts", queryset=Alert.objects.select_related("recipient", "site", "acknowledged_by")),
    ]


def get_event_for_user(user: AnyUser, event_id: int | str) -> ToxicityEvent:
    """The event with its course, treatments and alerts prefetched; 404 outside the user's scope."""
    events = toxicity_events_visible_to(user).prefetch_related(*event_prefetches())
    try:
        return events.get(pk=int(event_id))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such event.") from exc


def alerts_visible_to(user: AnyUser) -> QuerySet[Alert]:
    """The user's own alerts about patients they still share care of (in-app notifications)."""
    if not user.is_authenticated:
        return Alert.objects.none()
    return (
        Alert.objects.filter(recipient=user, event__patient__in=patients_visible_to(user))
        .select_related("event__patient", "site")
        .order_by(F("acknowledged_at").asc(nulls_first=True), "-created_at")
    )


def get_alert_for_user(user: AnyUser, alert_id: int | str) -> Alert:
    try:
        return alerts_visible_to(user).get(pk=int(alert_id))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such alert.") from exc
