"""When a toxicity began relative to day 0, and why that timing is unusual (docs/clinical-rules.md#timing-flags).

Derived, never stored: day 0 moves when the infusion is done on another day than planned, and
the onset day and its flag follow it. Sources: Ahmed et al., Blood Advances 2024 (no new-onset
CRS after day +14 in 475 patients; consider infection); CRS and ICANS are immune effector cell
toxicities, so neither is expected before the cells are infused.
"""

from __future__ import annotations

import datetime as dt

from toxicity.kinds import ToxicityKind

CRS_NEW_ONSET_LIMIT_DAY = 14
EFFECTOR_KINDS = frozenset({ToxicityKind.CRS, ToxicityKind.ICANS})


def onset_day(day_zero: dt.date | None, onset: dt.date) -> int | None:
    """Day +N of an onset on `onset` (a date in site time), or None without a day 0."""
    return (onset - day_zero).days if day_zero else None


def day_text(day: int | None) -> str:
    if day is None:
        return ""
    return f"day {day:+d}" if day else "day 0"


def timing_flag(kind: str, day: int | None, *, recurrence: bool) -> str:
    """Why the timing of an event is unusual, or "" when it is not.

    `recurrence`: the patient already had a CRS after this day 0, so a late one is a
    recurrence, not the late first onset the flag is about.
    """
    if kind not in EFFECTOR_KINDS:
        return ""
    name = "CRS" if kind == ToxicityKind.CRS else "ICANS"
    if day is None:
        return f"{name} without an infusion on record: check the infusion date, or consider another cause."
    if day < 0:
        return (
            f"{name} recorded before the infusion ({day_text(day)}): it follows CAR-T cells, so check the onset "
            "and infusion dates, or consider another cause."
        )
    if kind == ToxicityKind.CRS and day > CRS_NEW_ONSET_LIMIT_DAY and not recurrence:
        return (
            f"CRS first reported on day +{day}: new-onset CRS after day +{CRS_NEW_ONSET_LIMIT_DAY} is not expected "
            "after CAR-T. Consider infection."
        )
    return ""
