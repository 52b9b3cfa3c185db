"""The generic CSV writer of the lists' exports: cells a spreadsheet never runs as a formula,
times on the viewer's clock with the zone in the header, a byte-order mark, a dated name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Iterator

import pytest

from carecoord.web.csv_export import BOM, Column, cell, csv_lines, csv_response, export_filename, formula_safe

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(text: str) -> None:
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["", "Sharedcare, Sharon", "a=1", "1-2", " =1", "'quoted", "#12"])
def test_other_cells_are_left_as_they_are(text: str) -> None:
    assert formula_safe(text) == text


def test_cells_say_moments_on_the_viewers_clock_and_days_as_iso() -> None:
    moment = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)
    assert cell(moment, PARIS) == "2026-12-05 00:30"
    assert cell(dt.date(2026, 12, 4), PARIS) == "2026-12-04"
    assert cell(None, PARIS) == ""
    assert (cell(True, PARIS), cell(False, PARIS)) == ("yes", "no")
    assert cell(12, PARIS) == "12"
    assert cell(-3, PARIS) == "'-3"  # a negative number too: never a formula


def test_the_file_starts_with_a_bom_and_names_the_zone_of_its_times() -> None:
    Row = tuple[str, dt.datetime | None]
    columns: list[Column[Row]] = [Column("Name", lambda r: r[0]), Column("At", lambda r: r[1], moment=True)]
    rows: list[Row] = [("=cmd|' /C calc'!A0", dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)), ("Ada, Lovelace", None)]
    text = "".join(csv_lines(columns, rows, PARIS))
    assert text.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert parsed == [
        ["Name", "At (Europe/Paris)"],
        ["'=cmd|' /C calc'!A0", "2026-01-01 13:00"],
        ["Ada, Lovelace", ""],
    ]


def test_lines_are_written_as_they_are_read() -> None:
    def rows() -> Iterator[str]:
        yield "first"
        raise AssertionError("read before the first line was taken")

    lines = csv_lines([Column[str]("Name", str)], rows(), PARIS)
    assert next(lines).endswith("Name\r\n")
    assert next(lines) == "first\r\n"


def test_the_file_is_offered_under_a_dated_name() -> None:
    assert export_filename("referrals", dt.date(2026, 12, 4)) == "carecoord-referrals-2026-12-04.csv"
    response = csv_response(iter(["a\r\n"]), "carecoord-referrals-2026-12-04.csv")
    assert response["Content-Disposition"] == 'attachment; filename="carecoord-referrals-2026-12-04.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
