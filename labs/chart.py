"""A small line chart of one laboratory value over day +N, as numbers for an inline SVG.

Pure geometry, no database: the template draws it with presentation attributes only (no
script, no inline style), so it needs nothing from the Content Security Policy. The table
beside each chart says the same to a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 8, 22


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    flagged: bool


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """What the SVG draws: the line, its dots, the threshold (if any), and the axes' ticks."""

    width: int
    height: int
    line: str  # the polyline's points
    dots: list[Dot]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    threshold_y: float | None
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
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def line_chart(points: Sequence[tuple[int, float, bool]], *, threshold: float | None = None) -> Chart:
    """`points`: (day +N, value, flagged), in day order; `threshold`: a flag line to draw."""
    days = [day for day, _, _ in points]
    values = [value for _, value, _ in points]
    first, last = min([*days, 0]), max([*days, 30])
    top_value = max([*values, threshold or 0]) * 1.1 or 1
    x_span, plot_w, plot_h = max(last - first, 1), WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return round(LEFT + (day - first) / x_span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - value / top_value * plot_h, 1)

    dots = [Dot(x(day), y(value), flagged) for day, value, flagged in points]
    x_step = max(int(_nice_step(x_span, 4)), 1)
    start = first - first % x_step + (x_step if first % x_step else 0)
    x_ticks = [Tick(x(day), f"+{day}" if day > 0 else str(day)) for day in range(start, last + 1, x_step)]
    y_step = _nice_step(top_value, 3)
    y_ticks = [Tick(y(n * y_step), _label(n * y_step)) for n in range(int(top_value / y_step) + 1)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{dot.x},{dot.y}" for dot in dots),
        dots=dots,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        threshold_y=y(threshold) if threshold is not None else None,
    )
