"""Forms of the infection pages. They only parse what was entered; the rules (dates against the
record, a live vaccine's earliest date, who records from which site) are `infections.services`',
whose field errors are put back on the field of the same name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from carecoord.text_limits import NOTE_MAX_LENGTH
from carecoord.web.date_confirmation import ConfirmsDate
from carecoord.web.forms import DateInput, OwnSiteForm
from infections.models import InfectionEvent, ProphylaxisItem
from infections.services import ProphylaxisInput, VaccinationInput

GRADES = [
    (1, "Grade 1 (mild: oral treatment or none)"),
    (2, "Grade 2 (moderate: oral treatment, local intervention)"),
    (3, "Grade 3 (severe: IV treatment or invasive intervention)"),
    (4, "Grade 4 (life-threatening: urgent intervention)"),
    (5, "Grade 5 (death)"),
]


class SiteForm(OwnSiteForm):
    site = forms.TypedChoiceField(label="Recording as", coerce=int)


class InfectionForm(SiteForm, ConfirmsDate):
    body_site = forms.ChoiceField(
        label="Site of infection",
        choices=[("", "Choose"), *InfectionEvent.BodySite.choices],
        error_messages={"required": "Choose the site of the infection."},
    )
    organism = forms.CharField(label="Organism (if known)", required=False, max_length=120)
    category = forms.ChoiceField(
        label="Kind of organism", choices=InfectionEvent.Category.choices, initial=InfectionEvent.Category.UNKNOWN
    )
    grade = forms.TypedChoiceField(
        label="Severity (CTCAE grade)",
        choices=[("", "Choose"), *GRADES],
        coerce=int,
        error_messages={"required": "Choose the CTCAE grade."},
    )
    setting = forms.ChoiceField(
        label="Treated in",
        choices=[("", "Choose"), *InfectionEvent.Setting.choices],
        error_messages={"required": "Choose where it is treated."},
    )
    neutropenic_fever = forms.BooleanField(label="Fever while neutropenic (ANC < 500/µL)", required=False)
    onset_on = forms.DateField(
        label="Onset", widget=DateInput(), error_messages={"required": "Enter the day of onset."}
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResolveForm(SiteForm):
    resolved_on = forms.DateField(
        label="Resolved on", widget=DateInput(), error_messages={"required": "Enter the day it resolved."}
    )


class ProphylaxisFields(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[("", "Choose"), *ProphylaxisItem.Kind.choices],
        error_messages={"required": "Choose the kind of prophylaxis."},
    )
    agent = forms.CharField(label="Agent and dose", max_length=200, error_messages={"required": "Enter the agent."})
    start_on = forms.DateField(label="Start", widget=DateInput(), error_messages={"required": "Enter the start."})
    planned_stop_on = forms.DateField(
        label="Planned stop or review", widget=DateInput(), required=False, help_text="Empty: no date yet."
    )
    stop_condition = forms.CharField(
        label="Stop condition", required=False, max_length=300, help_text="E.g. until CD4 > 200/µL."
    )

    def item(self) -> ProphylaxisInput:
        data = self.cleaned_data
        return ProphylaxisInput(
            kind=data["kind"],
            agent=data["agent"],
            start_on=data["start_on"],
            planned_stop_on=data.get("planned_stop_on"),
            stop_condition=data.get("stop_condition", ""),
        )


class ProphylaxisForm(SiteForm, ProphylaxisFields):
    """One line added to the plan."""


class PlanProphylaxisRow(ProphylaxisFields):
    """A line of the proposed plan: kept only when ticked; an unticked one is not checked."""

    include = forms.BooleanField(label="Keep this line", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("include"):
            self._errors = ErrorDict()  # an unticked line is not part of the plan
        return data


class VaccinationFields(forms.Form):
    vaccine = forms.CharField(label="Vaccine", max_length=120, error_messages={"required": "Enter the vaccine."})
    due_on = forms.DateField(label="Due on", widget=DateInput(), error_messages={"required": "Enter when it is due."})
    live = forms.BooleanField(label="Live vaccine", required=False)

    def item(self) -> VaccinationInput:
        data = self.cleaned_data
        return VaccinationInput(vaccine=data["vaccine"], due_on=data["due_on"], live=data.get("live", False))


class VaccinationForm(SiteForm, VaccinationFields):
    """One vaccine added to the plan."""


class PlanVaccinationRow(VaccinationFields):
    include = forms.BooleanField(label="Keep this line", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("include"):
            self._errors = ErrorDict()
        return data


ProphylaxisRows = forms.formset_factory(PlanProphylaxisRow, extra=0)
VaccinationRows = forms.formset_factory(PlanVaccinationRow, extra=0)


class StopForm(SiteForm):
    stopped_on = forms.DateField(
        label="Stopped on", widget=DateInput(), error_messages={"required": "Enter the day it was stopped."}
    )


class ReviewForm(SiteForm):
    planned_stop_on = forms.DateField(
        label="Continue until", widget=DateInput(), error_messages={"required": "Enter the new planned stop."}
    )
    stop_condition = forms.CharField(label="Stop condition (optional)", required=False, max_length=300)


class GivenForm(SiteForm):
    given_on = forms.DateField(
        label="Given on", widget=DateInput(), error_messages={"required": "Enter the day it was given."}
    )
