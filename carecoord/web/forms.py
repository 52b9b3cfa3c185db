"""Forms of the server-rendered pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from carecoord.models.patients import Phase


class LoginForm(AuthenticationForm):
    """Sign-in with email and password; the email is matched as stored (lower case)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false"}
        )

    def clean_username(self) -> str:
        # Accounts are stored with lower-case emails; people often type them capitalised.
        return str(self.cleaned_data["username"]).strip().lower()


class PhaseFilterForm(forms.Form):
    """The dashboard's filter; an unknown phase is an error and the list stays unfiltered."""

    phase = forms.ChoiceField(
        label="Phase",
        required=False,
        choices=[("", "All phases"), *Phase.choices],
    )

    def selected_phase(self) -> str:
        return self.cleaned_data["phase"] if self.is_valid() else ""
