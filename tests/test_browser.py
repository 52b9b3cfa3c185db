"""Real-browser check of the pages: Chromium driven by Playwright against a live server."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.browser import sign_in
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_care_team_member_finds_center_hotline_and_outsider_sees_nothing(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    patient_path = reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})

    oncologist = browser.new_page()
    sign_in(oncologist, base_url, world.community_oncologist.email)
    expect(oncologist.get_by_role("heading", name="My patients")).to_be_visible()
    shared_link = oncologist.locator("#results").get_by_role("link", name="Sharedcare, Sharon", exact=True)
    expect(shared_link).to_be_visible()
    # The phase filter swaps the results in place (htmx) and keeps the choice in the URL.
    oncologist.get_by_label("Phase").select_option(label="Infusion (day 0)")
    expect(oncologist.get_by_text("No patient matches.")).to_be_visible()
    expect(oncologist).to_have_url(base_url + reverse("dashboard") + "?phase=infusion")
    oncologist.get_by_label("Phase").select_option(label="All phases")
    expect(shared_link).to_be_visible()
    shared_link.click()
    oncologist.wait_for_url(base_url + patient_path)
    center_card = oncologist.locator(".care-team > li", has_text="Lakeside CAR-T Center")
    expect(center_card.get_by_role("link", name="+1 555 100 2400")).to_be_visible()
    oncologist.close()

    outsider = browser.new_page()
    sign_in(outsider, base_url, world.outsider.email)
    expect(outsider.locator("#results").get_by_role("link", name="Foreignsite, Frank", exact=True)).to_be_visible()
    expect(outsider.get_by_text("Sharedcare")).to_have_count(0)
    response = outsider.goto(base_url + patient_path)
    assert response is not None
    assert response.status == 404
    expect(outsider.get_by_role("heading", name="Page not found")).to_be_visible()
    # The header as on every page: the outsider's own role and site, nothing of the patient's.
    expect(outsider.locator(".account__sites")).to_have_text("Coordinator at Prairie Hematology")
    expect(outsider.get_by_text("Sharedcare")).to_have_count(0)
    expect(outsider.get_by_text("Riverbend Oncology")).to_have_count(0)
    outsider.close()
