"""Short dates that say their year when it is not obvious.

The work lists write "Sat 23 May" and "asked Thu 5 Mar": read in December, an overdue form
from May or a question from March looked like this week's. `near` writes a date as the `date`
filter does with the format given, and adds the year after the month when the date is more
than NEAR_DAYS from today (in the current time zone, as the `date` filter reads it).
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

register = template.Library()

NEAR_DAYS = 120


def with_year(fmt: str) -> str:
    """`fmt` with the year after its month ("D j M" → "D j M Y"), if it has no year."""
    if "Y" in fmt or "M" not in fmt:
        return fmt
    return fmt.replace("M", "M Y", 1)


@register.filter(expects_localtime=True)
def near(value: dt.date | dt.datetime | None, fmt: str) -> str:
    """`value|date:fmt`, its year added when it lies more than NEAR_DAYS from today."""
    if value is None or value == "":
        return ""
    day = value.date() if isinstance(value, dt.datetime) else value
    far = abs((day - timezone.localdate()).days) > NEAR_DAYS
    return date_filter(value, with_year(fmt) if far else fmt)
