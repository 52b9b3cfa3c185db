"""The "<5" rule and the charts that keep it: plain functions, no database."""

from __future__ import annotations

import pytest

from metrics.charts import column_chart
from metrics.small_counts import count_text, figure_text, percent_text
from metrics.sql import Percentile


@pytest.mark.parametrize(("count", "text"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (1234, "1234")])
def test_counts_from_one_to_four_are_shown_as_under_five(count: int, text: str) -> None:
    assert count_text(count) == text


def test_a_figure_resting_on_fewer_than_five_is_not_shown() -> None:
    assert figure_text(None, 0, unit="days") == "n/a"
    assert figure_text(12.0, 4, unit="days") == "<5"
    assert figure_text(12.0, 5, unit="days") == "12 days"
    assert figure_text(20.44, 9, unit="hours") == "20.4 hours"


def test_a_share_of_fewer_than_five_is_not_shown() -> None:
    assert percent_text(0, 0) == "n/a"
    assert percent_text(3, 4) == "<5"
    assert percent_text(4, 6) == "67%"
    assert percent_text(0, 5) == "0%"


def test_a_small_count_is_not_drawn_and_the_scale_is_round() -> None:
    chart = column_chart([("Jan", [3, 40]), ("Feb", [12, 0])], ["Referred", "Accepted"])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0  # 3: "<5", no bar
    assert heights[1] > heights[2] > 0 and heights[3] == 0
    assert chart.top_label == "50"
    assert chart.bars[0].text == "Jan, Referred: <5"
    assert column_chart([("Jan", [0])], ["Referred"]).top_label == "5"


def test_a_percentile_is_a_fraction() -> None:
    with pytest.raises(ValueError, match="fraction"):
        Percentile("x", 1.5)
