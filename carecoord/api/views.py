"""Thin API views: parse with an input serializer, call a selector or service, render.

Every object behind a URL is found through a scoped selector, so one outside the user's
scope answers 404; one the user sees but whose role forbids the change answers 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.access import (
    capabilities_by_patient,
    get_patient_for_user,
    patient_capabilities,
    require_capability,
    visible_patient_count,
)
from carecoord.api import filters, serializers
from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.pagination import ListPagination
from carecoord.models import CareTeamLink, Patient, PointPerson, Product, Site, SiteMembership, User
from carecoord.roles import Capability
from carecoord.selectors.patients import (
    care_team_links_visible_to,
    patient_with_care_team,
    patients_with_identifiers,
    point_persons_visible_to,
)
from carecoord.selectors.sites import memberships_of, sites_directory
from carecoord.services.care_teams import care_team_add_site, care_team_end_site, care_team_name_point_person
from carecoord.services.patients import patient_register, patient_update


def actor_of(request: Request) -> User:
    """The signed-in user; `IsAuthenticated` has already turned everyone else away."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


class RecordCareActionsMixin(generics.GenericAPIView[Any]):
    """The actions named in `recording_actions` need the record-care capability on the patient.

    Checked as the object is looked up (`gated`), before the body is read: a role that may not
    record care gets 403 whatever it sends, never a 400 about its input.
    """

    recording_actions: frozenset[str] = frozenset()

    def gated[T](self, obj: T, patient: Patient) -> T:
        if getattr(self, "action", None) in self.recording_actions:
            require_capability(self.request.user, patient, Capability.RECORD_CARE)
        return obj


class ScopeBeforeMethodMixin(generics.GenericAPIView[Any]):
    """On an object's URL, OPTIONS and a method the route lacks answer 404 too if the object is out of scope.

    The scope check comes first, so every method on someone else's object answers alike. DRF's
    OPTIONS describes the route without looking its object up: here it does, so OPTIONS tells
    nobody outside the care team that the object exists.
    """

    def _in_scope_first(self, kwargs: dict[str, Any]) -> None:
        if self.lookup_url_kwarg in kwargs:
            self.get_object()

    # DRF narrows Django's HttpRequest to its Request here; its own stubs ignore the same override.
    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        self._in_scope_first(kwargs)
        return super().http_method_not_allowed(request, *args, **kwargs)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        self._in_scope_first(kwargs)
        return super().options(request, *args, **kwargs)


class PatientRecordView(IdempotentWritesMixin, ScopeBeforeMethodMixin, generics.GenericAPIView[Patient]):
    """A record of one patient named in the URL: read by whoever sees the patient (GET), written
    (POST) by a role that records care, checked as the patient is loaded, before the body is read:
    a role that may not record care gets 403, not a 400 about its input."""

    lookup_url_kwarg = "patient_id"
    filter_backends: list[Any] = []

    def get_object(self) -> Patient:
        # A view that takes no POST answers it 405 once the patient is found visible.
        writes = self.request.method == "POST" and hasattr(self, "post")
        capability = Capability.RECORD_CARE if writes else Capability.VIEW
        return get_patient_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg], capability)


@extend_schema_view(
    list=extend_schema(summary="The site directory"),
    retrieve=extend_schema(summary="One site", parameters=[OpenApiParameter("site_id", int, OpenApiParameter.PATH)]),
)
class SiteViewSet(viewsets.ReadOnlyModelViewSet[Site]):
    """Every site taking part, with its 24/7 number. Not patient data: everyone signed in sees it."""

    serializer_class = serializers.SiteSerializer
    filterset_class = filters.SiteFilter
    ordering_fields = ["name"]
    lookup_url_kwarg = "site_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Site]:
        return sites_directory()


@extend_schema_view(
    list=extend_schema(summary="The product catalog: label rules, boxed warnings, late effects to watch"),
    retrieve=extend_schema(
        summary="One product", parameters=[OpenApiParameter("product_id", int, OpenApiParameter.PATH)]
    ),
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet[Product]):
    """The CAR-T products as site administrators keep them (read-only here; edited in the admin).
    Not patient data: everyone signed in sees it."""

    serializer_class = serializers.ProductSerializer
    ordering_fields = ["brand_name"]
    lookup_url_kwarg = "product_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.prefetch_related("watch_items").order_by("brand_name")


@extend_schema_view(
    list=extend_schema(summary="The requesting user's site memberships"),
    retrieve=extend_schema(
        summary="One of the requesting user's memberships",
        parameters=[OpenApiParameter("membership_id", int, OpenApiParameter.PATH)],
    ),
)
class MembershipViewSet(ScopeBeforeMethodMixin, viewsets.ReadOnlyModelViewSet[SiteMembership]):
    """Where and in which role the requesting user works; nobody else's memberships."""

    serializer_class = serializers.MembershipSerializer
    ordering_fields = ["starts_on"]
    lookup_url_kwarg = "membership_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[SiteMembership]:
        return memberships_of(self.request.user)


PATIENT_ID = OpenApiParameter("patient_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="The requesting user's patients, by name",
        description="Each patient as a summary with its `url`; the open care team and its point persons are in "
        "the patient.",
    ),
    retrieve=extend_schema(summary="One patient", parameters=[PATIENT_ID]),
    create=extend_schema(
        summary="Register a patient at one of your sites",
        request=serializers.PatientCreateSerializer,
        responses={201: serializers.PatientSerializer},
    ),
    update=extend_schema(
        summary="Change a patient's details",
        parameters=[PATIENT_ID],
        request=serializers.PatientUpdateSerializer,
        responses=serializers.PatientSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a patient's details",
        parameters=[PATIENT_ID],
        request=serializers.PatientUpdateSerializer,
        responses=serializers.PatientSerializer,
    ),
)
class PatientViewSet(
    IdempotentWritesMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Patient],
):
    """Patients whose care team includes a site where the requesting user works.

    Filter by phase, disease area or care-team site; there is no name search, because
    names in query strings end up in server and proxy logs.
    """

    serializer_class = serializers.PatientSerializer
    filterset_class = filters.PatientFilter
    pagination_class = ListPagination
    ordering_fields = ["family_name", "created_at"]
    lookup_url_kwarg = "patient_id"

    def get_queryset(self) -> QuerySet[Patient]:
        # Only the list reads it (one patient comes through `get_object`): summaries, without the care team.
        return patients_with_identifiers(self.request.user)

    def get_serializer_class(self) -> type[drf_serializers.Serializer[Patient]]:
        # What each action takes or answers; the browsable API builds its forms from it (with
        # the action of the form's method), so a change's form offers what a change takes.
        return {
            "list": serializers.PatientSummarySerializer,
            "create": serializers.PatientCreateSerializer,
            "update": serializers.PatientUpdateSerializer,
            "partial_update": serializers.PatientUpdateSerializer,
        }.get(self.action or "", serializers.PatientSerializer)

    def get_object(self) -> Patient:
        capability = Capability.CHANGE if self.action in {"update", "partial_update"} else Capability.VIEW
        return patient_with_care_team(self.request.user, self.kwargs[self.lookup_url_kwarg], capability)

    def _render(self, patient: Patient, status_code: int = status.HTTP_200_OK) -> Response:
        capabilities = {patient.pk: set(patient_capabilities(self.request.user, patient))}
        context = {**self.get_serializer_context(), "capabilities": capabilities}
        return Response(serializers.PatientSerializer(patient, context=context).data, status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        if isinstance(self.paginator, ListPagination) and not request.query_params.keys() & set(
            filters.PatientFilter.base_filters
        ):
            # Every patient the user sees: counted on the grants alone, as the dashboard counts them.
            self.paginator.counter = lambda up_to: visible_patient_count(request.user, up_to=up_to)
        page = self.paginate_queryset(queryset)
        patients = page if page is not None else list(queryset)
        # One query for the whole page, not one per patient.
        capabilities = capabilities_by_patient(request.user, [p.pk for p in patients])
        context = {**self.get_serializer_context(), "capabilities": capabilities}
        data = serializers.PatientSummarySerializer(patients, many=True, context=context).data
        if page is not None:
            return self.get_paginated_response(data)
        return Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        return self._render(patient)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._parse(serializers.PatientCreateSerializer, request.data)
        site, mrn = data.pop("site"), data.pop("mrn")
        point_persons: dict[str, User | None] = {
            PointPerson.Rank.PRIMARY: data.pop("primary_point_person", None),
            PointPerson.Rank.BACKUP: data.pop("backup_point_person", None),
        }
        patient = patient_register(actor=actor_of(request), site=site, mrn=mrn, point_persons=point_persons, **data)
        return self._render(patient_with_care_team(request.user, patient.pk), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        partial = kwargs.get("partial", False)
        data = self._parse(serializers.PatientUpdateSerializer, request.data, partial=partial)
        patient_update(actor=actor_of(request), patient=patient, **data)
        return self._render(patient_with_care_team(request.user, patient.pk))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def _parse(self, serializer_class: type[Any], data: Any, *, partial: bool = False) -> dict[str, Any]:
        serializer = serializer_class(data=data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


LINK_ID = OpenApiParameter("link_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Care-team links (open and ended) of the requesting user's patients"),
    retrieve=extend_schema(summary="One care-team link", parameters=[LINK_ID]),
    create=extend_schema(
        summary="Share a patient's care with a site",
        request=serializers.CareTeamLinkCreateSerializer,
        responses={201: serializers.CareTeamLinkSerializer},
    ),
)
class CareTeamLinkViewSet(
    IdempotentWritesMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[CareTeamLink],
):
    """The sites sharing each visible patient's care, in a capacity; ended links stay listed."""

    serializer_class = serializers.CareTeamLinkSerializer
    filterset_class = filters.CareTeamLinkFilter
    ordering_fields = ["joined_at", "ended_at"]
    lookup_url_kwarg = "link_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[CareTeamLink]:
        links = care_team_links_visible_to(self.request.user)
        if self.action == "end":
            # Ending deletes the point persons; a prefetched list would render them still there.
            return links.prefetch_related(None)
        return links

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parsed = serializers.CareTeamLinkCreateSerializer(data=request.data, context=self.get_serializer_context())
        parsed.is_valid(raise_exception=True)
        link = care_team_add_site(actor=actor_of(request), **parsed.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=link.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End a site's part in a patient's care (the link stays for the record)",
        parameters=[LINK_ID],
        request=None,
        responses=serializers.CareTeamLinkSerializer,
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        link = care_team_end_site(actor=actor_of(request), link=self.get_object())
        return Response(self.get_serializer(link).data)


POINT_PERSON_ID = OpenApiParameter("point_person_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Point persons on the care teams of the requesting user's patients"),
    retrieve=extend_schema(summary="One point person", parameters=[POINT_PERSON_ID]),
    create=extend_schema(
        summary="Name the primary or backup point person of a care-team site",
        request=serializers.PointPersonCreateSerializer,
        responses={201: serializers.PointPersonSerializer},
    ),
)
class PointPersonViewSet(
    IdempotentWritesMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[PointPerson],
):
    """The people to call at each care-team site about a patient: primary and backup."""

    serializer_class = serializers.PointPersonSerializer
    filterset_class = filters.PointPersonFilter
    ordering_fields = ["rank"]
    lookup_url_kwarg = "point_person_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[PointPerson]:
        return point_persons_visible_to(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parsed = serializers.PointPersonCreateSerializer(data=request.data, context=self.get_serializer_context())
        parsed.is_valid(raise_exception=True)
        point_person = care_team_name_point_person(actor=actor_of(request), **parsed.validated_data)
        return Response(self.get_serializer(point_person).data, status=status.HTTP_201_CREATED)
