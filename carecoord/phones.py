"""Phone numbers people will dial: checked with libphonenumber, stored in international form."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError

# Numbers typed without a country code are read as North American, where the sites are.
DEFAULT_REGION = "US"
EXAMPLE = "+1 312 555 0142"


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """`value` as "+1 312-555-0142", or a ValidationError on `field` saying what to enter.

    An empty value stays empty: whether a number is required is the caller's rule.
    """
    text = value.strip()
    if not text:
        return ""
    message = f"Enter a phone number that can be dialled, e.g. {EXAMPLE}."
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError({field: message}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError({field: message})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneField(forms.CharField):
    """A phone number typed in a form: checked as it is entered, in the same round as every
    other field, and cleaned to its international form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", f"A number that can be dialled, e.g. {EXAMPLE}.")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
        kwargs.pop("empty_value", None)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = str(super().clean(value) or "")
        try:
            return normalize_phone(text)
        except ValidationError:
            # The message names the field: several phone numbers can be on one form.
            label = str(self.label or "phone number").lower()
            raise ValidationError(
                f"Enter the {label} as a number that can be dialled, e.g. {EXAMPLE}.", code="invalid_phone"
            ) from None
