"""The one rule for small numbers on every metric: a count of 1 to 4 patients (or events) is
shown as "<5", and a figure computed from fewer than five (a median, a percentage) is not
shown at all, only that it rests on "<5". Page, CSV and PDF all write through here, so a
number too small to share never leaves by another door."""

from __future__ import annotations

SMALL = 5
SMALL_TEXT = f"<{SMALL}"
NOTHING = "n/a"


def count_text(count: int) -> str:
    """A count as shown: "0", "<5" for 1 to 4, else the number."""
    if 0 < count < SMALL:
        return SMALL_TEXT
    return str(count)


def is_small(count: int) -> bool:
    return 0 < count < SMALL


def figure_text(value: float | None, of: int, *, unit: str = "") -> str:
    """A figure computed from `of` rows (a median, a 90th percentile): "n/a" with no row, "<5"
    when it rests on fewer than five, else the value rounded to one decimal."""
    if value is None or of == 0:
        return NOTHING
    if of < SMALL:
        return SMALL_TEXT
    rounded = f"{value:.1f}".removesuffix(".0")
    return f"{rounded} {unit}".strip()


def percent_text(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage: "n/a" of nothing, "<5" when the whole is under five."""
    if whole == 0:
        return NOTHING
    if whole < SMALL:
        return SMALL_TEXT
    return f"{round(100 * part / whole)}%"
