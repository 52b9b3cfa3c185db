"""The infections API: infections, the prophylaxis plan and vaccinations of the user's patients.

Thin like `toxicity.api`: every object behind a URL comes from `infections.selectors`, so one
outside the user's scope answers 404 whatever the method; a role that may not record care answers
403 before the body is read; bad input answers 400 with a message per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.views import PatientRecordView, RecordCareActionsMixin, ScopeBeforeMethodMixin, actor_of
from carecoord.reads import shown
from infections import filters
from infections import serializers as s
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from infections.selectors import (
    get_infection_for_user,
    get_prophylaxis_for_user,
    get_vaccination_for_user,
    infections_visible_to,
    prophylaxis_visible_to,
    proposed_plan,
    vaccinations_visible_to,
)
from infections.services import (
    infection_record,
    infection_resolve,
    plan_confirm,
    prophylaxis_add,
    prophylaxis_review,
    prophylaxis_stop,
    vaccination_add,
    vaccination_give,
)

INFECTION_ID = OpenApiParameter("infection_id", int, OpenApiParameter.PATH)
PROPHYLAXIS_ID = OpenApiParameter("prophylaxis_id", int, OpenApiParameter.PATH)
VACCINATION_ID = OpenApiParameter("vaccination_id", int, OpenApiParameter.PATH)


def _parse(serializer_class: type[Any], request: Request, context: Mapping[str, Any]) -> Any:
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer


class _Base(IdempotentWritesMixin, RecordCareActionsMixin, ScopeBeforeMethodMixin, viewsets.GenericViewSet[Any]):
    lookup_value_regex = r"[0-9]+"

    def _render(self, obj: Model, status_code: int = status.HTTP_200_OK) -> Response:
        # Reloaded through the access path: what was written is shown as the user now sees it.
        return Response(self.get_serializer(self._load(obj.pk)).data, status=status_code)

    def _load(self, pk: Any) -> Any:
        raise NotImplementedError

    def get_object(self) -> Any:
        obj = self._load(self.kwargs[str(self.lookup_url_kwarg)])
        return self.gated(obj, obj.patient)


@extend_schema_view(
    list=extend_schema(summary="Infections of the requesting user's patients, newest onset first"),
    retrieve=extend_schema(summary="One infection", parameters=[INFECTION_ID]),
    create=extend_schema(
        summary="Record an infection; grade 3+, ICU or neutropenic fever alerts every point person",
        request=s.InfectionRecordSerializer,
        responses={201: s.InfectionSerializer},
    ),
)
class InfectionViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Infections after CAR-T with site, organism, CTCAE grade and setting, recorded by either site."""

    serializer_class = s.InfectionSerializer
    filterset_class = filters.InfectionFilter
    ordering_fields = ["onset_on", "grade"]
    lookup_url_kwarg = "infection_id"
    recording_actions = frozenset({"resolve"})

    def get_queryset(self) -> QuerySet[InfectionEvent]:
        return infections_visible_to(self.request.user).order_by("-onset_on", "-pk")

    def _load(self, pk: Any) -> InfectionEvent:
        return get_infection_for_user(self.request.user, pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _parse(s.InfectionRecordSerializer, request, self.get_serializer_context()).validated_data
        infection = infection_record(actor=actor_of(request), **data)
        return self._render(infection, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the end of the infection (and of the toxicity it alerted as)",
        parameters=[INFECTION_ID],
        request=s.InfectionResolveSerializer,
        responses=s.InfectionSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        infection = self.get_object()
        data = _parse(s.InfectionResolveSerializer, request, self.get_serializer_context()).validated_data
        return self._render(infection_resolve(actor=actor_of(request), infection=infection, **data))


@extend_schema_view(
    list=extend_schema(summary="Prophylaxis plans of the requesting user's patients; `due=true`: stops to decide"),
    retrieve=extend_schema(summary="One prophylaxis item", parameters=[PROPHYLAXIS_ID]),
    create=extend_schema(
        summary="Add a line to the patient's prophylaxis plan",
        request=s.ProphylaxisAddSerializer,
        responses={201: s.ProphylaxisSerializer},
    ),
)
class ProphylaxisViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The prophylaxis plan (antiviral, PJP, antifungal, antibacterial, hepatitis B, IVIG)."""

    serializer_class = s.ProphylaxisSerializer
    filterset_class = filters.ProphylaxisFilter
    ordering_fields = ["start_on", "planned_stop_on"]
    lookup_url_kwarg = "prophylaxis_id"
    recording_actions = frozenset({"stop", "review"})

    def get_queryset(self) -> QuerySet[ProphylaxisItem]:
        return prophylaxis_visible_to(self.request.user).order_by("start_on", "pk")

    def _load(self, pk: Any) -> ProphylaxisItem:
        return get_prophylaxis_for_user(self.request.user, pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parsed = _parse(s.ProphylaxisAddSerializer, request, self.get_serializer_context())
        data = parsed.validated_data
        item = prophylaxis_add(actor=actor_of(request), patient=data["patient"], site=data["site"], item=parsed.item())
        return self._render(item, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record that the prophylaxis was stopped",
        parameters=[PROPHYLAXIS_ID],
        request=s.ProphylaxisStopSerializer,
        responses=s.ProphylaxisSerializer,
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = _parse(s.ProphylaxisStopSerializer, request, self.get_serializer_context()).validated_data
        return self._render(prophylaxis_stop(actor=actor_of(request), item=item, **data))

    @extend_schema(
        summary="Carry on to a later planned stop",
        parameters=[PROPHYLAXIS_ID],
        request=s.ProphylaxisReviewSerializer,
        responses=s.ProphylaxisSerializer,
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = _parse(s.ProphylaxisReviewSerializer, request, self.get_serializer_context()).validated_data
        return self._render(prophylaxis_review(actor=actor_of(request), item=item, **data))


@extend_schema_view(
    list=extend_schema(summary="Revaccination plans of the requesting user's patients; `due=true`: vaccines due"),
    retrieve=extend_schema(summary="One vaccination", parameters=[VACCINATION_ID]),
    create=extend_schema(
        summary="Plan a vaccine; a live one not before 1 year after the infusion",
        request=s.VaccinationAddSerializer,
        responses={201: s.VaccinationSerializer},
    ),
)
class VaccinationViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The revaccination plan: inactivated vaccines from about day +180, live ones not before 1 year."""

    serializer_class = s.VaccinationSerializer
    filterset_class = filters.VaccinationFilter
    ordering_fields = ["due_on"]
    lookup_url_kwarg = "vaccination_id"
    recording_actions = frozenset({"given"})

    def get_queryset(self) -> QuerySet[VaccinationItem]:
        return vaccinations_visible_to(self.request.user).order_by("due_on", "pk")

    def _load(self, pk: Any) -> VaccinationItem:
        return get_vaccination_for_user(self.request.user, pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parsed = _parse(s.VaccinationAddSerializer, request, self.get_serializer_context())
        data = parsed.validated_data
        item = vaccination_add(actor=actor_of(request), patient=data["patient"], site=data["site"], item=parsed.item())
        return self._render(item, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record that the vaccine was given",
        parameters=[VACCINATION_ID],
        request=s.VaccinationGivenSerializer,
        responses=s.VaccinationSerializer,
    )
    @action(detail=True, methods=["post"])
    def given(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = _parse(s.VaccinationGivenSerializer, request, self.get_serializer_context()).validated_data
        return self._render(vaccination_give(actor=actor_of(request), item=item, **data))


PATIENT_ID = OpenApiParameter("patient_id", str, OpenApiParameter.PATH)


class PreventionPlanView(PatientRecordView):
    """The standard prophylaxis and revaccination plan of one patient: proposed (GET), then kept
    as the clinician confirms or edits it (POST). Nothing is applied without the POST."""

    serializer_class = s.PlanConfirmSerializer

    @extend_schema(
        summary="The standard prevention plan proposed from day 0 (nothing is kept)",
        parameters=[PATIENT_ID],
        responses=s.PlanProposalSerializer,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        shown(patient, what="viewed the proposed prevention plan")
        proposal = proposed_plan(patient)
        return Response(s.PlanProposalSerializer(proposal).data)

    @extend_schema(
        summary="Confirm the plan: keep the lines sent (as proposed or edited)",
        parameters=[PATIENT_ID],
        request=s.PlanConfirmSerializer,
        responses={201: s.PlanConfirmedSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        parsed = _parse(s.PlanConfirmSerializer, request, self.get_serializer_context())
        prophylaxis, vaccinations = parsed.lines()
        site = parsed.validated_data["site"]
        items, vaccines = plan_confirm(
            actor=actor_of(request), patient=patient, site=site, prophylaxis=prophylaxis, vaccinations=vaccinations
        )
        context = self.get_serializer_context()
        data = s.PlanConfirmedSerializer({"prophylaxis": items, "vaccinations": vaccines}, context=context).data
        return Response(data, status=status.HTTP_201_CREATED)
