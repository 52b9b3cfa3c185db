"""The alerts page: what the viewer asks of their alerts (open or acknowledged, kind, grade, the
patient, the order), read a page at a time in a fixed number of queries.

Search words are posted, never put in the address (`carecoord.web.list_forms`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.db.models import BooleanField, ExpressionWrapper, Q

from carecoord.access.scope import AnyUser
from carecoord.selectors.patients import patient_ids_matching
from carecoord.web.list_forms import ListForm, patient_search_field
from toxicity.kinds import ToxicityKind
from toxicity.models import AlertQuerySet


class Show:
    ALL = "all"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CHOICES = [(ALL, "Open and acknowledged"), (OPEN, "Waiting for me"), (ACKNOWLEDGED, "Acknowledged")]


class Sort:
    NEWEST = "newest"
    GRADE = "grade"
    CHOICES = [(NEWEST, "Newest first"), (GRADE, "Highest grade first")]


class AlertListForm(ListForm):
    address_fields = ("show", "kind", "grade", "sort")
    defaults: ClassVar[dict[str, str]] = {"show": Show.ALL, "sort": Sort.NEWEST}

    q = patient_search_field()
    show = forms.ChoiceField(label="Show", required=False, choices=Show.CHOICES)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Every kind"), *ToxicityKind.choices])
    grade = forms.TypedChoiceField(
        label="Grade",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any grade"), *((str(n), f"{n} or higher") for n in (2, 3, 4, 5))],
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=Sort.CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def filtered_alerts(alerts: AlertQuerySet, asked: Mapping[str, Any], *, user: AnyUser) -> AlertQuerySet:
    """`alerts` (already the viewer's) narrowed and ordered as `asked` (`AlertListForm.asked`);
    the open ones always first, as the page lists them in that order."""
    if asked.get("q"):
        alerts = alerts.filter(event__patient_id__in=patient_ids_matching(user, asked["q"]))
    if asked.get("show") == Show.OPEN:
        alerts = alerts.unacknowledged()
    elif asked.get("show") == Show.ACKNOWLEDGED:
        alerts = alerts.acknowledged()
    if asked.get("kind"):
        alerts = alerts.filter(event__kind=asked["kind"])
    if asked.get("grade"):
        alerts = alerts.filter(grade__gte=asked["grade"])
    if asked.get("sort") == Sort.GRADE:
        is_open = ExpressionWrapper(Q(acknowledged_at__isnull=True), output_field=BooleanField())
        return alerts.order_by(is_open.desc(), "-grade", "-created_at", "-pk")
    return alerts  # `alerts_visible_to`'s order: open first, then newest
