"""The metrics page and its CSV files: what they show, to whom, at what cost."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, cast

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from metrics.tests.conftest import NOW, Program, _event, _referral, _step
from tests.factories import patient_at
from tests.helpers import login, queries_of_get

pytestmark = pytest.mark.django_db

PERIOD = "start=2026-01-01&end=2026-06-30"


def _page(client: Client, query: str = PERIOD) -> str:
    response = client.get(f"{reverse('metrics')}?{query}")
    assert response.status_code == 200
    return response.content.decode()


def _export(client: Client, table: str, query: str = PERIOD) -> list[list[str]]:
    response: Any = client.get(f"{reverse('metrics-export')}?{query}&table={table}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(cast(Iterator[bytes], response.streaming_content)).decode().removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(body)))


@time_machine.travel(NOW, tick=False)
def test_the_center_sees_every_block_with_charts(client: Client, program: Program) -> None:
    html = _page(login(client, program.world.center_coordinator))
    for title in ("Access", "Safety", "Coordination", "From referral to infusion", "CRS by highest grade and product"):
        assert title in html
    # Charts beside their tables, drawn without inline style.
    assert html.count("<svg viewBox") >= 6
    assert "style=" not in html.split('<main id="main"')[1]
    # Six referrals; five acknowledged in a median of 4 hours, p90 20.4; 67% in time.
    assert "<td>6</td>" in html
    assert "<td>4 hours</td><td>20.4 hours</td><td>67%</td>" in html
    # Three infusions are under five: shown as <5, never as 3.
    assert "<td>&lt;5</td>" in html
    assert 'href="/metrics/"' in html and 'aria-current="page">Metrics' in html


@time_machine.travel(NOW, tick=False)
def test_an_export_writes_the_table_as_shown_and_is_audited(client: Client, program: Program) -> None:
    login(client, program.world.center_coordinator)
    rows = _export(client, "access-times")
    assert rows[0] == ["Step", "Number", "Median", "90th percentile", "Within the center's deadline"]
    assert rows[1] == ["Referral submitted → acknowledged", "5", "4 hours", "20.4 hours", "67%"]
    assert rows[2] == ["Referral submitted → consult", "<5", "<5", "<5", ""]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).latest("pk")
    assert entry.patient_id is None
    assert "access-times" in entry.what and "start=2026-01-01" in entry.what
    deaths = _export(client, "safety-deaths")[1:]
    assert deaths == [["Infection", "<5"], ["All deaths", "<5"], ["Non-relapse deaths", "<5"]]


def test_an_unknown_table_is_404(client: Client, program: Program) -> None:
    login(client, program.world.center_coordinator)
    for table in ("", "access", "access-nothing", "payroll-times"):
        assert client.get(f"{reverse('metrics-export')}?table={table}").status_code == 404


def test_bad_filters_show_the_default_period_with_the_errors(client: Client, program: Program) -> None:
    login(client, program.world.center_coordinator)
    for query in ("start=2026-06-01&end=2026-01-01", "start=yesterday&end=2026-01-01", "site=abc&partner=9999999"):
        html = _page(client, query)
        assert 'role="alert"' in html
    assert 'role="alert"' not in _page(client, "")


@time_machine.travel(NOW, tick=False)
def test_the_outsider_sees_nothing_of_the_program(client: Client, program: Program) -> None:
    login(client, program.world.outsider)
    html = _page(client)
    assert "<td>&lt;5</td>" not in html
    assert _export(client, "access-funnel")[1:] == [
        [label, "0"] for label in ("Referred", "Acknowledged", "Consult done", "Accepted", "Apheresis done", "Infused")
    ]
    # Asking for the center's patients through the center's site: not a site of theirs.
    assert _export(client, "access-funnel", f"{PERIOD}&site={program.world.center.pk}")[1] == ["Referred", "0"]


@time_machine.travel(NOW, tick=False)
def test_the_practice_sees_its_patients_and_its_digests(client: Client, program: Program) -> None:
    w = program.world
    login(client, w.community_coordinator)
    assert _export(client, "access-funnel")[1] == ["Referred", "6"]
    rates = {row[0]: row[1:] for row in _export(client, "coordination-rates", f"{PERIOD}&site={w.practice.pk}")}
    assert rates["Weekly digests delivered"] == ["<5", "<5", "<5"]


@time_machine.travel(NOW, tick=False)
def test_the_page_queries_do_not_grow_with_patients(client: Client, program: Program) -> None:
    w = program.world
    login(client, w.center_coordinator)
    url = f"{reverse('metrics')}?{PERIOD}"
    before = queries_of_get(client, url)
    for index in range(5):
        patient = patient_at(w.practice, w.community_coordinator, shared_with=w.center)
        referral = _referral(w, patient, "Kymriah", f"03-1{index}", state="accepted")
        _step(referral, "infusion", "05-01", "05-01")
        _event(w, patient, "icans", "05-04", 2)
    assert queries_of_get(client, url) == before


def _report(client: Client, query: str) -> Any:
    return client.get(f"{reverse('metrics-report')}?{query}")


@time_machine.travel(NOW, tick=False)
def test_a_site_report_is_a_pdf_of_the_viewers_own_site_and_is_audited(client: Client, program: Program) -> None:
    w = program.world
    login(client, w.center_coordinator)
    html = _page(client)
    assert f'href="/metrics/report.pdf?site={w.center.pk}&amp;quarter=2026Q2"' in html
    response = _report(client, f"site={w.center.pk}&quarter=2026q2")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "2026Q2.pdf" in response["Content-Disposition"]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).latest("pk")
    assert entry.patient_id is None and "2026Q2" in entry.what
    # By default: the viewer's first site, the last complete quarter.
    assert _report(client, "").content.startswith(b"%PDF-")
    assert _report(client, f"site={w.center.pk}&quarter=2026Q7").status_code == 400
    # Another site's report is nobody's business here: not found, whether it exists or not.
    for site in (w.practice.pk, w.unrelated_practice.pk, 999999, "abc"):
        assert _report(client, f"site={site}&quarter=2026Q2").status_code == 404
