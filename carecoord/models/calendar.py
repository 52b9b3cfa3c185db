"""Date columns of the patient's record, held by the database to a calendar every page can show.

Python's dates end at years 1 and 9999; a moment within a day of either end cannot be shown in
a site's time zone, and a page that tries answers 500. Every date and time of the record is
therefore kept between 1900 and 2199 by a CHECK constraint on its column (`calendar_checks`,
in each model's Meta), whatever writes it (the application, the admin, a script): the entry
points refuse such dates with a field error first (`carecoord.clinical_dates`); the
constraint makes sure nothing else stores them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.db.models import Q

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
EARLIEST_MOMENT = dt.datetime.combine(EARLIEST, dt.time(), tzinfo=dt.UTC)
# Exclusive: the first moment after LATEST, in UTC.
AFTER_LATEST_MOMENT = dt.datetime.combine(LATEST + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def calendar_checks(
    table: str, *, dates: Iterable[str] = (), moments: Iterable[str] = ()
) -> list[models.BaseConstraint]:
    """CHECK constraints keeping the model's date columns (`dates`) and date-time columns
    (`moments`) within the calendar; `table` prefixes the constraint names. A NULL passes."""
    checks: list[models.BaseConstraint] = [
        models.CheckConstraint(
            condition=Q(**{f"{name}__gte": EARLIEST, f"{name}__lte": LATEST}), name=f"{table}_{name}_in_calendar"
        )
        for name in dates
    ]
    checks += [
        models.CheckConstraint(
            condition=Q(**{f"{name}__gte": EARLIEST_MOMENT, f"{name}__lt": AFTER_LATEST_MOMENT}),
            name=f"{table}_{name}_in_calendar",
        )
        for name in moments
    ]
    return checks


def within_calendar(value: dt.date | dt.datetime) -> bool:
    """Whether `value` can be stored in a record column (and shown in any time zone)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return EARLIEST <= value.date() <= LATEST
        return EARLIEST_MOMENT <= value < AFTER_LATEST_MOMENT
    return EARLIEST <= value <= LATEST


def move_into_calendar(app_label: str, *model_names: str) -> Callable[[Any, Any], None]:
    """A migration step run before the constraints are added: a date outside the calendar
    (only a direct write could store one) is moved to the calendar's nearest end, where the
    record shows it plainly as wrong and a clinician can correct it; each move is printed."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            model = apps.get_model(app_label, name)
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.DateField):
                    continue
                moment = isinstance(field, models.DateTimeField)
                low, high = (EARLIEST_MOMENT, AFTER_LATEST_MOMENT) if moment else (EARLIEST, LATEST)
                early = model._default_manager.filter(**{f"{field.attname}__lt": low})
                late = model._default_manager.filter(
                    **{f"{field.attname}__gte" if moment else f"{field.attname}__gt": high}
                )
                last = AFTER_LATEST_MOMENT - dt.timedelta(seconds=1) if moment else LATEST
                for rows, bound in ((early, low), (late, last)):
                    pks = list(rows.values_list("pk", flat=True))
                    if pks:
                        rows.update(**{field.attname: bound})
                        print(f"  {model.__name__}.{field.name}: moved to {bound} for rows {pks}")

    return forwards
