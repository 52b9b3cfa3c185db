"""Forms of the milestone actions on the shared timeline.

They only parse input: the rules (a reason when a date moves, which steps may be planned,
who may act) belong to `referrals.milestones`, whose field errors are put back on these
forms with `add_service_errors`. Several forms of one kind sit on the same page, one per
milestone, so each is built with its own `auto_id` to keep the element ids unique.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms

from carecoord.models import Site
from carecoord.text_limits import STEP_TEXT_MAX_LENGTH
from carecoord.web.date_confirmation import ConfirmsDate
from carecoord.web.forms import DateInput
from referrals.milestones.kinds import PREPARATION_LABELS, PreparationKind


def _reason(label: str, *, required_in_browser: bool) -> forms.CharField:
    # Whether a reason is needed is the service's rule, and its message is the one shown;
    # the browser only saves a round trip when it is always needed.
    attrs = {"autocomplete": "off"} | ({"required": True} if required_in_browser else {})
    return forms.CharField(
        label=label, required=False, max_length=STEP_TEXT_MAX_LENGTH, widget=forms.TextInput(attrs=attrs)
    )


class MilestoneCompleteForm(ConfirmsDate):
    actual_on = forms.DateField(label="Done on", widget=DateInput())
    note = forms.CharField(label="Note (optional)", required=False, max_length=STEP_TEXT_MAX_LENGTH)


class MilestoneCorrectForm(ConfirmsDate):
    """Correct the day a step was done on: the date, and why it was wrong (optional)."""

    actual_on = forms.DateField(label="Done on (corrected)", widget=DateInput())
    reason = _reason("Why it is corrected (optional)", required_in_browser=False)


class MilestoneMoveForm(ConfirmsDate):
    planned_on = forms.DateField(label="New date", widget=DateInput())
    reason = _reason("Reason for the move", required_in_browser=True)


class MilestoneCancelForm(forms.Form):
    reason = _reason("Reason for cancelling", required_in_browser=True)


class MilestoneConfirmForm(forms.Form):
    """Keep a date that conflicts with the course: the reason is what the other site reads."""

    reason = _reason("Why the date stays", required_in_browser=True)


class InfusionForm(ConfirmsDate):
    """Set day 0, or move it; the service asks for a reason only when it moves."""

    infusion_on = forms.DateField(label="Infusion date (day 0)", widget=DateInput())
    reason = _reason("Reason for the move", required_in_browser=False)


class MilestonePlanForm(ConfirmsDate):
    """Plan a preparation step; `sites` are the care-team sites where it may take place."""

    kind = forms.ChoiceField(label="Step", choices=[(kind.value, PREPARATION_LABELS[kind]) for kind in PreparationKind])
    planned_on = forms.DateField(label="Planned date", widget=DateInput())
    given_at = forms.TypedChoiceField(label="Where", required=False, coerce=int, empty_value=None)
    note = forms.CharField(label="Note (optional)", required=False, max_length=STEP_TEXT_MAX_LENGTH)

    def __init__(self, *args: Any, sites: Iterable[Site] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices from sites already loaded for the page: rendering the form costs no query.
        self.sites = {site.pk: site for site in sites}
        where = cast(forms.TypedChoiceField, self.fields["given_at"])
        where.choices = [("", "Not decided"), *((pk, s.name) for pk, s in self.sites.items())]

    def given_at_site(self) -> Site | None:
        pk = self.cleaned_data.get("given_at")
        return self.sites.get(pk) if pk is not None else None


def form_auto_id(action: str, target_id: int) -> str:
    """Element ids of one action's form for one milestone or referral, unique on the page."""
    return f"id_{action}{target_id}_%s"
