"""Query-string filters of the education API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters

from carecoord.models.patients import Phase
from education.models import Audience, EducationGiven, EducationMaterial


class EducationGivenFilter(django_filters.FilterSet):
    # A plain id filter: an id the user cannot see gives an empty list, not a telling error.
    patient = django_filters.UUIDFilter(field_name="patient_id")
    recipient = django_filters.ChoiceFilter(choices=Audience.choices)

    class Meta:
        model = EducationGiven
        fields = ["patient", "recipient"]


class EducationMaterialFilter(django_filters.FilterSet):
    phase = django_filters.ChoiceFilter(choices=Phase.choices)
    audience = django_filters.ChoiceFilter(choices=Audience.choices)

    class Meta:
        model = EducationMaterial
        fields = ["phase", "audience"]
