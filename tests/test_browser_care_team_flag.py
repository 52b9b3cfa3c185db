"""The patient page's care team in a real browser: a site naming no primary point person is
flagged inside its card, the flag's sentence wrapped rather than widening the card past the
window, at a laptop's, a tablet's and a phone's width."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.browser import policy_violations, sign_in
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_no_primary_point_person_flag_stays_inside_its_sites_card(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems = policy_violations(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk}))
    card = page.locator(f"#site-{world.practice.pk}")
    flag = card.locator(".flag", has_text="No primary point person: alerts go to the coordinators")
    for width in (1366, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        expect(flag).to_be_visible()
        inside = card.bounding_box()
        shown = flag.bounding_box()
        assert inside is not None and shown is not None
        assert shown["x"] + shown["width"] <= inside["x"] + inside["width"] + 0.5, (width, shown, inside)
        # Nor does the card grow past the window to hold it on one line.
        page_width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert page_width <= window and inside["x"] + inside["width"] <= window, (width, inside)
    assert problems == []
    page.close()
