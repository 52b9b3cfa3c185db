"""The metrics page in a real browser, as a center and as a practice: every block with its
charts under the real Content Security Policy, nothing axe finds serious, a table exported."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from metrics.tests.conftest import Program
from tests.browser import accessibility_violations, describe_violations, policy_violations, sign_in

pytestmark = pytest.mark.browser

PERIOD = "?start=2026-01-01&end=2026-06-30"


def _open(browser: Browser, base_url: str, email: str) -> tuple[Page, list[str]]:
    page = browser.new_page()
    refused = policy_violations(page)
    sign_in(page, base_url, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Metrics").click()
    expect(page.get_by_role("heading", name="Program metrics", level=1)).to_be_visible()
    page.goto(base_url + reverse("metrics") + PERIOD)
    return page, refused


def _row(page: Page, table: str, label: str) -> list[str]:
    row = page.locator(f"#{table} tbody tr").filter(has=page.get_by_role("rowheader", name=label, exact=True))
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_center_sees_every_block_with_its_charts(live_server: object, program: Program, browser: Browser) -> None:
    page, refused = _open(browser, str(live_server), program.world.center_coordinator.email)
    for block in ("Access", "Safety", "Coordination"):
        expect(page.get_by_role("heading", name=block, level=2)).to_be_visible()
    expect(page.locator(".metrics-chart__plot svg")).to_have_count(7)
    assert page.locator("#access-funnel svg rect").count() == 6
    assert _row(page, "access-funnel", "Referred") == ["6"]
    assert _row(page, "access-funnel", "Infused") == ["<5"]
    assert _row(page, "access-times", "Referral submitted → acknowledged") == ["5", "4 hours", "20.4 hours", "67%"]
    # The patient paths: one row per infusion, the center naming Riverbend's patients by initials.
    expect(page.locator("#paths-gantt .metrics-gantt__grid > svg")).to_have_count(1)
    expect(page.locator("#paths-gantt tbody tr")).to_have_count(3)
    assert page.locator("#paths-gantt svg rect").count() >= 3 * 4  # four bars a row, and the legend's
    first = page.locator("#paths-gantt tbody tr").first
    assert first.locator("th").inner_text().strip() == "TP"
    assert [cell.strip() for cell in first.locator("td").all_inner_texts()][:4] == [
        "Yescarta",
        "2026-04-03",
        "day -30",
        "day -9",
    ]
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        violations = accessibility_violations(page)
        assert violations == [], f"at {width} px:\n{describe_violations(violations)}"
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV of from referral to infusion").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[:2] == [["Step reached", "Referrals"], ["Referred", "6"]]
    with page.expect_download() as report:
        page.get_by_role("link", name=f"2026Q2 report of {program.world.center.name}").click()
    assert report.value.path().read_bytes().startswith(b"%PDF-")
    assert refused == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_practice_sees_its_own_patients(live_server: object, program: Program, browser: Browser) -> None:
    w = program.world
    page, refused = _open(browser, str(live_server), w.community_coordinator.email)
    assert _row(page, "access-funnel", "Referred") == ["6"]
    page.get_by_label("Site", exact=True).select_option(label=w.practice.name)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(
        f"{live_server}{reverse('metrics')}?start=2026-01-01&end=2026-06-30&site={w.practice.pk}&partner=&product="
    )
    assert _row(page, "coordination-times", "Hand-off sent → acknowledged") == ["<5", "<5", "<5"]
    assert refused == []
