"""A center coordinator's day on a center's worth of patients, in a real browser: find a patient
by the MRN on a fax, sort, narrow to what needs me, acknowledge an alert from the work queue and
see the active toxicity at the top of the timeline.

With CARECOORD_SCREENSHOTS set to a folder, the walk also saves the dashboard and the timeline
at 1366 and 390 px wide (the pictures in docs/clinicians/ are made this way).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from carecoord.roles import Role
from carecoord.services.patients import patient_set_identifier
from tests.browser import accessibility_violations, describe_violations, sign_in
from tests.factories import member
from tests.helpers import CRS_GRADE_3, World, many_patients_at
from toxicity.models import Alert
from toxicity.services import toxicity_record

pytestmark = pytest.mark.browser

PATIENTS = 1_000
SCREENSHOTS = os.environ.get("CARECOORD_SCREENSHOTS", "")


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        for width, height in ((1366, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"), full_page=False)
        page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_center_coordinator_finds_sorts_filters_acknowledges_and_sees_the_active_toxicity(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    nurse = member(world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse")
    # A thousand patients with their point persons named: nothing in them needs the coordinator.
    many_patients_at(world.center, PATIENTS, primary=nurse, backup=world.center_coordinator)
    patient = world.shared_patient
    patient_set_identifier(actor=world.center_coordinator, patient=patient, site=world.center, mrn="LKS-424242")
    # The practice records a grade 3 CRS: the center names nobody for this patient, so its
    # coordinator is alerted.
    toxicity_record(
        actor=world.community_oncologist,
        patient=patient,
        site=world.practice,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=3),
        inputs=CRS_GRADE_3,
    )
    alert = Alert.objects.get(recipient=world.center_coordinator)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, base_url, world.center_coordinator.email)
    results = page.locator("#results")
    # More than a list counts (LIST_COUNT_CAP): it says so, and how to reach the rest.
    assert PATIENTS + 1 > settings.LIST_COUNT_CAP
    expect(results.get_by_role("status")).to_contain_text(f"More than {settings.LIST_COUNT_CAP} patients")
    expect(results).to_contain_text("Narrow the list with the filters, or export it to have every row.")
    screenshot(page, "dashboard")
    assert not (found := accessibility_violations(page)), describe_violations(found)

    # The MRN from a fax, typed: the list narrows as the coordinator types (htmx, no reload),
    # and the search words never reach the address bar.
    search = page.get_by_label("Find a patient")
    search.fill("424242")
    expect(results.get_by_role("status")).to_contain_text("1 patient found")
    expect(results.get_by_role("link", name="Sharedcare, Sharon", exact=True)).to_be_visible()
    assert "424242" not in page.url

    search.fill("")
    expect(results.get_by_role("status")).to_contain_text(f"More than {settings.LIST_COUNT_CAP} patients")
    page.get_by_label("Sort by").select_option(label="Phase, along the path")
    expect(page).to_have_url(re.compile(r"sort=phase"))

    page.get_by_label("Needs my action").check()
    expect(results.get_by_role("status")).to_contain_text("1 patient found")
    expect(results.get_by_role("link", name="Sharedcare, Sharon", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"needs_action=on"))

    # The alert, acknowledged from the work queue in one click; back on the dashboard.
    queue = page.locator("section", has=page.get_by_role("heading", name="Alerts to acknowledge"))
    expect(queue).to_contain_text("Cytokine release syndrome")
    queue.get_by_role("button", name=re.compile("Acknowledge")).click()
    page.wait_for_url(base_url + reverse("dashboard"))
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page.get_by_role("heading", name="Alerts to acknowledge")).to_have_count(0)
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.center_coordinator

    # The timeline opens with the active toxicity at the top, acknowledged by the coordinator.
    page.get_by_label("Find a patient").fill("Sharedcare")
    expect(results.get_by_role("status")).to_contain_text("1 patient found")
    results.get_by_role("link", name="Timeline of Sharedcare, Sharon").click()
    page.wait_for_url(base_url + reverse("patient-timeline", kwargs={"patient_id": patient.pk}))
    now = page.locator(".tl-now__toxicities")
    expect(now).to_contain_text("grade 3")
    expect(now).to_contain_text(f"Acknowledged by {world.center_coordinator.full_name}")
    header_top = now.bounding_box()
    history = page.get_by_role("heading", name=re.compile("Everything that happened")).bounding_box()
    assert header_top is not None and history is not None and header_top["y"] < history["y"]
    screenshot(page, "timeline")
    page.close()
