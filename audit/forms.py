"""The audit page's filter: one patient, one person, a range of dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from carecoord.models import Patient


class PatientChoiceField(forms.ModelChoiceField[Patient]):
    def label_from_instance(self, obj: Patient) -> str:
        return f"{obj.family_name}, {obj.given_name} (born {obj.date_of_birth:%Y})"


class AuditFilterForm(forms.Form):
    """Filters of the audit page and its CSV export.

    The patient is named by id among those the administrator may search, so no name or MRN
    ever appears in a URL. Dates are days in the administrator's time zone, both included.
    """

    # A hidden id, not a list of every patient: found by MRN with `PatientLookupForm`, or
    # reached from the patient's page.
    patient = PatientChoiceField(
        queryset=Patient.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "This patient is not one whose entries you may search."},
    )
    user = forms.EmailField(label="User (email)", required=False)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, patients: QuerySet[Patient], zone: zoneinfo.ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        field = cast(PatientChoiceField, self.fields["patient"])
        field.queryset = patients.order_by("family_name", "given_name", "pk")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("date_from"), cleaned.get("date_to")
        if since and until and until < since:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def _start_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments of `audit_entries_filtered`, from a valid form."""
        data = self.cleaned_data
        patient: Patient | None = data.get("patient")
        since, until = data.get("date_from"), data.get("date_to")
        return {
            "patient_id": patient.pk if patient else None,
            "email": (data.get("user") or "").strip().lower(),
            "since": self._start_of(since) if since else None,
            "until": self._start_of(until + dt.timedelta(days=1)) if until else None,
        }

    def summary(self) -> str:
        """The filters in words, for the export's own entry (no patient data: the id is kept apart)."""
        data = self.cleaned_data
        parts = []
        if data.get("patient"):
            parts.append("one patient")
        if data.get("user"):
            parts.append(f"user {data['user']}")
        if data.get("date_from"):
            parts.append(f"from {data['date_from']:%Y-%m-%d}")
        if data.get("date_to"):
            parts.append(f"to {data['date_to']:%Y-%m-%d}")
        return ", ".join(parts) or "no filter"


class PatientLookupForm(forms.Form):
    """Finding a patient for the audit filter by a site's MRN, posted so it stays out of URLs."""

    mrn = forms.CharField(label="Patient MRN", max_length=64)

    def matches(self, patients: QuerySet[Patient]) -> list[Patient]:
        """The patients among `patients` with this MRN at any site (one per site at most)."""
        mrn = self.cleaned_data["mrn"].strip()
        found = list(patients.filter(identifiers__mrn__iexact=mrn).distinct().order_by("family_name", "pk")[:20])
        if not found:
            self.add_error("mrn", "No patient whose entries you may search has this MRN.")
        return found
