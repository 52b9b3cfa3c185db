"""A small line chart of one laboratory value over day +N, as numbers for an inline SVG.

Pure geometry, no database: the template draws it with presentation attributes only (no
script, no inline style), so it needs nothing from the Content Security Policy. The axes'
labels are HTML around the drawing (text inside an SVG is text whose contrast no checker can
measure); the table beside each chart says everything to a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 4, 4


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    flagged: bool


@dataclass(frozen=True)
class Chart:
    """What the SVG draws (the line, its dots, the threshold if any, a tick on the day axis
    every `x_step` days) and the labels of its edges."""

    width: int
    height: int
    line: str  # the polyline's points
    dots: list[Dot]
    x_ticks: list[float]
    threshold_y: float | None
    top_label: str  # the value of the top edge (the bottom one is 0)
    first_day: str  # the day of the left edge, "day 0"
    last_day: str  # the day of the right edge, "day +90"
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _label(value: float) -> str:
    return f"{value:,g}"


def _day(day: int) -> str:
    return f"day {day:+d}" if day else "day 0"


def line_chart(points: Sequence[tuple[int, float, bool]], *, threshold: float | None = None) -> Chart:
    """`points`: (day +N, value, flagged), in day order; `threshold`: a flag line to draw."""
    days = [day for day, _, _ in points]
    values = [value for _, value, _ in points]
    first, last = min([*days, 0]), max([*days, 30])
    highest = max([*values, threshold or 0]) * 1.05 or 1
    y_step = _nice_step(highest, 4)
    top_value = y_step * -(-highest // y_step)  # the next round value above every point
    x_span, plot_w, plot_h = max(last - first, 1), WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return round(LEFT + (day - first) / x_span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / top_value * plot_h, 1)

    dots = [Dot(x(day), y(value), flagged) for day, value, flagged in points]
    x_step = max(int(_nice_step(x_span, 4)), 1)
    start = first - first % x_step + (x_step if first % x_step else 0)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=dots,
        x_ticks=[x(day) for day in range(start, last + 1, x_step)],
        threshold_y=y(threshold) if threshold is not None else None,
        top_label=_label(top_value),
        first_day=_day(first),
        last_day=_day(last),
    )
