"""The education API: the material (read-only; site administrators edit it in the application)
and the education given to patients, their caregivers and community clinicians.

Thin like `carecoord.api.views`: a record behind a URL comes from `education.selectors`, so one
outside the user's scope answers 404; a role that may not record care answers 403 (the service
raises it); bad input answers 400 with a message per field.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.api.idempotency import IdempotentWritesMixin
from carecoord.api.views import ScopeBeforeMethodMixin, actor_of
from education import serializers as s
from education.filters import EducationGivenFilter, EducationMaterialFilter
from education.models import EducationGiven, EducationMaterial
from education.selectors import (
    education_given_visible_to,
    get_education_given_for_user,
    get_material,
    materials_with_versions,
)
from education.services import education_record

MATERIAL_ID = OpenApiParameter("material_id", int, OpenApiParameter.PATH)
GIVEN_ID = OpenApiParameter("given_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Education material by phase and audience, each with its versions"),
    retrieve=extend_schema(summary="One material with its versions", parameters=[MATERIAL_ID]),
)
class EducationMaterialViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[EducationMaterial]
):
    """Material for patients, caregivers and community clinicians; the first version is the one taught now."""

    serializer_class = s.MaterialSerializer
    filterset_class = EducationMaterialFilter
    ordering_fields = ["phase", "name"]
    lookup_url_kwarg = "material_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[EducationMaterial]:
        return materials_with_versions()

    def get_object(self) -> EducationMaterial:
        return get_material(self.request.user, self.kwargs[self.lookup_url_kwarg])


@extend_schema_view(
    list=extend_schema(summary="Education given to the requesting user's patients, newest first"),
    retrieve=extend_schema(summary="One record of education given", parameters=[GIVEN_ID]),
    create=extend_schema(
        summary="Record education given from your site on the patient's care team; it appears on the timeline",
        request=s.EducationGivenInputSerializer,
        responses={201: s.EducationGivenSerializer},
    ),
)
class EducationGivenViewSet(
    IdempotentWritesMixin,
    ScopeBeforeMethodMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[EducationGiven],
):
    """Which material version was taught, to whom, by whom and when."""

    serializer_class = s.EducationGivenSerializer
    filterset_class = EducationGivenFilter
    ordering_fields = ["given_at"]
    lookup_url_kwarg = "given_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[EducationGiven]:
        return education_given_visible_to(self.request.user).order_by("-given_at", "-pk")

    def get_object(self) -> EducationGiven:
        return get_education_given_for_user(self.request.user, self.kwargs[self.lookup_url_kwarg])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.EducationGivenInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        given = education_record(actor=actor_of(request), **serializer.validated_data)
        given = get_education_given_for_user(request.user, given.pk)
        return Response(self.get_serializer(given).data, status=status.HTTP_201_CREATED)
