"""Forms of the death page. They only parse; the rules are `referrals.deaths`', whose field
errors are put back on the field of the same name."""

from __future__ import annotations

from django import forms

from carecoord.models import DeathCause
from carecoord.models.deaths import DEATH_DETAIL_MAX_LENGTH
from carecoord.web.forms import DateInput, OwnSiteForm
from referrals.deaths import WITHDRAW_REASON_MAX_LENGTH


class DeathForm(OwnSiteForm):
    """The day and primary cause of a patient's death."""

    site = forms.TypedChoiceField(label="Recording as", coerce=int)
    died_on = forms.DateField(
        label="Date of death", widget=DateInput, error_messages={"required": "Enter the date of death."}
    )
    cause = forms.ChoiceField(
        label="Primary cause of death",
        choices=[("", "Choose"), *DeathCause.choices],
        error_messages={"required": "Choose the primary cause of death (Unknown if it is not known)."},
    )
    detail = forms.CharField(
        label="Detail",
        max_length=DEATH_DETAIL_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="e.g. the infection or the organism, where the patient died. Optional.",
    )


class DeathWithdrawForm(OwnSiteForm):
    """Withdrawing a death recorded in error."""

    site = forms.TypedChoiceField(label="Recording as", coerce=int)
    reason = forms.CharField(
        label="Why it was recorded in error",
        max_length=WITHDRAW_REASON_MAX_LENGTH,
        error_messages={"required": "Say why the death was recorded in error."},
    )
