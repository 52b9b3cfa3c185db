"""The hand-back in a real browser: the center fills and sends the transition template, the
community point person acknowledges it and downloads the PDF."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from handoffs.models import Handoff, HandoffTemplate
from handoffs.template_editor import views as template_views
from tests.browser import sign_in
from tests.helpers import TRANSITION, World, draft_handoff, name_point_persons, ship_templates

pytestmark = pytest.mark.browser


# Label → value for every required field not prefilled for a patient without a referral.
TEXTS = {
    "CAR-T product": "Yescarta (axicabtagene ciloleucel)",
    "Infusion date (day 0)": "2027-01-11",
    "HSV/VZV prophylaxis": "Acyclovir 400 mg twice daily for 12 months.",
    "PJP prophylaxis": "TMP-SMX three times weekly until CD4 > 200/µL.",
    "Immunoglobulin plan": "IgG at day 30, then monthly.",
    "Vaccination plan": "Influenza and COVID from month 3.",
    "No driving until": "2027-03-08",
    "Stay near the center until": "2027-02-08",
    "Red-flag symptoms": "Fever, confusion, tremor, seizures, bleeding.",
    "Next visit at the center": "2027-02-10",
    "Long-term follow-up plan": "Yearly visits for 15 years.",
}


def _fill_transition(page: Page) -> None:
    for label, value in TEXTS.items():
        page.get_by_label(label).fill(value)
    medications = page.get_by_role("group", name="Current medications")
    medications.get_by_label("Drug, row 1").fill("Acyclovir")
    medications.get_by_label("Dose, row 1").fill("400 mg")
    labs = page.get_by_role("group", name="Lab schedule")
    labs.get_by_label("Test, row 1").fill("CBC with differential")
    labs.get_by_label("Frequency, row 1").fill("every 2 weeks")
    page.get_by_role("group", name="Irradiated blood products needed").get_by_label("Yes").check()
    page.get_by_role("group", name="Consult between attending").get_by_label("Yes").check()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_center_sends_the_transition_and_the_community_point_person_acknowledges_and_downloads_it(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    ship_templates()
    name_point_persons(world)

    center = browser.new_page()
    sign_in(center, base_url, world.center_coordinator.email)
    center.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    center.locator("#main").get_by_role("link", name="Hand-offs").click()  # the patient's, not the menu's
    center.get_by_role("link", name="New hand-off").click()
    center.get_by_label("Template").select_option(label=TRANSITION)
    center.get_by_role("button", name="Start the draft").click()
    expect(center.get_by_label("Center 24/7 number")).to_have_value("Lakeside CAR-T Center: +1 555 100 2400")
    expect(center.get_by_label("Point persons")).to_contain_text("Olive Oncologist")

    # Sending too early names what is missing and keeps the draft.
    center.get_by_role("button", name="Send", exact=True).click()
    expect(center.get_by_role("alert")).to_contain_text("Not sent")
    expect(center.locator("#f-safety-red-flags-error")).to_have_text(
        "Red-flag symptoms needing a same-day call is required."
    )

    _fill_transition(center)
    center.get_by_role("button", name="Send", exact=True).click()
    expect(center.get_by_text(f"Sent to {world.practice.name}")).to_be_visible()
    handoff = Handoff.objects.get(patient=world.shared_patient)
    assert handoff.state == Handoff.State.SENT
    center.close()

    oncologist = browser.new_page()
    sign_in(oncologist, base_url, world.community_oncologist.email)
    oncologist.goto(base_url + reverse("handoff-detail", kwargs={"handoff_id": handoff.pk}))
    expect(oncologist.get_by_text("Acyclovir", exact=True)).to_be_visible()
    oncologist.get_by_role("button", name="Acknowledge").click()
    expect(oncologist.get_by_text("Acknowledged.")).to_be_visible()
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.ACKNOWLEDGED
    assert handoff.acknowledged_by == world.community_oncologist

    with oncologist.expect_download() as download_info:
        oncologist.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"handoff-{handoff.pk}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    oncologist.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_preview_shows_the_edits_not_yet_saved_in_a_new_tab_and_the_form_keeps_them(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    handoff = draft_handoff(world)
    saved = dict(handoff.values)
    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("handoff-edit", kwargs={"handoff_id": handoff.pk}))
    page.get_by_label("CAR-T product").fill("Breyanzi (typed, not saved)")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Preview").click()
    preview = opened.value
    expect(preview.get_by_role("heading", level=1)).to_contain_text("Preview")
    expect(preview.get_by_text("This preview is not saved.")).to_be_visible()
    expect(preview.locator(".ho-document")).to_contain_text("Breyanzi (typed, not saved)")
    expect(preview.get_by_role("heading", name="Not ready to send")).to_be_visible()
    preview.close()
    expect(page.get_by_label("CAR-T product")).to_have_value("Breyanzi (typed, not saved)")
    handoff.refresh_from_db()
    assert handoff.values == saved
    page.close()


@pytest.fixture
def slow_template_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    """A template preview that takes 0.8 s, as on a busy server: typing goes on, after a pause
    longer than the trigger's, while one is still on its way."""
    previewed = template_views.preview_of_text

    def slowly(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.8)
        return previewed(*args, **kwargs)

    monkeypatch.setattr(template_views, "preview_of_text", slowly)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_template_preview_follows_typing_without_console_errors(
    live_server: object, world: World, browser: Browser, slow_template_preview: None
) -> None:
    """A change while a preview is on its way waits for it rather than aborting it (which htmx
    logs as an error, htmx:sendAbort); the last text's preview is the one shown."""
    base_url = str(live_server)
    template = HandoffTemplate.objects.create(name="Slow preview", owner_site=world.center)
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("handoff-template-edit", kwargs={"template_id": template.pk}))
    schema = page.locator("#id_schema")
    for title in ("First", "Second", "Third"):
        section = {"key": "notes", "title": title, "fields": [{"key": "note", "label": "Note", "type": "text"}]}
        text = json.dumps({"sections": [section]})
        schema.fill(text[:-1])
        schema.press_sequentially(text[-1])  # a key typed: keyup and input
        page.wait_for_timeout(650)  # past the trigger's pause: a preview is on its way
    expect(page.locator("#schema-preview legend")).to_have_text("Third", timeout=10_000)
    page.wait_for_timeout(1500)  # nothing still on its way, nothing left to log
    expect(page.locator("#schema-preview legend")).to_have_text("Third")
    assert errors == []
    page.close()
