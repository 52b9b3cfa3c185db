"""Forms of the server-rendered pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from carecoord.models import Site, User


class DateInput(forms.DateInput):
    """The browser's date picker, given and read as ISO dates."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class OwnSiteForm(forms.Form):
    """A form written for one of the person's own `sites`; a single one is not asked."""

    site = forms.TypedChoiceField(label="Your site", coerce=int)

    def __init__(self, *args: Any, sites: Sequence[Site] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices from sites already loaded for the page: rendering costs no query.
        self.sites = {site.pk: site for site in sites}
        field = cast(forms.TypedChoiceField, self.fields["site"])
        field.choices = [(pk, s.name) for pk, s in self.sites.items()]
        if len(self.sites) == 1:
            field.initial = next(iter(self.sites))
            field.widget = forms.HiddenInput()

    def chosen_site(self) -> Site:
        return self.sites[self.cleaned_data["site"]]

    @property
    def only_site(self) -> Site | None:
        """The site written for when there is no choice, for the page to name it."""
        return next(iter(self.sites.values())) if len(self.sites) == 1 else None


def person_label(user: User, role: str = "") -> str:
    """A person as a picker offers them: the name, and what they do where it helps choosing
    ("Nina Nurse — Nurse (Nurse coordinator)"; `carecoord.selectors.sites.roles_of_people_at`)."""
    name = user.full_name or user.email
    return f"{name} — {role}" if role else name


def add_service_errors(forms_: forms.BaseForm | Sequence[forms.BaseForm], error: ValidationError) -> None:
    """A service's field errors next to the field of that name, on the first of `forms_` that
    has it; the rest as errors of the first form. The errors themselves are kept, not only
    their messages: a form reads their codes (`ConfirmsDate`)."""
    targets = [forms_] if isinstance(forms_, forms.BaseForm) else list(forms_)
    if not hasattr(error, "error_dict"):
        targets[0].add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        form = next((f for f in targets if key in f.fields), None)
        if form is None:
            targets[0].add_error(None, errors)
        else:
            form.add_error(key, errors)


def focus_first_error(*forms_: forms.BaseForm) -> None:
    """Autofocus the first visible field in error: a page that comes back with errors is
    scrolled to the top, and focusing the field takes the reader to it."""
    for form in forms_:
        name = next((name for name in form.errors if name in form.fields), None)
        if name is not None and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return


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
