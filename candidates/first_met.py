"""When a patient first met a labelled use: the earliest day on which the treatment history, as
it stood that day, meets a rule (`candidates.matching`). Plain values, no database.

The history is recorded after the fact as often as not, and the rules change when a label does,
so the day is derived, never stored: the matcher is run as of each dated event of the history
(a line started, ended, progressed; refractoriness known; the transplant candidacy recorded; a
birthday at an age a rule names), each time on the history cut at that day (a line started
later left out, an end or a relapse dated later not yet there), with the rules as they are now
(lines are taken in their numbers' order, as the matching takes them).
A refractory line has no date of its own for it: it counts from its relapse or progression, else
its end, else the day the line was recorded. The transplant candidacy counts from the day it was
recorded. The first of those days on which a rule is met is the answer (the metrics measure the
days from it to the referral: docs/clinicians/metrics.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from candidates.matching import History, Line, Rule, Transplant, meets_any


@dataclass(frozen=True)
class DatedHistory:
    """A `History` with the dates its undated facts became known."""

    history: History
    refractory_on: Mapping[int, dt.date]  # by line number: when the line's refractoriness was known
    transplant_on: dt.date | None = None  # when the transplant candidacy was recorded


def _birthday(born_on: dt.date, age: int) -> dt.date:
    """The day the patient turns `age` (29 February: 1 March in other years, as `age_on` reads it)."""
    try:
        return born_on.replace(year=born_on.year + age)
    except ValueError:
        return dt.date(born_on.year + age, 3, 1)


def _events(dated: DatedHistory, rules: Sequence[Rule]) -> Iterator[dt.date]:
    for line in dated.history.lines:
        yield from (day for day in (line.started_on, line.ended_on, line.progressed_on) if day is not None)
        if line.refractory and line.number in dated.refractory_on:
            yield dated.refractory_on[line.number]
    if dated.transplant_on is not None:
        yield dated.transplant_on
    born_on = dated.history.born_on
    for rule in rules:
        if rule.min_age is not None:
            yield _birthday(born_on, rule.min_age)
        if rule.max_age is not None:
            yield _birthday(born_on, rule.max_age + 1)


def _line_on(line: Line, day: dt.date, refractory_on: dt.date | None) -> Line:
    return replace(
        line,
        ended_on=line.ended_on if line.ended_on is not None and line.ended_on <= day else None,
        progressed_on=line.progressed_on if line.progressed_on is not None and line.progressed_on <= day else None,
        refractory=line.refractory and refractory_on is not None and refractory_on <= day,
    )


def history_on(dated: DatedHistory, day: dt.date) -> History:
    """The history as it stood at the end of `day`."""
    history = dated.history
    lines = tuple(
        _line_on(line, day, dated.refractory_on.get(line.number)) for line in history.lines if line.started_on <= day
    )
    known = dated.transplant_on is not None and dated.transplant_on <= day
    return replace(history, lines=lines, transplant=history.transplant if known else Transplant.UNKNOWN)


def _earliest(days: Sequence[dt.date], met: Callable[[dt.date], bool]) -> dt.date | None:
    """The first of `days` (in order) on which `met` holds, where once it holds it holds after:
    searched by halves."""
    low, high = 0, len(days)
    while low < high:
        middle = (low + high) // 2
        if met(days[middle]):
            high = middle
        else:
            low = middle + 1
    return days[low] if low < len(days) else None


def first_met(dated: DatedHistory, rules: Sequence[Rule], until: dt.date) -> dt.date | None:
    """The earliest day up to `until` (included) on which the history as it stood met a rule;
    None if it met none by then (a patient referred before meeting any: referred early).

    As the history grows it only gains lines, classes, relapses and refractoriness, and the
    patient only gains years: a rule met stays met, unless it has an upper age, which a patient
    outgrows. So the rules without one are searched by halves (a few matchings per patient,
    whatever the length of the history), those with one day by day."""
    rules = [rule for rule in rules if rule.disease_area == dated.history.disease_area]
    if not rules or not dated.history.lines:
        return None
    days = sorted({day for day in _events(dated, rules) if day <= until})

    def met_on(chosen: Sequence[Rule]) -> Callable[[dt.date], bool]:
        return lambda day: meets_any(history_on(dated, day), chosen, day)

    lasting = [rule for rule in rules if rule.max_age is None]
    outgrown = [rule for rule in rules if rule.max_age is not None]
    found = [_earliest(days, met_on(lasting))] if lasting else []
    if outgrown:
        found.append(next((day for day in days if met_on(outgrown)(day)), None))
    return min((day for day in found if day is not None), default=None)
