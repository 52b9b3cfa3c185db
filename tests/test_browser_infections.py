"""Infections and prevention in a real browser: an infection recorded with an error first, then
a prophylaxis added; both on the shared timeline, and the prophylaxis stop due on the work queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from infections.models import InfectionEvent, ProphylaxisItem
from tests.browser import policy_violations, sign_in
from tests.helpers import World, infused

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_record_an_infection_and_a_prophylaxis_then_see_them_on_the_timeline_and_the_work_queue(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    today = world.practice.today()
    infused(world, today - dt.timedelta(days=20), today - dt.timedelta(days=20))
    page = browser.new_page()
    problems = policy_violations(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    page.get_by_role("link", name="Infections and prevention").click()
    page.get_by_role("link", name="Record an infection").click()

    # Without the site of the infection, the error stands next to that field.
    page.get_by_label("Organism (if known)").fill("Klebsiella pneumoniae")
    page.get_by_label("Kind of organism").select_option("bacterial")
    page.get_by_label("Severity (CTCAE grade)").select_option("2")
    page.get_by_label("Treated in").select_option("ward")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".field__error")).to_contain_text("Choose the site of the infection.")
    page.get_by_label("Site of infection").select_option("urinary")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text("Infection recorded.")
    expect(page.locator("#infections")).to_contain_text("Klebsiella pneumoniae (bacterial)")
    expect(page.locator("#infections")).to_contain_text("day +20")
    assert InfectionEvent.objects.get().body_site == "urinary"

    page.get_by_role("link", name="Add a prophylaxis").click()
    page.get_by_label("Kind").select_option("antifungal")
    page.get_by_label("Agent and dose").fill("Fluconazole 400 mg daily")
    page.get_by_label("Start").fill((today - dt.timedelta(days=20)).isoformat())
    page.get_by_label("Planned stop or review").fill((today + dt.timedelta(days=2)).isoformat())
    page.get_by_label("Stop condition").fill("Until ANC > 500/µL")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#prophylaxis")).to_contain_text("Fluconazole 400 mg daily")
    expect(page.locator("#prophylaxis")).to_contain_text("Due")
    assert ProphylaxisItem.objects.get().planned_stop_on == today + dt.timedelta(days=2)

    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    expect(page.get_by_text("Infection recorded: urinary tract, Klebsiella pneumoniae")).to_be_visible()
    expect(page.get_by_text("Prophylaxis added: Antifungal")).to_be_visible()

    page.goto(base_url + reverse("dashboard"))
    queue = page.locator("section", has=page.get_by_role("heading", name="Prophylaxis and vaccines due"))
    expect(queue).to_contain_text("Decide the stop of Antifungal prophylaxis (Fluconazole 400 mg daily)")
    queue.get_by_role("link", name="Sharedcare, Sharon").click()
    expect(page.get_by_role("heading", name="Infections and prevention")).to_be_visible()
    assert problems == []
