"""What the transition hand-off is prefilled with from the counts: the trend, ICAHT and IgG."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from handoffs.prefill import prefill_values
from handoffs.schema import NONE_RECORDED
from labs.entry import read_pasted
from labs.services import lab_results_record
from tests.helpers import World, infused

pytestmark = pytest.mark.django_db

DAY_ZERO = dt.date(2027, 1, 11)
NOW = dt.datetime(2027, 2, 25, 18, tzinfo=dt.UTC)  # day +45
SCHEMA: dict[str, Any] = {
    "sections": [
        {
            "key": "recovery",
            "title": "Counts and immune recovery",
            "fields": [
                {"key": "counts", "label": "Counts trend", "type": "long_text", "prefill": "counts_trend"},
                {"key": "icaht", "label": "ICAHT grade", "type": "grade", "prefill": "icaht_grade"},
                {"key": "igg", "label": "IgG", "type": "text", "prefill": "igg"},
            ],
        }
    ]
}


@pytest.fixture(autouse=True)
def frozen(world: World) -> Any:
    # Referred and infused the same week; the hand-off is started on day +45.
    with time_machine.travel(dt.datetime.combine(DAY_ZERO, dt.time(18), tzinfo=dt.UTC), tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
    with time_machine.travel(NOW, tick=False):
        yield


def _record(world: World, text: str) -> None:
    entries = read_pasted(text, taken_on=None, day_zero=DAY_ZERO)
    lab_results_record(actor=world.center_coordinator, patient=world.shared_patient, site=world.center, entries=entries)


def test_without_results_the_grade_says_none_recorded_and_the_rest_stays_empty(world: World) -> None:
    assert prefill_values(world.shared_patient, SCHEMA) == {"recovery.icaht": NONE_RECORDED}


def test_the_latest_counts_with_their_trend_the_icaht_grade_and_the_latest_igg(world: World) -> None:
    _record(
        world,
        "day +2\nANC 0.3\nPLT 40\nHb 8.4\nday +20\nANC 0.9\nPLT 15\nHb 8.4\nIgG 5.1 g/L\n"
        "day +40\nANC 0.8\nday +44\nANC 0.7\nIgG 3.5 g/L",
    )
    values = prefill_values(world.shared_patient, SCHEMA)
    assert values["recovery.counts"].splitlines() == [
        "ANC 700 cells/µL on 2027-02-24 (day +44), falling from 800 cells/µL on 2027-02-20",
        "Platelets 15,000 /µL (flagged) on 2027-01-31 (day +20), falling from 40,000 /µL on 2027-01-13",
        "Hemoglobin 8.4 g/dL on 2027-01-31 (day +20), unchanged from 8.4 g/dL on 2027-01-13",
    ]
    # Early: days 2-19 at or below 500 (18 days), grade 3; late: 800 and 700, grade 2.
    assert values["recovery.icaht"] == 3
    assert values["recovery.igg"] == (
        "IgG 350 mg/dL on 2027-02-24 (day +44), flagged below 400 mg/dL (hypogammaglobulinemia: consider IVIG)"
    )
