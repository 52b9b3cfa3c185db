"""Query-string filters of the referral API. Ids and codes only: query strings end up in logs."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from referrals.models import Milestone, Referral, ReferralDocument, acknowledgement_overdue
from referrals.workflow import STATE_LABELS


class ReferralFilter(django_filters.FilterSet):
    # Plain id filters: an id the user cannot see gives an empty list, not a telling error.
    state = django_filters.MultipleChoiceFilter(choices=[(s.value, label) for s, label in STATE_LABELS.items()])
    to_center = django_filters.NumberFilter(field_name="to_center_id")
    from_site = django_filters.NumberFilter(field_name="from_site_id")
    patient = django_filters.UUIDFilter(field_name="patient_id")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Submitted and not acknowledged by the center's deadline"
    )

    class Meta:
        model = Referral
        fields = ["state", "to_center", "from_site", "patient", "overdue"]

    def filter_overdue(self, queryset: QuerySet[Referral], name: str, value: bool | None) -> QuerySet[Referral]:
        overdue = acknowledgement_overdue()
        if value is None:
            return queryset
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class DocumentFilter(django_filters.FilterSet):
    referral = django_filters.NumberFilter(field_name="referral_id")
    patient = django_filters.UUIDFilter(field_name="referral__patient_id")
    kind = django_filters.MultipleChoiceFilter(choices=ReferralDocument.Kind.choices)

    class Meta:
        model = ReferralDocument
        fields = ["referral", "patient", "kind"]


class MilestoneFilter(django_filters.FilterSet):
    referral = django_filters.NumberFilter(field_name="referral_id")
    patient = django_filters.UUIDFilter(field_name="referral__patient_id")
    status = django_filters.MultipleChoiceFilter(choices=Milestone.Status.choices)
    due_before = django_filters.DateFilter(
        field_name="planned_on", lookup_expr="lte", label="Planned on or before this date"
    )
    due_after = django_filters.DateFilter(
        field_name="planned_on", lookup_expr="gte", label="Planned on or after this date"
    )

    class Meta:
        model = Milestone
        fields = ["referral", "patient", "status", "due_before", "due_after"]
