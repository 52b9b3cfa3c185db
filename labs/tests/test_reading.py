"""Reading values, units, pasted blocks and CSV files (docs/clinical-rules.md#lab-results): no database."""

from __future__ import annotations

import datetime as dt

import pytest

from labs.entry import EntryErrors, read_csv, read_pasted
from labs.thresholds import is_flagged
from labs.units import UnreadableValue, kind_named, read_value

DAY_ZERO = dt.date(2027, 1, 11)
TODAY = dt.date(2027, 2, 1)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("ANC", "anc"), ("abs neut", "anc"), ("PLT", "platelets"), ("Hgb", "hemoglobin"), ("ALC", "lymphocytes"),
     ("CD4", "cd4"), ("IgG", "igg"), ("Ferritin", "ferritin"), ("crp", "crp"), ("WBC", None)],
)  # fmt: skip
def test_kinds_are_known_by_their_usual_names(name: str, kind: str | None) -> None:
    assert kind_named(name) == kind


@pytest.mark.parametrize(
    ("kind", "value", "unit", "canonical"),
    [
        ("anc", "0.4", "", 400),
        ("anc", "400", "", 400),
        ("anc", "0", "", 0),
        ("anc", "0.4", "x10^9/L", 400),
        ("anc", "0.4", "\u00d7 10\u2079/L", 400),
        ("anc", "400", "cells/µL", 400),
        ("anc", "400", "/uL", 400),
        ("anc", "1,200", "", 1200),
        ("anc", "0,4", "", 400),
        ("platelets", "18", "", 18_000),
        ("platelets", "18000", "", 18_000),
        ("platelets", "18", "K/uL", 18_000),
        ("hemoglobin", "6.8", "", 6.8),
        ("hemoglobin", "68", "", 6.8),
        ("hemoglobin", "68", "g/L", 6.8),
        ("hemoglobin", "4", "mmol/L", 6.444),
        ("igg", "350", "", 350),
        ("igg", "3.5", "", 350),
        ("igg", "3.5", "g/L", 350),
        ("cd4", "150", "", 150),
        ("cd4", "50", "", 50),
        ("crp", "12", "", 12),
        ("crp", "1.2", "mg/dL", 12),
        ("ferritin", "1500", "µg/L", 1500),
    ],
)
def test_values_are_stored_in_the_canonical_unit(kind: str, value: str, unit: str, canonical: float) -> None:
    assert read_value(kind, value, unit).value == pytest.approx(canonical)


@pytest.mark.parametrize(
    ("kind", "value", "unit"),
    [
        ("anc", "40", ""),  # 40 cells/µL or 40 x 10^9/L: asked
        ("lymphocytes", "5", ""),
        ("igg", "40", ""),
        ("anc", "0.4", "g/dL"),
        ("anc", "abc", ""),
        ("anc", "-1", ""),
        ("hemoglobin", "30", "g/dL"),  # not plausible
    ],
)
def test_unsafe_or_wrong_values_are_refused_with_what_to_write(kind: str, value: str, unit: str) -> None:
    with pytest.raises(UnreadableValue):
        read_value(kind, value, unit)


@pytest.mark.parametrize(
    ("kind", "value", "flagged"),
    [("anc", 499, True), ("anc", 500, False), ("platelets", 19_999, True), ("platelets", 20_000, False),
     ("hemoglobin", 6.9, True), ("hemoglobin", 7, False), ("igg", 399, True), ("igg", 400, False),
     ("cd4", 10, False), ("crp", 300, False)],
)  # fmt: skip
def test_flag_thresholds_are_strictly_below(kind: str, value: float, flagged: bool) -> None:
    assert is_flagged(kind, value) is flagged


def test_a_pasted_block_is_read_line_by_line_with_dates_from_lines_above() -> None:
    text = "ANC 0.4 L\nPLT: 18\n\n# from the lab\n2027-01-20\nHb = 6.8 g/dL\nIgG 350 mg/dL day +30\nCD4\t150"
    entries = read_pasted(text, taken_on=TODAY, day_zero=DAY_ZERO)
    assert [(e.line, e.kind, e.reading.value, e.taken_on) for e in entries] == [
        (1, "anc", 400, TODAY),
        (2, "platelets", 18_000, TODAY),
        (6, "hemoglobin", 6.8, dt.date(2027, 1, 20)),
        (7, "igg", 350, DAY_ZERO + dt.timedelta(days=30)),
        (8, "cd4", 150, dt.date(2027, 1, 20)),
    ]


def test_a_pasted_block_names_every_bad_line_and_reads_nothing() -> None:
    with pytest.raises(EntryErrors) as caught:
        read_pasted("ANC 0.4\nWBC 3.1\nANC 40\nHb", taken_on=TODAY, day_zero=DAY_ZERO)
    assert [error.split(":")[0] for error in caught.value.errors] == ["Line 2", "Line 3", "Line 4"]
    assert "write the unit" in caught.value.errors[1]


def test_day_plus_n_needs_an_infusion_date() -> None:
    with pytest.raises(EntryErrors, match=r"Line 1: day \+30: there is no infusion date"):
        read_pasted("IgG 350 day +30", taken_on=TODAY, day_zero=None)


def test_a_csv_file_is_read_by_its_header_and_names_bad_rows() -> None:
    data = b"taken_on,kind,value,unit\n2027-01-20,ANC,0.3,x10^9/L\nday +12,IgG,3.2,g/L\n"
    entries = read_csv(data, day_zero=DAY_ZERO)
    assert [(e.line, e.kind, e.reading.value) for e in entries] == [(2, "anc", 300), (3, "igg", 320)]
    with pytest.raises(EntryErrors) as caught:
        read_csv(b"kind;value;taken_on\nANC;0,4;2027-01-20\nXYZ;1;2027-01-20\nANC;1;2027-13-01\n", day_zero=None)
    assert [error.split(":")[0] for error in caught.value.errors] == ["Line 3", "Line 4"]
    with pytest.raises(EntryErrors, match=r"Line 1: .*missing taken_on"):
        read_csv(b"kind,value\nANC,0.4\n", day_zero=None)
