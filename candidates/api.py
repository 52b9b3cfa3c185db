"""The treatment history API: lines of therapy and transplant candidacy of the user's patients.

Thin like `education.api`: a line behind a URL comes from `candidates.selectors`, so one
outside the user's scope answers 404; a role that may not record care answers 403 (the service
raises it, or the patient is loaded for recording before the body is read); bad input answers
400 with a message per field.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from candidates import serializers as s
from candidates.filters import TherapyLineFilter
from candidates.models import TherapyLine
from candidates.selectors import (
    assessment_of,
    get_therapy_line_for_user,
    therapy_lines_visible_to,
    transplant_candidacy_of,
)
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.schema import NOT_FOUND
from carecoord.api.views import PatientRecordView, RecordCareActionsMixin, ScopeBeforeMethodMixin, actor_of
from carecoord.reads import shown

LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH)
PATIENT_ID = OpenApiParameter("patient_id", str, OpenApiParameter.PATH)


CORRECTED = (
    "The line's values, and your site on the care team that records the change and then signs the line; "
    "the audit trail keeps what it said before. Each line number once per patient: a number already "
    "recorded answers 400 on `number`."
)


@extend_schema_view(
    list=extend_schema(summary="Lines of therapy of the requesting user's patients, by patient and line"),
    retrieve=extend_schema(summary="One line of therapy", parameters=[LINE_ID]),
    create=extend_schema(
        summary="Record a line of therapy the patient received, from your site on the care team",
        request=s.TherapyLineInputSerializer,
        responses={201: s.TherapyLineSerializer},
        description="Each line number once per patient: a number already recorded answers 400 on `number`.",
    ),
    update=extend_schema(
        summary="Correct a line of therapy: all its values",
        parameters=[LINE_ID],
        request=s.TherapyLineValuesSerializer,
        responses=s.TherapyLineSerializer,
        description=CORRECTED,
    ),
    partial_update=extend_schema(
        summary="Complete or correct some of a line's values (its end, response, refractoriness, relapse)",
        parameters=[LINE_ID],
        request=s.TherapyLineValuesSerializer,
        responses=s.TherapyLineSerializer,
        description=CORRECTED + " Fields not sent keep their values; `site` is always sent.",
    ),
)
class TherapyLineViewSet(
    IdempotentWritesMixin,
    RecordCareActionsMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[TherapyLine],
):
    """Regimen, drug classes, dates, best response, refractoriness and relapse of each line.

    No DELETE, as on the pages: a line recorded in error is corrected, and the audit trail keeps
    what it said."""

    serializer_class = s.TherapyLineSerializer
    filterset_class = TherapyLineFilter
    ordering_fields = ["number", "started_on"]
    lookup_url_kwarg = "line_id"
    lookup_value_regex = r"[0-9]+"
    recording_actions = frozenset({"update", "partial_update"})

    def get_queryset(self) -> QuerySet[TherapyLine]:
        return therapy_lines_visible_to(self.request.user)

    def get_object(self) -> TherapyLine:
        line = get_therapy_line_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])
        return self.gated(line, line.patient)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(
            request, s.TherapyLineInputSerializer(data=request.data, context=self.get_serializer_context())
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        line = self.get_object()  # 404 outside the care team, then 403 for a role that may not record care
        partial = kwargs.get("partial", False)
        values = s.TherapyLineValuesSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        return self._save(request, values, line)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def _save(self, request: Request, data: s.TherapyLineValuesSerializer, line: TherapyLine | None = None) -> Response:
        """Record the line parsed by `data`, or correct `line` with it (what a PATCH leaves out is kept)."""
        data.is_valid(raise_exception=True)
        values = {name: getattr(line, name) for name in s.LINE_VALUES} if line is not None else {}
        values |= data.validated_data
        if line is not None:
            values["patient"] = line.patient
        saved = therapy_line_record(actor=actor_of(request), line=line, **values)
        answer = status.HTTP_201_CREATED if line is None else status.HTTP_200_OK
        return Response(self.get_serializer(get_therapy_line_for_user(request.user, saved.pk)).data, status=answer)


class TransplantCandidacyView(PatientRecordView):
    """Whether one patient is a transplant candidate, and why (never a reason against CAR-T)."""

    serializer_class = s.TransplantCandidacySerializer

    @extend_schema(
        summary="The patient's transplant candidacy",
        parameters=[PATIENT_ID],
        responses={200: s.TransplantCandidacySerializer, 404: NOT_FOUND},
        description="404 also when the patient's candidacy was never recorded.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        candidacy = transplant_candidacy_of(patient.pk)
        if candidacy is None:
            raise Http404("No transplant candidacy recorded.")
        return Response(s.TransplantCandidacySerializer(candidacy).data)

    @extend_schema(
        summary="Record whether the patient is a transplant candidate, from your site on the care team",
        parameters=[PATIENT_ID],
        request=s.TransplantCandidacyInputSerializer,
        responses={200: s.TransplantCandidacySerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        data = s.TransplantCandidacyInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        candidacy = transplant_candidacy_record(actor=actor_of(request), patient=patient, **data.validated_data)
        return Response(s.TransplantCandidacySerializer(candidacy).data)


class CandidacyView(PatientRecordView):
    """Whether one patient meets, or is one step from, a labelled use of a CAR-T product."""

    serializer_class = s.CandidacySerializer

    @extend_schema(
        summary="Whether the patient is, or is about to be, a CAR-T candidate (advisory only), and why",
        parameters=[PATIENT_ID],
        responses={200: s.CandidacySerializer, 404: NOT_FOUND},
        description="Matched today against the active indication rules; never a gate nor a reason to refuse.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        shown(patient, what="viewed CAR-T candidacy")
        assessment = assessment_of(patient)
        body = {
            "standing": assessment.standing,
            "products": assessment.products,
            "prompts": assessment.prompts,
            "notes": list(assessment.notes),
        }
        return Response(s.CandidacySerializer(body).data)
