"""Query-string filters of the toxicity API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from toxicity.models import Alert, ToxicityEvent, ToxicityKind


class ToxicityEventFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    kind = django_filters.MultipleChoiceFilter(choices=ToxicityKind.choices)
    status = django_filters.ChoiceFilter(choices=ToxicityEvent.Status.choices)
    min_grade = django_filters.NumberFilter(
        field_name="grade", lookup_expr="gte", min_value=0, max_value=5, label="Current grade at least this"
    )
    site = django_filters.NumberFilter(field_name="reporting_site_id", label="Reported from this site")

    class Meta:
        model = ToxicityEvent
        fields = ["patient", "kind", "status", "min_grade", "site"]


class AlertFilter(django_filters.FilterSet):
    acknowledged = django_filters.BooleanFilter(method="filter_acknowledged", label="Acknowledged (true) or not")

    class Meta:
        model = Alert
        fields = ["acknowledged"]

    def filter_acknowledged(self, queryset: QuerySet[Alert], name: str, value: bool | None) -> QuerySet[Alert]:
        if value is None:
            return queryset
        return queryset.filter(acknowledged_at__isnull=not value)
