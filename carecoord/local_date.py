"""`LocalDate`: a moment's date in a site's time zone, in SQL (a clinical day is the site's)."""

from __future__ import annotations

from typing import Any

from django.db.models import DateField, Func


class LocalDate(Func):
    """The date of `moment` in the time zone named by `zone` (a site's `time_zone` column)."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()

    def __init__(self, moment: Any, zone: Any) -> None:
        super().__init__(moment, zone)
