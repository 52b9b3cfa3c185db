"""Query-string filters. None takes a name or other PHI: query strings end up in logs."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django_filters.rest_framework import DjangoFilterBackend

from carecoord.models import CareTeamLink, Patient, PointPerson, Site
from carecoord.models.patients import DiseaseArea, Phase
from carecoord.selectors.sites import sites_directory


class AskedFiltersBackend(DjangoFilterBackend):
    """django-filter's backend, run only when the query string may name a filter: with nothing
    but the page and the ordering asked, every filter passes every row (an empty value filters
    nothing), and building and validating the view's filter form cost 0.25-0.3 ms on every list."""

    NOT_FILTERS = frozenset({"page", "ordering", "format", "count"})

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        if request.query_params.keys() <= self.NOT_FILTERS:
            return queryset
        return super().filter_queryset(request, queryset, view)


def _sites(request: Any) -> QuerySet[Site]:
    return sites_directory()


class SiteFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Site.Kind.choices)

    class Meta:
        model = Site
        fields = ["kind"]


class PatientFilter(django_filters.FilterSet):
    phase = django_filters.MultipleChoiceFilter(choices=Phase.choices)
    disease_area = django_filters.MultipleChoiceFilter(choices=DiseaseArea.choices)
    site = django_filters.ModelChoiceFilter(
        queryset=_sites, method="filter_site", label="Patients whose open care team includes this site"
    )

    class Meta:
        model = Patient
        fields = ["phase", "disease_area", "site"]

    def filter_site(self, queryset: QuerySet[Patient], name: str, value: Site) -> QuerySet[Patient]:
        # Exists rather than a join, so a patient is listed once whatever its care team.
        open_link = CareTeamLink.objects.open().filter(patient=OuterRef("pk"), site=value)
        return queryset.filter(Exists(open_link))


class CareTeamLinkFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    site = django_filters.NumberFilter(field_name="site_id")
    is_open = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", label="Only open links")

    class Meta:
        model = CareTeamLink
        fields = ["patient", "site", "is_open"]


class PointPersonFilter(django_filters.FilterSet):
    link = django_filters.NumberFilter(field_name="link_id")
    patient = django_filters.UUIDFilter(field_name="link__patient_id")

    class Meta:
        model = PointPerson
        fields = ["link", "patient", "rank"]
