"""Column charts of a block's counts (by month, by day range, the referral funnel), as numbers
for an inline SVG drawn on the server.

Pure geometry, no database: the template draws it with presentation attributes only (no
script, no inline style), so the Content Security Policy needs nothing. A count of 1 to 4 is
not drawn (its bar would tell what "<5" hides): its place says "<5" in the table beside the
chart, which says everything to a screen reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from metrics.figures import Month, Tally
from metrics.small_counts import count_text, is_small

WIDTH, HEIGHT = 480, 150
TOP, BOTTOM = 6, 2
GAP = 0.25  # of a group's width, between groups
COLOURS = ("#1f5fa8", "#b85c00", "#5a7d2a")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    text: str  # what the bar stands for, "Feb 2026, Referred: 12"


@dataclass(frozen=True)
class Chart:
    """The bars, the labels of the groups under them (HTML, not SVG text) and the series."""

    width: int
    height: int
    bars: list[Bar]
    groups: list[str]
    series: list[tuple[str, str]]  # (name, colour)
    top_label: str  # the count of the top edge (the bottom one is 0)
    baseline: float


def _top(highest: int) -> int:
    """A round count at or above `highest` (and at least 5): 5, 10, 20, 25, 50, 100, 200..."""
    for power in itertools.count():
        for step in (1, 2, 2.5, 5):
            top = int(step * 10**power)
            if top >= max(highest, 5):
                return top
    raise AssertionError("unreachable")


def column_chart(groups: Sequence[tuple[str, Sequence[int]]], series: Sequence[str]) -> Chart:
    """`groups`: (label, one count per series), in order along the axis."""
    shown = [count for _, counts in groups for count in counts if not is_small(count)]
    top = _top(max(shown, default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    group_width = WIDTH / max(len(groups), 1)
    bar_width = group_width * (1 - GAP) / max(len(series), 1)
    bars = []
    for index, (label, counts) in enumerate(groups):
        left = index * group_width + group_width * GAP / 2
        for position, (name, count) in enumerate(zip(series, counts, strict=True)):
            height = 0.0 if is_small(count) else round(count / top * plot_height, 1)
            bars.append(
                Bar(
                    x=round(left + position * bar_width, 1),
                    y=round(TOP + plot_height - height, 1),
                    width=round(bar_width - 1, 1),
                    height=height,
                    colour=COLOURS[position % len(COLOURS)],
                    text=f"{label}, {name}: {count_text(count)}",
                )
            )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        groups=[label for label, _ in groups],
        series=[(name, COLOURS[i % len(COLOURS)]) for i, name in enumerate(series)],
        top_label=str(top),
        baseline=TOP + plot_height,
    )


def months_chart(months: Sequence[Month]) -> Chart:
    names = list(months[0].counts) if months else []
    return column_chart([(m.label, [m.counts[name] for name in names]) for m in months], names)


def tally_chart(tallies: Sequence[Tally], name: str) -> Chart:
    return column_chart([(t.label, [t.count]) for t in tallies], [name])


# The patient paths (metrics.gantt): one row per course, its steps as bars along the days
# from its infusion (day 0), so that every row lines up on day 0. The SVG holds the bars and
# lines only: the page writes the row and day labels in HTML beside it, where a colour
# contrast can be checked (axe cannot judge text drawn in an SVG); the report, on paper, in
# the SVG (`_report_gantt.html`).
GANTT_WIDTH = 520  # the plot
GANTT_ROW, GANTT_BAR = 16, 10
GANTT_DAYS = (-42, 28)  # the days shown at least, from day 0
GANTT_FURTHEST = 183  # days from day 0 drawn at most, either way: a longer bar is cut
STEP_COLOURS = {
    "Apheresis": "#1f5fa8",
    "Manufacturing": "#8fb3de",
    "Bridging": "#b85c00",
    "Infusion": "#a3151c",
    "Monitoring": "#5a7d2a",
    "Hand-back": "#6b3fa0",
}
PLANNED_OPACITY = "0.45"


@dataclass(frozen=True)
class Step:
    """A bar of a path: from `first` to `last` (days from day 0, both included)."""

    name: str
    first: int
    last: int
    planned: bool


@dataclass(frozen=True)
class PathRow:
    label: str  # the patient, as the table names them
    steps: list[Step]


@dataclass(frozen=True)
class GanttBar:
    x: float
    y: float
    width: float
    colour: str
    opacity: str  # "1", or lighter for a step only planned
    text: str  # "MRN GL-50001, Manufacturing: day -35 to day -12"


@dataclass(frozen=True)
class GanttLine:
    label: str
    y: float  # of the label's baseline, where the SVG writes it (the report)
    bars: list[GanttBar]


@dataclass(frozen=True)
class Gantt:
    width: int
    height: int
    bar_height: int
    lines: list[GanttLine]
    ticks: list[tuple[float, str]]  # (x, "day -28"), evenly spaced, the first and last at the edges
    zero: float  # x of day 0
    legend: list[tuple[str, str]]  # (step, colour)
    first_day: int
    last_day: int

    @property
    def days_text(self) -> str:
        return f"from {_day_text(self.first_day)} to {_day_text(self.last_day)}"

    @property
    def short_ticks(self) -> list[tuple[float, str]]:
        """The ticks with their days short ("-28", "0", "+14"), under a legend that says they
        are days from the infusion (the report)."""
        return [(x, label.removeprefix("day ")) for x, label in self.ticks]

    @property
    def tick_labels(self) -> list[str]:
        """The short days of the ticks but the last, each written from its tick on (the page)."""
        return [label for _, label in self.short_ticks[:-1]]


def _day_text(day: int) -> str:
    return f"day {day:+d}" if day else "day 0"


def _tick_days(days: list[int]) -> tuple[int, int, int]:
    """The first and last day of the plot and the days between ticks: whole weeks, or two or
    four, so that ticks fall on day 0 and on both edges."""
    first = max(min([*days, GANTT_DAYS[0]]), -GANTT_FURTHEST)
    last = min(max([*days, GANTT_DAYS[1]]) + 1, GANTT_FURTHEST)
    every = 7 if last - first <= 98 else 14 if last - first <= 196 else 28
    return every * (first // every), every * -(-last // every), every


def gantt_chart(rows: Sequence[PathRow]) -> Gantt:
    first, last, every = _tick_days([day for row in rows for step in row.steps for day in (step.first, step.last)])

    def x_of(day: float) -> float:
        return round((day - first) / (last - first) * GANTT_WIDTH, 1)

    lines = []
    for index, row in enumerate(rows):
        top = index * GANTT_ROW + (GANTT_ROW - GANTT_BAR) / 2
        bars = []
        for step in row.steps:
            start, end = max(step.first, first), min(step.last + 1, last)
            if end <= start:
                continue
            when = _day_text(step.first)
            if step.last != step.first:
                when = f"{when} to {_day_text(step.last)}"
            bars.append(
                GanttBar(
                    x=x_of(start),
                    y=round(top, 1),
                    width=max(round(x_of(end) - x_of(start), 1), 2.0),
                    colour=STEP_COLOURS[step.name],
                    opacity=PLANNED_OPACITY if step.planned else "1",
                    text=f"{row.label}, {step.name}: {when}{' (planned)' if step.planned else ''}",
                )
            )
        lines.append(GanttLine(row.label, round(index * GANTT_ROW + GANTT_ROW - 4, 1), bars))
    return Gantt(
        width=GANTT_WIDTH,
        height=len(rows) * GANTT_ROW,
        bar_height=GANTT_BAR,
        lines=lines,
        ticks=[(x_of(day), _day_text(day)) for day in range(first, last + 1, every)],
        zero=x_of(0),
        legend=list(STEP_COLOURS.items()),
        first_day=first,
        last_day=last,
    )
