"""Forms of the sign-in second step and the account security page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from carecoord.accounts.password_again import password_confirms
from carecoord.models import User


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app, or one of the recovery codes."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrollForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=16,
        help_text="After scanning, type the 6-digit code the app shows to confirm it works.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class PasswordAgainForm(forms.Form):
    """The person's current password, asked again before their second factor changes."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        help_text="Changing how you sign in asks for your password again.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not password_confirms(self.request, self.user, password):
            raise forms.ValidationError("That is not your current password. Nothing was changed.")
        return password


class ReplaceAuthenticatorForm(EnrollForm, PasswordAgainForm):
    """Moving to a new phone: the new app's code, and the password again."""

    field_order = ["code", "password"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=100, help_text="What will use it, e.g. 'EHR bridge'.")
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        help_text="Optional. The token stops working at the start of this day (UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self) -> dt.date | None:
        expires_on: dt.date | None = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= timezone.now().date():
            raise forms.ValidationError("Choose a date after today.")
        return expires_on

    def expires_at(self) -> dt.datetime | None:
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is None:
            return None
        return dt.datetime.combine(expires_on, dt.time.min, tzinfo=dt.UTC)
