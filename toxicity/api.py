"""The toxicity API: events with their course, treatments and alerts, and the user's own alerts.

Thin like `carecoord.api.views`: every object behind a URL comes from `toxicity.selectors`, so one
outside the user's scope answers 404 whatever the method; a role that may not record care answers
403 (the services raise it); bad input answers 400 with a message per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.views import RecordCareActionsMixin, ScopeBeforeMethodMixin, actor_of
from toxicity import filters
from toxicity import serializers as s
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert, ToxicityEvent
from toxicity.selectors import (
    alerts_visible_to,
    get_alert_for_user,
    get_event_for_user,
    toxicity_events_visible_to,
)
from toxicity.services import (
    manufacturer_report_record,
    toxicity_add_treatment,
    toxicity_assess,
    toxicity_record,
    toxicity_resolve,
)

EVENT_ID = OpenApiParameter("event_id", int, OpenApiParameter.PATH)
ALERT_ID = OpenApiParameter("alert_id", int, OpenApiParameter.PATH)


def _parse(serializer_class: type[Any], request: Request, context: Mapping[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Events ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Toxicity events of the requesting user's patients, newest onset first",
        description="Each event as a summary with its `url`; its course, treatments and alerts are in the event.",
    ),
    retrieve=extend_schema(summary="One toxicity event with its course, treatments and alerts", parameters=[EVENT_ID]),
    create=extend_schema(
        summary="Record a toxicity from your site on the patient's care team; every point person is alerted",
        request=s.ToxicityRecordSerializer,
        responses={201: s.ToxicityEventSerializer},
    ),
)
class ToxicityEventViewSet(
    IdempotentWritesMixin,
    RecordCareActionsMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[ToxicityEvent],
):
    """Toxicities after CAR-T, graded by ASTCT (CRS, ICANS) or CTCAE (the rest), recorded by either site."""

    serializer_class = s.ToxicityEventSerializer
    filterset_class = filters.ToxicityEventFilter
    ordering_fields = ["onset_at", "grade", "updated_at"]
    lookup_url_kwarg = "event_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[ToxicityEvent]:
        # Only the list reads it (one event comes through `get_object`): summaries, so neither
        # the nested collections nor the patient, of whom the summary shows the id.
        events = toxicity_events_visible_to(self.request.user)
        return events.select_related(None).select_related(*s.EVENT_SUMMARY_RELATIONS)

    def get_serializer_class(self) -> type[s.ToxicityEventSummarySerializer]:
        return s.ToxicityEventSummarySerializer if self.action == "list" else s.ToxicityEventSerializer

    recording_actions = frozenset({"assessments", "treatments", "resolve", "manufacturer_report"})

    def get_object(self) -> ToxicityEvent:
        event = get_event_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])
        return self.gated(event, event.patient)

    def _render(self, event: ToxicityEvent, status_code: int = status.HTTP_200_OK) -> Response:
        # Reloaded through the access path: what was written is shown as the user now sees it.
        event = get_event_for_user(self.request.user, event.pk)
        return Response(self.get_serializer(event).data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        return Response(self.get_serializer(event).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _parse(s.ToxicityRecordSerializer, request, self.get_serializer_context())
        event = toxicity_record(actor=actor_of(request), **data)
        return self._render(event, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Grade the event again; the course is kept and a rising grade alerts the point persons",
        parameters=[EVENT_ID],
        request=s.ToxicityAssessInputSerializer,
        responses={201: s.ToxicityEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def assessments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        context = {**self.get_serializer_context(), "kind": event.kind}
        data = _parse(s.ToxicityAssessInputSerializer, request, context)
        toxicity_assess(actor=actor_of(request), event=event, **data)
        return self._render(event, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a treatment given for the event (tocilizumab, steroids, ICU transfer...)",
        parameters=[EVENT_ID],
        request=s.ToxicityTreatmentInputSerializer,
        responses={201: s.ToxicityEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def treatments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        data = _parse(s.ToxicityTreatmentInputSerializer, request, self.get_serializer_context())
        toxicity_add_treatment(actor=actor_of(request), event=event, **data)
        return self._render(event, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close the event with its outcome; the point persons are told",
        parameters=[EVENT_ID],
        request=s.ToxicityResolveInputSerializer,
        responses=s.ToxicityEventSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        data = _parse(s.ToxicityResolveInputSerializer, request, self.get_serializer_context())
        return self._render(toxicity_resolve(actor=actor_of(request), event=event, **data))

    @extend_schema(
        summary="Record when a secondary malignancy was reported to the product's manufacturer",
        description="Only for an event of kind `secondary_malignancy`; once per event. The event's "
        "`manufacturer_report` then says when, to whom and by whom.",
        parameters=[EVENT_ID],
        request=s.ManufacturerReportInputSerializer,
        responses={201: s.ToxicityEventSerializer},
    )
    @action(detail=True, methods=["post"], url_path="manufacturer-report", url_name="manufacturer-report")
    def manufacturer_report(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        data = _parse(s.ManufacturerReportInputSerializer, request, self.get_serializer_context())
        manufacturer_report_record(actor=actor_of(request), event=event, **data)
        return self._render(event, status.HTTP_201_CREATED)


# --- Alerts ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The requesting user's toxicity alerts, unacknowledged first"),
    retrieve=extend_schema(summary="One of the requesting user's alerts", parameters=[ALERT_ID]),
)
class AlertViewSet(IdempotentWritesMixin, ScopeBeforeMethodMixin, viewsets.ReadOnlyModelViewSet[Alert]):
    """Same-day alerts sent to the requesting user as a point person; nobody else's."""

    serializer_class = s.AlertSerializer
    filterset_class = filters.AlertFilter
    ordering_fields = ["created_at"]
    lookup_url_kwarg = "alert_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Alert]:
        # Unacknowledged (NULL) first, then the latest acknowledged.
        # Walks the `alert_inbox_order` index; the alert shows its event's patient by id only.
        return (
            alerts_visible_to(self.request.user)
            .select_related(None)
            .select_related("event", "site", "acknowledged_by")
            .order_by(F("acknowledged_at").desc(nulls_first=True), "-created_at", "-pk")
        )

    def get_object(self) -> Alert:
        return get_alert_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])

    @extend_schema(
        summary="Acknowledge the alert; your site's other open alerts on the event, up to its grade, count as seen too",
        parameters=[ALERT_ID],
        request=None,
        responses=s.AlertSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        acknowledged = alert_acknowledge(actor=actor_of(request), alert=self.get_object())
        alert = get_alert_for_user(request.user, acknowledged.alert.pk)
        return Response(self.get_serializer(alert).data)
