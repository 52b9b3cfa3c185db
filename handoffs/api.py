"""The hand-off API: templates (read) and hand-offs (start, fill in, send, acknowledge, ask).

Thin like `carecoord.api.views`: every object behind a URL comes from a scoped selector, so one
outside the user's scope answers 404 whatever the method; a role that may not act answers 403
(the services raise it); bad input answers 400 with a message per field. Sending a hand-off
with fields not right yet answers 400 keyed "values.section.field".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.access import get_visible_or_404
from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.schema import ErrorSerializer
from carecoord.api.views import RecordCareActionsMixin, ScopeBeforeMethodMixin, actor_of
from carecoord.selectors.related import load_related
from handoffs import serializers as s
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplate, HandoffTemplateVersion
from handoffs.pdf import handoff_pdf_download
from handoffs.selectors import get_template_for_user, handoffs_visible_to, templates_visible_to
from handoffs.services import handoff_acknowledge, handoff_ask, handoff_save, handoff_send, handoff_start

TEMPLATE_ID = OpenApiParameter("template_id", int, OpenApiParameter.PATH)
HANDOFF_ID = OpenApiParameter("handoff_id", int, OpenApiParameter.PATH)


class DraftHasNoPdf(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A draft has no PDF: send the hand-off first."
    default_code = "draft"


def _parse(serializer_class: type[Any], request: Request, context: Mapping[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Templates ------------------------------------------------------------------------------


def _published_versions() -> Prefetch:
    published = HandoffTemplateVersion.objects.filter(status=HandoffTemplateVersion.Status.PUBLISHED)
    return Prefetch("versions", queryset=published.order_by("-number"), to_attr="published_versions")


@extend_schema_view(
    list=extend_schema(summary="Hand-off templates the requesting user may use, with their published version"),
    retrieve=extend_schema(summary="One hand-off template", parameters=[TEMPLATE_ID]),
)
class HandoffTemplateViewSet(ScopeBeforeMethodMixin, viewsets.ReadOnlyModelViewSet[HandoffTemplate]):
    """Shared templates and those of the requesting user's sites. New hand-offs use the published version."""

    serializer_class = s.HandoffTemplateSerializer
    ordering_fields = ["name"]
    lookup_url_kwarg = "template_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[HandoffTemplate]:
        return (
            templates_visible_to(self.request.user).select_related("owner_site").prefetch_related(_published_versions())
        )

    def get_object(self) -> HandoffTemplate:
        template = get_template_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])
        prefetch_related_objects([template], "owner_site", _published_versions())
        return template


# --- Hand-offs ------------------------------------------------------------------------------


class HandoffFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    state = django_filters.MultipleChoiceFilter(choices=Handoff.State.choices)
    from_site = django_filters.NumberFilter(field_name="from_site_id")
    to_site = django_filters.NumberFilter(field_name="to_site_id")

    class Meta:
        model = Handoff
        fields = ["patient", "state", "from_site", "to_site"]


def _questions() -> Prefetch:
    return Prefetch("questions", queryset=HandoffQuestion.objects.select_related("author", "site"))


@extend_schema_view(
    list=extend_schema(
        summary="Hand-offs of the requesting user's patients, newest first",
        description="Each hand-off as a summary with its `url`; its values, questions and schema are in the hand-off.",
    ),
    retrieve=extend_schema(
        summary="One hand-off, with the schema of its template version",
        parameters=[HANDOFF_ID],
        responses=s.HandoffDetailSerializer,
    ),
    create=extend_schema(
        summary="Start a hand-off from your site to the other site of the care team, prefilled",
        request=s.HandoffCreateSerializer,
        responses={201: s.HandoffDetailSerializer},
    ),
)
class HandoffViewSet(
    IdempotentWritesMixin,
    RecordCareActionsMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Handoff],
):
    """Filled templates handed from one care-team site to the other: draft → sent → acknowledged."""

    serializer_class = s.HandoffSummarySerializer
    filterset_class = HandoffFilter
    ordering_fields = ["created_at", "sent_at", "acknowledge_by"]
    lookup_url_kwarg = "handoff_id"
    lookup_value_regex = r"[0-9]+"

    def _visible(self, *relations: str) -> QuerySet[Handoff]:
        # The sites and people it names are read beside it (`s.HANDOFF_PARTIES`, see `_parties`):
        # joined as well, the query took longer to plan than to run.
        return handoffs_visible_to(self.request.user).select_related(None).select_related(*relations)

    def get_queryset(self) -> QuerySet[Handoff]:
        # Only the list reads it (one hand-off comes through `get_object`): summaries, so
        # neither the questions, the values, the version's schema nor the patient (its id only).
        return self._visible("version__template").defer("values", "version__schema")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        handoffs = page if page is not None else list(queryset)
        load_related(handoffs, *s.HANDOFF_PARTIES)
        data = self.get_serializer(handoffs, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    recording_actions = frozenset({"values", "send", "acknowledge", "questions"})

    def _load(self, handoff_id: object) -> Handoff:
        handoff = get_visible_or_404(self._visible("patient", "version__template"), handoff_id, "hand-off")
        load_related([handoff], *s.HANDOFF_PARTIES)
        return handoff

    def get_object(self) -> Handoff:
        handoff = self._load(self.kwargs[self.lookup_url_kwarg])
        return self.gated(handoff, handoff.patient)

    def _detail(self, handoff: Handoff) -> Handoff:
        # Reloaded through the access path: what was written is shown as the user now sees it.
        handoff = self._load(handoff.pk)
        prefetch_related_objects([handoff], _questions())
        return handoff

    def _render(self, handoff: Handoff, status_code: int = status.HTTP_200_OK) -> Response:
        data = s.HandoffDetailSerializer(self._detail(handoff), context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        handoff = self.get_object()
        prefetch_related_objects([handoff], _questions())
        return Response(s.HandoffDetailSerializer(handoff, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _parse(s.HandoffCreateSerializer, request, self.get_serializer_context())
        handoff = handoff_start(actor=actor_of(request), **data)
        return self._render(handoff, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Save a draft's values: POST replaces them all, PATCH changes only those sent (null clears)",
        description="The draft keeps the values as typed; the answer says what is not right yet.",
        parameters=[HANDOFF_ID],
        request=s.HandoffValuesSerializer,
        responses=s.HandoffSavedSerializer,
    )
    # JSON only: a form body cannot carry the nested sections and rows, and a flat
    # `values=…` field would otherwise be read as "no values" and saved as a silent no-op.
    @action(detail=True, methods=["post", "patch"], parser_classes=[JSONParser])
    def values(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        handoff = self.get_object()
        context = {**self.get_serializer_context(), "paths": s.schema_paths(handoff.version.schema)}
        values = _parse(s.HandoffValuesSerializer, request, context)["values"]
        if request.method == "PATCH":
            values = {**handoff.values, **values}
        errors = handoff_save(actor=actor_of(request), handoff=handoff, values=values)
        saved = {"handoff": self._detail(handoff), "errors": errors}
        return Response(s.HandoffSavedSerializer(saved, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Send the draft to the receiving site; 400 keyed values.section.field while fields are not right",
        parameters=[HANDOFF_ID],
        request=None,
        responses=s.HandoffDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._render(handoff_send(actor=actor_of(request), handoff=self.get_object()))

    @extend_schema(
        summary="Acknowledge a sent hand-off, as the receiving site's point person",
        parameters=[HANDOFF_ID],
        request=None,
        responses=s.HandoffDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._render(handoff_acknowledge(actor=actor_of(request), handoff=self.get_object()))

    @extend_schema(
        summary="The sent hand-off as a PDF (a draft has none: 409)",
        parameters=[HANDOFF_ID],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(ErrorSerializer, description="A draft has no PDF: send the hand-off first."),
        },
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        handoff = self.get_object()
        if handoff.state == Handoff.State.DRAFT:
            raise DraftHasNoPdf()
        return handoff_pdf_download(request, handoff)

    @extend_schema(
        summary="Ask a question about a sent hand-off, answer the other site's, or add a note (either site)",
        parameters=[HANDOFF_ID],
        request=s.HandoffQuestionInputSerializer,
        responses={201: s.HandoffQuestionSerializer},
    )
    @action(detail=True, methods=["post"])
    def questions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        handoff = self.get_object()
        data = _parse(s.HandoffQuestionInputSerializer, request, self.get_serializer_context())
        question = handoff_ask(
            actor=actor_of(request), handoff=handoff, body=data["body"], needs_answer=data["needs_answer"]
        )
        return Response(
            s.HandoffQuestionSerializer(question, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
