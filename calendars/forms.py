"""The form of the account page's calendar feeds section."""

from __future__ import annotations

from django import forms


class FeedForm(forms.Form):
    # Beside the API token form on the same page: its field ids must differ.
    prefix = "feed"

    name = forms.CharField(
        label="Feed name", max_length=100, help_text="Where you will subscribe to it, e.g. 'Work phone'."
    )
