"""The labs API: the results of the user's patients, and recording one or several at once.

Thin like `toxicity.api`: every result behind a URL comes from `labs.selectors`, so one outside
the user's scope answers 404 whatever the method; a role that may not record care answers 403
(the service raises it); bad input answers 400 with a message per field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.access import get_patient_for_user
from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.schema import NOT_FOUND
from carecoord.api.views import ScopeBeforeMethodMixin, actor_of
from carecoord.roles import Capability
from labs import filters
from labs import serializers as s
from labs.forms import dates_on
from labs.models import LabFlagNotice, LabResult
from labs.selectors import get_lab_result_for_user, lab_results_for_user, lab_results_visible_to
from labs.services import lab_flag_acknowledge, lab_results_record
from referrals.day_zero import day_zero_of

RESULT_ID = OpenApiParameter("result_id", int, OpenApiParameter.PATH)


def _notified(notices: list[LabFlagNotice]) -> list[dict[str, Any]]:
    """Each person told, once however many values: the notices of one entry, already in memory."""
    people: dict[int, dict[str, Any]] = {}
    for notice in notices:
        people.setdefault(
            notice.recipient_id,
            {
                "recipient_name": notice.recipient.full_name,
                "site": notice.site,
                "role": notice.role,
                "emailed": notice.email_id is not None,
            },
        )
    return list(people.values())


@extend_schema_view(
    list=extend_schema(summary="Lab results of the requesting user's patients, oldest sample first"),
    retrieve=extend_schema(summary="One lab result, with who was told of it if flagged", parameters=[RESULT_ID]),
    create=extend_schema(
        summary="Record a result measured at your site; a flagged value tells every point person today",
        request=s.LabResultInputSerializer,
        responses={201: s.LabResultDetailSerializer, 200: s.LabResultDetailSerializer},
        description="The same value of the same kind, day and site is recorded once: sent again, it answers "
        "200 with the result already recorded and tells nobody again.",
    ),
)
class LabResultViewSet(
    IdempotentWritesMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[LabResult],
):
    """ANC, platelets, hemoglobin, lymphocytes, CD4, IgG, ferritin and CRP, measured at either site."""

    serializer_class = s.LabResultSerializer
    filterset_class = filters.LabResultFilter
    ordering_fields = ["taken_on", "created_at"]
    lookup_url_kwarg = "result_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[LabResult]:
        return lab_results_visible_to(self.request.user)

    def get_serializer_class(self) -> type[s.LabResultSerializer]:
        return s.LabResultSerializer if self.action == "list" else s.LabResultDetailSerializer

    def get_object(self) -> LabResult:
        return get_lab_result_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.LabResultInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recorded = lab_results_record(
            actor=actor_of(request),
            patient=values["patient"],
            site=values["site"],
            entries=values["entries"],
            confirm_date=values["confirm_date"],
        )
        result_id = recorded.created[0].pk if recorded.created else recorded.already[0]
        shown_result = get_lab_result_for_user(request.user, result_id)
        code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        return Response(self.get_serializer(shown_result).data, status=code)

    @extend_schema(
        summary="Record several results measured at your site: a list, or a pasted block or CSV read as the "
        "entry page reads it",
        request=s.LabResultBulkSerializer,
        responses={201: s.LabBulkRecordedSerializer, 200: s.LabBulkRecordedSerializer, 404: NOT_FOUND},
        description="All or nothing: a line that cannot be read answers 400 naming its line (`Line 3: ...`, "
        "with the field for `results`), and nothing is saved. A value already recorded (same kind, day, site "
        "and value) is not recorded again and tells nobody again: 200 when every value sent was already "
        "there. A flagged value tells every point person of the patient today. The patient is looked up "
        "first: one outside your scope answers 404, a role that may not record care 403.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        named = s.PatientNamedSerializer(data=request.data)
        named.is_valid(raise_exception=True)
        patient = get_patient_for_user(request.user, named.validated_data["patient"], Capability.RECORD_CARE)
        data = s.LabResultBulkSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        field, entries = data.read_entries(day_zero=day_zero_of(patient))
        try:
            recorded = lab_results_record(
                actor=actor_of(request),
                patient=patient,
                site=data.validated_data["site"],
                entries=entries,
                confirm_date=data.validated_data["confirm_date"],
            )
        except ValidationError as exc:
            raise dates_on(exc, field, name_field=field == "results") from None
        # Reloaded through the access path, with who was told: one read for the new and the old.
        ids = [*(r.pk for r in recorded.created), *recorded.already]
        loaded = {r.pk: r for r in lab_results_for_user(request.user, ids)}
        answer = {
            "recorded": [loaded[r.pk] for r in recorded.created],
            "repeated": recorded.repeated,
            "already_recorded": [loaded[pk] for pk in recorded.already],
            "notified": _notified(recorded.notices),
        }
        code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        body = s.LabBulkRecordedSerializer(answer, context=self.get_serializer_context()).data
        return Response(body, status=code)

    @extend_schema(
        summary="Acknowledge a flagged result you were told of; your site's open flags of the patient count as seen",
        parameters=[RESULT_ID],
        request=None,
        responses=s.LabResultDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        result = self.get_object()
        notices = LabFlagNotice.objects.filter(result=result, recipient=request.user.pk)
        notice = notices.select_related("result__patient", "site").first()
        if notice is None:
            raise ValidationError({"notice": "You were not told of this result: there is nothing to acknowledge."})
        lab_flag_acknowledge(actor=actor_of(request), notice=notice)
        return Response(self.get_serializer(get_lab_result_for_user(request.user, result.pk)).data)
