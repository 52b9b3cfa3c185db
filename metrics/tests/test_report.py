"""The quarterly report: its quarter, its figures (the site's patients only) and the PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from carecoord.models import Site
from metrics.report import quarter_period, report_html
from metrics.tests.conftest import NOW, Program, _referral
from tests.factories import patient_at


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2026q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        ("2026Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        (" 2026Q4 ", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ],
)
def test_a_quarter_is_its_three_months(text: str, start: dt.date, end: dt.date) -> None:
    period = quarter_period(text, Site(time_zone="America/Denver"))
    assert (period.start, period.end, period.zone.key) == (start, end, "America/Denver")


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "26Q1", "2026-Q1", "", "Q1 2026"])
def test_anything_else_is_not_a_quarter(text: str) -> None:
    with pytest.raises(ValueError, match="quarter"):
        quarter_period(text, Site())


def _two_more_in_march(program: Program) -> None:
    w = program.world
    for day in ("03-16", "03-17"):
        _referral(
            w, patient_at(w.practice, w.community_coordinator, shared_with=w.center), None, day, state="submitted"
        )


@pytest.mark.django_db
def test_the_report_holds_the_quarter_figures_of_the_site(program: Program) -> None:
    _two_more_in_march(program)
    html = report_html(program.world.center, "2026Q1", NOW)
    assert "Program metrics: Lakeside CAR-T Center" in html
    assert "2026Q1: 1 January 2026 to 31 March 2026" in html
    # Six referrals submitted in February and March; four acknowledged: under five.
    assert '<th scope="row">Referred</th><td>6</td>' in html
    assert '<th scope="row">Acknowledged</th><td>&lt;5</td>' in html
    assert "CRS by highest grade and product" in html and "Answering times" in html
    assert html.count("<svg") >= 6
    # Another practice's report counts none of Riverbend's patients.
    other = report_html(program.world.unrelated_practice, "2026Q1", NOW)
    assert '<th scope="row">Referred</th><td>0</td>' in other


@pytest.mark.django_db
def test_the_command_writes_the_pdf(program: Program, tmp_path: Path) -> None:
    _two_more_in_march(program)
    center = program.world.center
    by_id = tmp_path / "by-id.pdf"
    call_command("metrics_report", "--site", str(center.pk), "--quarter", "2026q1", "--output", str(by_id))
    pdf = by_id.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 10_000
    by_name = tmp_path / "by-name.pdf"
    call_command("metrics_report", "--site", "lakeside car-t center", "--quarter", "2026Q1", "--output", str(by_name))
    assert by_name.read_bytes().startswith(b"%PDF-")


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_site_or_quarter(program: Program, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No site"):
        call_command("metrics_report", "--site", "Nowhere Clinic", "--quarter", "2026Q1")
    with pytest.raises(CommandError, match="quarter"):
        call_command("metrics_report", "--site", str(program.world.center.pk), "--quarter", "2026Q9")
    assert not list(tmp_path.iterdir())
