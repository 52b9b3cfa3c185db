"""When a patient first met a labelled use: the earliest day on which the treatment history, as
it stood that day, meets a rule (`candidates.matching`). Plain values, no database.

The history is recorded after the fact as often as not, and the rules change when a label does,
so the day is derived, never stored: the matcher is run as of each dated event of the history
(a line started, ended, progressed; refractoriness known; the transplant candidacy recorded; a
birthday at an age a rule names), each time on the history cut at that day (a line started
later left out, an end or a relapse dated later not yet there), with the rules as they are now.
A refractory line has no date of its own for it: it counts from its relapse or progression, else
its end, else the day the line was recorded. The transplant candidacy counts from the day it was
recorded. The first of those days on which a rule is met is the answer (the metrics measure the
days from it to the referral: docs/clinicians/metrics.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from candidates.matching import History, Line, Rule, Transplant, assess


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


def first_met(dated: DatedHistory, rules: Sequence[Rule], until: dt.date) -> dt.date | None:
    """The earliest day up to `until` (included) on which the history as it stood met a rule;
    None if it met none by then (a patient referred before meeting any: referred early)."""
    days = sorted({day for day in _events(dated, rules) if day <= until})
    for day in days:
        if assess(history_on(dated, day), rules, day).meets:
            return day
    return None
