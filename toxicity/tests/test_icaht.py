"""ICAHT grading of neutropenia (docs/clinical-rules.md#icaht): every boundary, no database."""

from __future__ import annotations

import math

import pytest

from toxicity.grading import InvalidInput, grade_icaht

RECOVERED = 2000.0


def spell(anc: float, days: int, *, start: int = 5) -> list[tuple[int, float]]:
    """Counts recovered but for `days` days at `anc` from day +`start`, measured on its first and last day."""
    return [(0, RECOVERED), (start, anc), (start + days, RECOVERED)]


# --- early ICAHT (days 0-30): cumulative days at or below 500 and 100/µL ---------------------


@pytest.mark.parametrize(("days", "grade"), [(1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (25, 3)])
def test_early_days_at_or_below_500_grade_1_to_3(days: int, grade: int) -> None:
    assert grade_icaht(anc_series=spell(400, days), day=30) == grade


@pytest.mark.parametrize(("days", "grade"), [(29, 3), (30, 4)])
def test_early_grade_4_from_30_days_at_or_below_500(days: int, grade: int) -> None:
    assert grade_icaht(anc_series=spell(400, days, start=1), day=30) == grade


@pytest.mark.parametrize(("days", "grade"), [(6, 2), (7, 3), (13, 3), (14, 4)])
def test_early_days_at_or_below_100_decide_when_higher(days: int, grade: int) -> None:
    # 6 days at 50/µL are also 6 days at or below 500: grade 1 from that row, so the 100 row
    # shows itself from 7 days; 6 days at 50 beside 7 more at 400 make grade 2 from the 500 row.
    series = [(0, RECOVERED), (1, 50), (1 + days, 400), (8 + days, RECOVERED)]
    assert grade_icaht(anc_series=series, day=30) == grade


@pytest.mark.parametrize(("anc", "grade"), [(500, 2), (500.0, 2), (501, 0), (100, 3), (101, 2)])
def test_early_ceilings_are_inclusive(anc: float, grade: int) -> None:
    assert grade_icaht(anc_series=spell(anc, 7), day=30) == grade


def test_early_days_are_cumulative_not_consecutive() -> None:
    series = [(0, 300), (4, RECOVERED), (10, 300), (14, RECOVERED)]  # 4 + 4 days
    assert grade_icaht(anc_series=series, day=30) == 2


def test_a_value_holds_until_the_next_measurement_and_the_last_until_the_day_asked() -> None:
    assert grade_icaht(anc_series=[(3, 400)], day=8) == 1  # days 3-8: 6 days
    assert grade_icaht(anc_series=[(3, 400)], day=9) == 2  # days 3-9: 7 days
    assert grade_icaht(anc_series=[(3, 400)], day=16) == 3
    assert grade_icaht(anc_series=[(3, 400)], day=15) == 2


def test_days_before_the_first_measurement_are_not_counted() -> None:
    assert grade_icaht(anc_series=[(20, 300)], day=25) == 1  # days 20-25


def test_measurements_after_the_day_asked_are_not_yet_known() -> None:
    series = [(0, RECOVERED), (10, 50)]
    assert grade_icaht(anc_series=series, day=9) == 0
    assert grade_icaht(anc_series=series, day=10) == 1


def test_series_order_does_not_matter_and_the_lowest_of_a_day_counts() -> None:
    series = [(14, RECOVERED), (5, 400), (0, RECOVERED), (5, 3000)]  # days 5-13 at 400
    assert grade_icaht(anc_series=series, day=30) == 2


def test_counts_never_at_or_below_500_are_grade_0() -> None:
    assert grade_icaht(anc_series=[(0, 501), (10, RECOVERED)], day=30) == 0


def test_early_grade_stops_counting_at_day_30() -> None:
    # From day +25 on: 6 days of the early window (25..30) whatever is asked after day +30.
    assert grade_icaht(anc_series=[(0, RECOVERED), (25, 400)], day=30) == 1


# --- late ICAHT (after day +30): two measurements at or below the level ----------------------


@pytest.mark.parametrize(
    ("anc", "grade"),
    [(1501, 0), (1500, 1), (1001, 1), (1000, 2), (501, 2), (500, 3), (101, 3), (100, 4), (0, 4)],
)
def test_late_levels_need_two_measurements(anc: float, grade: int) -> None:
    assert grade_icaht(anc_series=[(45, anc), (60, anc)], day=90) == grade


@pytest.mark.parametrize("anc", [1500, 1000, 500, 100])
def test_late_one_measurement_is_transient(anc: float) -> None:
    assert grade_icaht(anc_series=[(45, anc), (60, RECOVERED)], day=90) == 0


def test_late_two_measurements_at_different_levels_grade_by_the_milder() -> None:
    assert grade_icaht(anc_series=[(40, 80), (50, 900), (60, RECOVERED)], day=90) == 2


def test_late_two_measurements_on_one_day_count_once() -> None:
    assert grade_icaht(anc_series=[(40, 400), (40, 300)], day=90) == 0


def test_late_ignores_the_early_window_and_later_measurements() -> None:
    series: list[tuple[int, float]] = [(0, 50), (30, 50), (31, 50), (60, 50)]
    assert grade_icaht(anc_series=series, day=30) == 4  # early: 31 days at or below 100
    assert grade_icaht(anc_series=series, day=59) == 0  # late: one measurement so far
    assert grade_icaht(anc_series=series, day=60) == 4


def test_day_30_is_early_and_day_31_late() -> None:
    series = [(0, 400), (31, RECOVERED)]
    assert grade_icaht(anc_series=series, day=30) == 4
    assert grade_icaht(anc_series=series, day=31) == 0


# --- what cannot be graded --------------------------------------------------------------------


@pytest.mark.parametrize(
    "series",
    [
        [],
        [(5, -1)],
        [(5, -0.5)],
        [(-1, 400)],
        [(5, math.nan)],
        [(5, math.inf)],
        [(5, "400")],
        [(5.0, 400)],
        [(True, 400)],
        [(5,)],
        "5 400",
    ],
)
def test_bad_series_raise_value_error_naming_anc_series(series: object) -> None:
    with pytest.raises(ValueError, match=r"^anc_series: ") as caught:
        grade_icaht(anc_series=series, day=30)  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.argument == "anc_series"


@pytest.mark.parametrize("day", [-1, -30, 1.5, "30", None, True])
def test_bad_day_raises_value_error_naming_day(day: object) -> None:
    with pytest.raises(ValueError, match=r"^day: "):
        grade_icaht(anc_series=[(5, 400)], day=day)  # type: ignore[arg-type]


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        grade_icaht([(5, 400)], 30)  # type: ignore[call-arg]
