"""Dates of a patient's care, checked against the patient's own record before they are kept.

Nothing about a patient happened before their birth or after their death, nor has it happened yet: an onset, an
assessment, a treatment, a resolution or a step done is refused before the date of birth and
more than a day ahead (a moment may not be more than a few minutes ahead). A planned date is
refused before the date of birth and beyond the planning horizon. A date far before the
patient's first referral is more likely a typing slip (2025 for 2026) than a fact: it is kept
only once the person confirms it. Every refusal is a field error naming the field, which forms
show next to the input and the API answers with 400.

The checks also keep every date within the calendar the database holds the record to
(`carecoord.models.calendar`), so none of them reaches the database as an error.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from carecoord.models.calendar import AFTER_LATEST_MOMENT, EARLIEST_MOMENT, LATEST

# Further before the first referral than this, a date needs confirming.
FAR_BEFORE_REFERRAL = dt.timedelta(days=30)
# How many years ahead a step may be planned: long-term follow-up after CAR-T runs 15 years.
PLANNING_HORIZON_YEARS = 20
# A moment may be entered a little ahead of the server's clock (clocks drift, forms take time).
CLOCK_SLACK = dt.timedelta(minutes=5)
# The error code of a date that is kept once confirmed (forms then offer the confirmation).
UNCONFIRMED = "unconfirmed_date"


@dataclass(frozen=True)
class RecordDates:
    """What a date of `patient`'s care is checked against, seen from one site's time zone."""

    born_on: dt.date
    referred_on: dt.date | None
    zone: zoneinfo.ZoneInfo
    died_on: dt.date | None = None

    def today(self) -> dt.date:
        return timezone.localdate(timezone.now(), self.zone)


def _day(value: dt.date | dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    return timezone.localdate(value, zone) if isinstance(value, dt.datetime) else value


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _born_before(field: str, value: dt.date | dt.datetime, dates: RecordDates) -> None:
    if isinstance(value, dt.datetime) and value >= AFTER_LATEST_MOMENT:
        return  # far ahead, refused as such (and not to be turned into a local date)
    too_early = isinstance(value, dt.datetime) and value < EARLIEST_MOMENT
    if too_early or _day(value, dates.zone) < dates.born_on:
        raise ValidationError(
            {field: f"This is before the patient's date of birth ({dates.born_on:%d %b %Y}): check the date."}
        )


def _far_before_referral(field: str, day: dt.date, dates: RecordDates, *, confirmed: bool) -> None:
    if confirmed or dates.referred_on is None or dates.referred_on - day <= FAR_BEFORE_REFERRAL:
        return
    days = (dates.referred_on - day).days
    raise ValidationError(
        {
            field: ValidationError(
                f"This is {days} days before the patient was first referred ({dates.referred_on:%d %b %Y}). "
                "Check the date; if it is right, confirm it.",
                code=UNCONFIRMED,
            )
        }
    )


def _after_death(field: str, value: dt.date | dt.datetime, dates: RecordDates) -> None:
    """Nothing of the patient's care happens after their death. A moment is read in `zone`,
    which may be a day ahead of the zone of the site that recorded the death: a day's grace."""
    if dates.died_on is None or (isinstance(value, dt.datetime) and value >= AFTER_LATEST_MOMENT):
        return
    last = dates.died_on + (dt.timedelta(days=1) if isinstance(value, dt.datetime) else dt.timedelta())
    if _day(value, dates.zone) > last:
        raise ValidationError({field: f"This is after the patient's death ({dates.died_on:%d %b %Y}): check the date."})


def check_happened(field: str, value: dt.date | dt.datetime, dates: RecordDates, *, confirmed: bool = False) -> None:
    """A date or moment something happened: after birth, not ahead, not after the patient's
    death, confirmed if far before the referral. Raises ValidationError on `field`."""
    _born_before(field, value, dates)
    _after_death(field, value, dates)
    if isinstance(value, dt.datetime):
        ahead = value >= AFTER_LATEST_MOMENT or value > timezone.now() + CLOCK_SLACK
    else:
        ahead = value > dates.today() + dt.timedelta(days=1)
    if ahead:
        raise ValidationError({field: "This cannot be in the future."})
    _far_before_referral(field, _day(value, dates.zone), dates, confirmed=confirmed)


def check_planned(field: str, value: dt.date, dates: RecordDates, *, confirmed: bool = False) -> None:
    """A planned date: after birth, not after the patient's death, within the planning horizon,
    confirmed if far before the referral. Raises ValidationError on `field`."""
    _born_before(field, value, dates)
    _after_death(field, value, dates)
    horizon = _years_later(dates.today(), PLANNING_HORIZON_YEARS)
    if value > min(horizon, LATEST):
        raise ValidationError({field: f"Plan no later than {horizon:%d %b %Y}: check the date."})
    _far_before_referral(field, value, dates, confirmed=confirmed)
