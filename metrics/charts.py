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
