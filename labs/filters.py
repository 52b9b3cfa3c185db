"""Query-string filters of the labs API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters

from labs.kinds import LabKind
from labs.models import LabResult


class LabResultFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    kind = django_filters.MultipleChoiceFilter(choices=LabKind.choices)
    flagged = django_filters.BooleanFilter()
    taken_from = django_filters.DateFilter(field_name="taken_on", lookup_expr="gte", label="Taken on or after")
    taken_until = django_filters.DateFilter(field_name="taken_on", lookup_expr="lte", label="Taken on or before")
    site = django_filters.NumberFilter(field_name="site_id", label="Measured at this site")

    class Meta:
        model = LabResult
        fields = ["patient", "kind", "flagged", "taken_from", "taken_until", "site"]
