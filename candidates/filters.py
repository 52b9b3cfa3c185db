"""Query-string filters of the treatment history API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters

from candidates.models import TherapyLine


class TherapyLineFilter(django_filters.FilterSet):
    # A plain id filter: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")

    class Meta:
        model = TherapyLine
        fields = ["patient"]
