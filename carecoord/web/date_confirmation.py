"""The confirmation a form offers when a date looks like a slip (`carecoord.clinical_dates`)."""

from __future__ import annotations

from django import forms

from carecoord.clinical_dates import UNCONFIRMED


class ConfirmsDate(forms.Form):
    """A form whose date the service may ask to confirm. The box appears next to the date
    once the service asked (or while it is ticked) and is passed on as `confirm_date`."""

    confirm_date = forms.BooleanField(label="The date is right: keep it", required=False)

    @property
    def asks_date_confirmation(self) -> bool:
        if not self.is_bound:
            return False
        if self.data.get(self.add_prefix("confirm_date")):
            return True
        return any(error.code == UNCONFIRMED for errors in self.errors.as_data().values() for error in errors)
