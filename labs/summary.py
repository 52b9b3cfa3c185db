"""The counts in words, for a hand-off: the latest values with their dates and trend, the ICAHT
grade, the latest IgG. Read for an already-authorised patient."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.models import Patient
from labs.counts import icaht_of
from labs.kinds import LabKind
from labs.models import LabResult
from labs.selectors import anc_series_of, latest_of
from referrals.day_zero import day_zero_of
from toxicity.timing import day_text

TREND_KINDS: list[str] = [LabKind.ANC, LabKind.PLATELETS, LabKind.HEMOGLOBIN]


def _when(result: LabResult, day_zero: dt.date | None) -> str:
    day = day_text((result.taken_on - day_zero).days) if day_zero else ""
    return f"{result.taken_on.isoformat()}{f' ({day})' if day else ''}"


def _trend(latest: LabResult, previous: LabResult | None) -> str:
    if previous is None:
        return ""
    word = "rising" if latest.value > previous.value else "falling" if latest.value < previous.value else "unchanged"
    return f", {word} from {previous.value_text} on {previous.taken_on.isoformat()}"


def counts_trend(patient: Patient) -> str | None:
    """One line per value of ANC, platelets and hemoglobin: the latest, its date and day +N,
    its flag, and the trend from the one before; None without any."""
    day_zero = day_zero_of(patient)
    lines = []
    for rows in latest_of(patient, TREND_KINDS).values():
        if not rows:
            continue
        latest = rows[0]
        flag = " (flagged)" if latest.flagged else ""
        previous = rows[1] if len(rows) > 1 else None
        when = _when(latest, day_zero)
        lines.append(f"{latest.get_kind_display()} {latest.value_text}{flag} on {when}{_trend(latest, previous)}")
    return "\n".join(lines) or None


def latest_igg(patient: Patient) -> str | None:
    """The latest IgG with its date (and day +N) and flag; None without one."""
    rows = latest_of(patient, [LabKind.IGG])[LabKind.IGG]
    if not rows:
        return None
    latest = rows[0]
    flag = f", flagged {latest.flag_reason}" if latest.flagged else ""
    return f"IgG {latest.value_text} on {_when(latest, day_zero_of(patient))}{flag}"


def icaht_grade_now(patient: Patient, today: dt.date | None = None) -> int | None:
    """The higher of the early and (after day +30) late ICAHT grades as of `today` (the server's
    day by default); None without a day 0 or an ANC from day 0 on."""
    day_zero = day_zero_of(patient)
    graded = icaht_of(anc_series_of(patient), day_zero, today or timezone.localdate())
    grades = [grade for grade in (graded.early, graded.late) if grade is not None]
    return max(grades) if grades else None
