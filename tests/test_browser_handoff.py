"""The hand-back in a real browser: the center fills and sends the transition template, the
community point person acknowledges it and downloads the PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from handoffs.models import Handoff
from tests.browser import sign_in
from tests.helpers import TRANSITION, World, name_point_persons, ship_templates

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
