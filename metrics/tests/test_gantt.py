"""The patient paths (the Gantt chart of the metrics) against the days counted by hand on
`program` (metrics/tests/conftest.py): three courses infused on 3, 10 and 28 April 2026."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, cast

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from metrics.charts import GANTT_FURTHEST, PathRow, Step, gantt_chart
from metrics.gantt import Path, path_steps, patient_paths
from metrics.report import report_html
from metrics.tables import paths_block
from metrics.tests.conftest import NOW, Program, _referral, _step
from referrals.models import Milestone
from tests.factories import patient_at
from tests.helpers import login

pytestmark = pytest.mark.django_db

PERIOD = "start=2026-01-01&end=2026-06-30"


@pytest.fixture
def paths_program(program: Program) -> Program:
    """The program's courses with the steps a path reads beyond the access block's: r3's
    bridging (10 days before day 0, up to lymphodepletion on day -5), r1's monitoring window
    planned to day +28 (not yet marked done), and r2's bridging cancelled."""
    r1, r2, r3 = program.referrals[:3]
    _step(r3, "bridging_therapy", "04-18", "04-18")
    _step(r3, "lymphodepletion_start", "04-23", "04-23")
    _step(r1, "monitoring_end", "05-01")
    cancelled = _step(r2, "bridging_therapy", "04-01")
    Milestone.objects.filter(pk=cancelled.pk).update(status=Milestone.Status.CANCELLED)
    return program


def _by_referral(paths: list[Path]) -> dict[int, Path]:
    return {path.referral_id: path for path in paths}


def test_each_course_infused_is_a_row_in_order_of_its_day_zero(paths_program: Program) -> None:
    r1, r2, r3 = paths_program.referrals[:3]
    paths = patient_paths(paths_program.cohort(paths_program.world.center_coordinator))
    assert paths.total == 3
    assert [path.referral_id for path in paths.rows] == [r1.pk, r2.pk, r3.pk]
    rows = _by_referral(paths.rows)
    # The center holds no MRN of Riverbend's patients: their initials (Test PatientN).
    assert {path.label for path in paths.rows} == {"TP"}
    days = {
        referral.pk: [
            rows[referral.pk].day(getattr(rows[referral.pk], step))
            for step in ("apheresis", "release", "bridging", "lymphodepletion", "monitoring_end", "hand_back")
        ]
        for referral in (r1, r2, r3)
    }
    assert days == {
        r1.pk: [-30, -9, None, None, 28, 21],
        r2.pk: [-31, -9, None, None, None, 28],  # the cancelled bridging has no day
        r3.pk: [-29, -8, -10, -5, None, None],
    }
    monitoring = rows[r1.pk].monitoring_end
    assert monitoring is not None and monitoring.planned
    hand_back = rows[r1.pk].hand_back
    assert hand_back is not None and not hand_back.planned


def test_the_bars_of_a_path(paths_program: Program) -> None:
    r1, _, r3 = paths_program.referrals[:3]
    rows = _by_referral(patient_paths(paths_program.cohort(paths_program.world.center_coordinator)).rows)
    assert path_steps(rows[r1.pk]) == [
        Step("Manufacturing", -30, -9, planned=False),
        Step("Apheresis", -30, -30, planned=False),
        Step("Monitoring", 0, 28, planned=True),
        Step("Infusion", 0, 0, planned=False),
        Step("Hand-back", 21, 21, planned=False),
    ]
    assert path_steps(rows[r3.pk]) == [
        Step("Manufacturing", -29, -8, planned=False),
        Step("Apheresis", -29, -29, planned=False),
        Step("Bridging", -10, -6, planned=False),
        Step("Infusion", 0, 0, planned=False),
    ]


def test_the_table_names_each_patient_by_the_viewers_mrn(paths_program: Program) -> None:
    w = paths_program.world
    r1 = paths_program.referrals[0]
    mrn = r1.patient.identifiers.get(site=w.practice).mrn
    table = paths_block(patient_paths(paths_program.cohort(w.community_coordinator))).table("paths-gantt")
    assert table.rows[0] == [
        f"MRN {mrn}",
        "Yescarta",
        "2026-04-03",
        "day -30",
        "day -9",
        "",
        "",
        "day +28 (planned)",
        "day +21",
    ]
    assert table.note.startswith("Every infusion of the period")
    assert [patient for patient, _ in table.patients] == [r.patient_id for r in paths_program.referrals[:3]]
    # Narrowed to the center, where the practice's coordinator does not work: nobody.
    assert patient_paths(paths_program.cohort(w.community_coordinator, site_id=w.center.pk)).rows == []


def test_only_the_first_courses_are_listed_and_the_rest_counted(paths_program: Program) -> None:
    cohort = paths_program.cohort(paths_program.world.center_coordinator)
    paths = patient_paths(cohort, limit=2)
    assert (len(paths.rows), paths.total) == (2, 3)
    table = paths_block(paths).table("paths-gantt")
    assert table.note.startswith("The first 2 of 3 infusions of the period, by day of infusion.")
    assert table.gantt is not None and len(table.gantt.lines) == 2


def test_the_outsider_and_another_practice_see_no_path(paths_program: Program) -> None:
    assert patient_paths(paths_program.cohort(paths_program.world.outsider)).total == 0
    block = paths_block(patient_paths(paths_program.cohort(paths_program.world.outsider)))
    assert block.table("paths-gantt").rows == [] and block.table("paths-gantt").gantt is None


def test_the_paths_take_two_queries_whatever_the_number_of_courses(paths_program: Program) -> None:
    w = paths_program.world
    cohort = paths_program.cohort(w.center_coordinator)
    with CaptureQueriesContext(connection) as before:
        assert patient_paths(cohort).total == 3
    for index in range(5):
        patient = patient_at(w.practice, w.community_coordinator, shared_with=w.center)
        referral = _referral(w, patient, "Kymriah", f"03-1{index}", state="accepted")
        for kind, day in (("apheresis", "04-01"), ("manufacturing_release", "04-20"), ("bridging_therapy", "04-25")):
            _step(referral, kind, day, day)
        _step(referral, "infusion", "05-01", "05-01")
        _step(referral, "hand_back", "05-22")
    with CaptureQueriesContext(connection) as after:
        assert patient_paths(cohort).total == 8
    assert len(before) == len(after) == 2


def test_the_chart_lines_every_row_up_on_day_zero() -> None:
    rows = [
        PathRow("AB", [Step("Apheresis", -30, -30, planned=False), Step("Infusion", 0, 0, planned=False)]),
        PathRow("CD", [Step("Monitoring", 0, 28, planned=True), Step("Hand-back", 200, 200, planned=True)]),
    ]
    chart = gantt_chart(rows)
    # Six weeks before day 0 at least, to the furthest day drawn (+183), in steps of four
    # weeks (so wide a span): the hand-back on day +200 is beyond, not drawn (the table says it).
    assert GANTT_FURTHEST == 183
    assert (chart.first_day, chart.last_day) == (-56, 196)
    assert [label for _, label in chart.ticks][:3] == ["day -56", "day -28", "day 0"]
    assert chart.ticks[0][0] == 0 and chart.ticks[-1][0] == chart.width
    first, second = chart.lines
    infusion = first.bars[1]
    monitoring = second.bars[0]
    assert infusion.x == monitoring.x == chart.zero
    assert second.bars[1:] == []
    assert monitoring.opacity != "1" and infusion.opacity == "1"
    assert monitoring.text == "CD, Monitoring: day 0 to day +28 (planned)"
    assert first.bars[0].text == "AB, Apheresis: day -30"
    assert first.bars[0].x < infusion.x
    assert chart.height == 2 * 16


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(cast(Iterator[bytes], response.streaming_content)).decode().removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(body)))


@time_machine.travel(NOW, tick=False)
def test_the_page_csv_and_report_show_the_paths_and_record_each_patient(client: Client, paths_program: Program) -> None:
    w = paths_program.world
    infused = {r.patient_id for r in paths_program.referrals[:3]}
    login(client, w.center_coordinator)
    html = client.get(f"{reverse('metrics')}?{PERIOD}").content.decode()
    gantt = html.split('id="paths-gantt"')[1]
    assert gantt.count("<li>TP</li>") == 3  # one label per row, beside the chart
    assert "TP, Hand-back: day +21</title>" in gantt
    assert "<td>day +28 (planned)</td>" in gantt
    views = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, actor=w.center_coordinator)
    assert {entry.patient_id for entry in views} == infused
    assert {entry.what for entry in views} == {"listed in the metrics' patient paths"}

    rows = _csv(client.get(f"{reverse('metrics-export')}?{PERIOD}&table=paths-gantt"))
    assert rows[0][:3] == ["Patient", "Product", "Infusion (day 0)"]
    assert [row[2] for row in rows[1:]] == ["2026-04-03", "2026-04-10", "2026-04-28"]
    exported = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, patient_id__isnull=False)
    assert {entry.patient_id for entry in exported} == infused

    response = client.get(f"{reverse('metrics-report')}?site={w.center.pk}&quarter=2026Q2")
    assert response.content.startswith(b"%PDF-")
    downloaded = AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD)
    assert {entry.patient_id for entry in downloaded} == infused


@time_machine.travel(NOW, tick=False)
def test_the_outsiders_page_lists_nobody_and_records_no_read(client: Client, paths_program: Program) -> None:
    outsider = paths_program.world.outsider
    login(client, outsider)
    html = client.get(f"{reverse('metrics')}?{PERIOD}").content.decode()
    section = html.split('id="paths-gantt"')[1].split("</section>")[0]
    assert "None in this period." in section and "<svg" not in section
    assert not AuditEntry.objects.filter(actor=outsider, action=AuditEntry.Action.VIEW).exists()
    assert _csv(client.get(f"{reverse('metrics-export')}?{PERIOD}&table=paths-gantt"))[1:] == []


def test_the_report_draws_the_paths_with_their_labels(paths_program: Program) -> None:
    html = report_html(paths_program.world.center, "2026Q2", NOW)
    section = html.split("Path of each patient infused")[1]
    # The center's own report: Riverbend's patients by their initials, labels drawn in the SVG.
    assert section.count('text-anchor="end" fill="#000000">TP</text>') == 3
    assert '<table class="wide">' in section and "<td>day +21</td>" in section
