"""Phone numbers people will dial: checked with libphonenumber, stored in international form."""

from __future__ import annotations

import phonenumbers
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
