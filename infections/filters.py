"""Query-string filters of the infections API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from infections.models import InfectionEvent, ProphylaxisItem, ProphylaxisQuerySet, VaccinationItem, VaccinationQuerySet


class InfectionFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    setting = django_filters.ChoiceFilter(choices=InfectionEvent.Setting.choices)
    min_grade = django_filters.NumberFilter(field_name="grade", lookup_expr="gte", min_value=1, max_value=5)
    resolved = django_filters.BooleanFilter(field_name="resolved_on", lookup_expr="isnull", exclude=True)

    class Meta:
        model = InfectionEvent
        fields = ["patient", "setting", "min_grade", "resolved"]


class ProphylaxisFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient_id")
    kind = django_filters.ChoiceFilter(choices=ProphylaxisItem.Kind.choices)
    due = django_filters.BooleanFilter(method="filter_due", label="Not stopped, planned stop within two weeks or past")

    class Meta:
        model = ProphylaxisItem
        fields = ["patient", "kind", "due"]

    def filter_due(self, queryset: ProphylaxisQuerySet, name: str, value: bool | None) -> ProphylaxisQuerySet:
        return queryset.due_by(timezone.localdate()) if value else queryset


class VaccinationFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient_id")
    due = django_filters.BooleanFilter(method="filter_due", label="Not given, due within two weeks or past")

    class Meta:
        model = VaccinationItem
        fields = ["patient", "due"]

    def filter_due(self, queryset: VaccinationQuerySet, name: str, value: bool | None) -> VaccinationQuerySet:
        return queryset.due_by(timezone.localdate()) if value else queryset
