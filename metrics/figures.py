"""The shapes every block's figures take: a span between two steps (how many, median, 90th
percentile), a count by label, a month's counts. Plain data; `metrics.tables` writes them out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, Count, F, Value, When

from metrics.sql import median, p90


@dataclass(frozen=True)
class Span:
    """The time from one step to the next over the rows that have both."""

    label: str
    unit: str  # "hours" or "days"
    n: int
    median: float | None
    p90: float | None


def span_aggregates(name: str) -> dict[str, Any]:
    """The three aggregates of the annotation `name`: how many have it, median, 90th percentile."""
    return {f"{name}_n": Count(F(name)), f"{name}_median": median(F(name)), f"{name}_p90": p90(F(name))}


def span_of(row: Mapping[str, Any], name: str, label: str, unit: str) -> Span:
    return Span(label, unit, row[f"{name}_n"], row[f"{name}_median"], row[f"{name}_p90"])


@dataclass(frozen=True)
class Tally:
    """A count under a label (a state, a grade, a day range, a cause)."""

    label: str
    count: int


@dataclass(frozen=True)
class Month:
    """Counts of one month of the period, by series name."""

    first_day: dt.date
    counts: dict[str, int]

    @property
    def label(self) -> str:
        return self.first_day.strftime("%b %Y")


def by_month(months: list[dt.date], rows: Mapping[tuple[dt.date, str], int], series: list[str]) -> list[Month]:
    """Every month of the period with each series' count (0 where no row): `rows` maps (first
    day of the month, series) to its count."""
    return [Month(month, {name: rows.get((month, name), 0) for name in series}) for month in months]


def in_bin(days: str, bins: tuple[tuple[int, str], ...]) -> Case:
    """The label of the bin `days` falls in (the last bin whose lower bound it reaches)."""
    whens = [When(**{f"{days}__gte": low}, then=Value(label)) for low, label in reversed(bins)]
    return Case(*whens, default=Value(""), output_field=CharField())


def bin_of(days: int, bins: tuple[tuple[int, str], ...]) -> str:
    """The label of the last bin (lower bounds in order) whose lower bound `days` reaches."""
    label = ""
    for low, name in bins:
        if days >= low:
            label = name
    return label


def binned(counts: Iterable[tuple[int | None, int]], bins: tuple[tuple[int, str], ...]) -> list[Tally]:
    """Counts by day (grouped in SQL: a few hundred rows at most) summed into `bins`, in their
    order; days before the first bin, or none, are left out."""
    totals = dict.fromkeys((label for _, label in bins), 0)
    for days, n in counts:
        if days is not None and (label := bin_of(days, bins)):
            totals[label] += n
    return [Tally(label, n) for label, n in totals.items()]
