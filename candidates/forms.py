"""Forms of the treatment history page. They only parse; the rules are `candidates.services`',
whose field errors are put back on the field of the same name."""

from __future__ import annotations

from typing import Any

from django import forms

from candidates.drug_classes import DrugClass
from candidates.models import MAX_LINES, BestResponse, TransplantCandidacy
from candidates.services import REASON_MAX_LENGTH, REGIMEN_MAX_LENGTH
from carecoord.web.forms import DateInput, OwnSiteForm


class TherapyLineForm(OwnSiteForm):
    """One line of therapy the patient received."""

    site = forms.TypedChoiceField(label="Recording as", coerce=int)
    number = forms.IntegerField(
        label="Line",
        min_value=1,
        max_value=MAX_LINES,
        error_messages={"required": "Number the line (1 for the first)."},
    )
    regimen = forms.CharField(
        max_length=REGIMEN_MAX_LENGTH,
        help_text="As written in the chart, e.g. VRd, R-CHOP, daratumumab-Rd.",
        error_messages={"required": "Name the regimen."},
    )
    drug_classes = forms.MultipleChoiceField(
        label="Drug classes",
        choices=DrugClass.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one drug class (Other if none fits)."},
    )
    lenalidomide = forms.BooleanField(label="The line included lenalidomide", required=False)
    started_on = forms.DateField(
        label="Started on", widget=DateInput, error_messages={"required": "Enter the start date."}
    )
    ended_on = forms.DateField(label="Ended on", widget=DateInput, required=False, help_text="Empty while it goes on.")
    best_response = forms.ChoiceField(choices=BestResponse.choices, initial=BestResponse.NOT_ASSESSED)
    refractory = forms.BooleanField(
        label="Refractory to this line",
        required=False,
        help_text="No response, or progression on the line or within 60 days of its last dose.",
    )
    progressed_on = forms.DateField(
        label="Relapse or progression on", widget=DateInput, required=False, help_text="Empty if it has not progressed."
    )

    def values(self) -> dict[str, Any]:
        """What the service takes, without the site."""
        return {name: value for name, value in self.cleaned_data.items() if name != "site"}


class TransplantCandidacyForm(OwnSiteForm):
    """Whether the patient is a transplant candidate: never a reason against CAR-T."""

    site = forms.TypedChoiceField(label="Recording as", coerce=int)
    status = forms.ChoiceField(
        label="Transplant candidate",
        choices=[("", "Choose"), *TransplantCandidacy.Status.choices],
        error_messages={"required": "Choose whether the patient is a transplant candidate."},
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, required=False, help_text="e.g. age, comorbidity, the patient's choice."
    )
