"""What the metrics page is asked: a period, one of the viewer's sites or all of them, a
partner site, a product. Nothing here names a patient, so it all travels in the address."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet

from carecoord.access import visible_patient_ids
from carecoord.access.scope import AnyUser, access_key
from carecoord.models import CareTeamLink, Product, Site
from carecoord.web.list_forms import lazy_choices

# The filters that narrow the patients counted.
NARROWING = ("site", "partner", "product")
# The default period: the last twelve months, to today.
DEFAULT_MONTHS = 12
# The longest period asked at once: the monthly charts stay readable, the queries bounded.
LONGEST_DAYS = 5 * 366


def partner_sites(user: AnyUser) -> QuerySet[Site, tuple[int, str]]:
    """The other sites sharing the care of the viewer's patients, (id, name)."""
    links = CareTeamLink.objects.open().filter(patient_id__in=visible_patient_ids(user)).values("site_id")
    own = sorted(access_key(user).site_names)
    return Site.objects.filter(pk__in=links).exclude(pk__in=own).order_by("name").values_list("pk", "name")


class MetricsForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    site = forms.TypedChoiceField(label="Site", required=False, coerce=int, empty_value=None)
    partner = forms.TypedChoiceField(label="Partner site", required=False, coerce=int, empty_value=None)
    product = forms.TypedChoiceField(label="Product", required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, user: AnyUser, today: dt.date) -> None:
        start = (today.replace(day=1) - dt.timedelta(days=365)).replace(day=1)
        super().__init__(data or None, initial={"start": start, "end": today})
        self.today = today
        own = sorted(access_key(user).site_names.items(), key=lambda pair: pair[1])
        self.fields["site"].choices = [("", "All my sites"), *own]  # type: ignore[attr-defined]
        self.fields["partner"].choices = lazy_choices(  # type: ignore[attr-defined]
            lambda: [("", "Any partner"), *partner_sites(user)]
        )
        self.fields["product"].choices = lazy_choices(  # type: ignore[attr-defined]
            lambda: [("", "Any product"), *Product.objects.order_by("brand_name").values_list("pk", "brand_name")]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end of the period comes before its start.")
            elif (end - start).days > LONGEST_DAYS:
                self.add_error("start", "Ask for at most five years at once.")
        return cleaned

    def asked(self) -> dict[str, Any]:
        """What was asked, or the defaults (the last twelve months, every site) when the form
        is empty or not valid: the page shows the defaults and the errors."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data
        return {"start": self.initial["start"], "end": self.initial["end"]} | dict.fromkeys(NARROWING)

    def address(self) -> str:
        """The filters asked, as the query of an address (the exports carry them)."""
        asked = self.asked()
        pairs = {name: value for name, value in asked.items() if value is not None}
        return urlencode(
            {name: value.isoformat() if isinstance(value, dt.date) else value for name, value in pairs.items()}
        )
