"""Education in a real browser: a site administrator edits a material into a new version, the
coordinator records education given from the timeline, and the wallet card downloads as a PDF
whose text carries the product, day 0, the center's number and the restrictions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from carecoord.models import TimelineEntry
from carecoord.pdf import html_to_document
from carecoord.roles import Role
from education.models import EducationGiven, EducationMaterial
from education.wallet_card import wallet_card_html, wallet_card_of
from referrals.milestones.services import milestone_set_infusion
from tests.browser import policy_violations, sign_in
from tests.factories import member
from tests.helpers import World, accepted_referral, ship_education, treated_with_carvykti

pytestmark = pytest.mark.browser

MATERIAL = "Hand-back: going home"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_edits_material_coordinator_records_it_and_downloads_the_wallet_card(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    ship_education()
    referral = accepted_referral(world)
    treated_with_carvykti(world, referral)
    today = timezone.localdate(timezone=world.center.zone)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=today - dt.timedelta(days=3))
    admin = member(world.center, Role.COORDINATOR, email="admin@lakeside.test", full_name="Ada Admin")
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])

    # The site administrator edits the material: version 2, taught from now on.
    page = browser.new_page()
    sign_in(page, base_url, admin.email)
    page.goto(base_url + reverse("education-material-list"))
    page.get_by_role("link", name=f"Edit {MATERIAL}").click()
    page.get_by_label("Text").fill("")
    save = page.get_by_role("button", name="Save version 2")
    save.evaluate("button => { button.form.noValidate = true; }")  # the server's answer, not the browser's
    save.click()
    expect(page.locator("#id_body_error")).to_contain_text("Write the material's text.")
    page.get_by_label("Title").fill("Going home after CAR-T: your first weeks")
    page.get_by_label("Text").fill("Treat a fever as an emergency: call the 24/7 number.")
    page.get_by_role("button", name="Save version 2").click()
    expect(page.get_by_text("Version 2 saved")).to_be_visible()
    material = EducationMaterial.objects.get(name=MATERIAL)
    assert list(material.versions.values_list("number", flat=True)) == [2, 1]
    assert not policy_violations(page)
    page.close()

    # The center's coordinator records it as given to the patient, from the timeline.
    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    expect(page.get_by_text("Late effects to watch for after Carvykti")).to_be_visible()
    page.locator("#main").get_by_role("link", name="Education", exact=True).click()
    page.get_by_label("Material").select_option(
        label="Going home after CAR-T: your first weeks (Hand-back to community, patient, v2)"
    )
    record = page.get_by_role("button", name="Record education given")
    record.evaluate("button => { button.form.noValidate = true; }")
    record.click()
    expect(page.locator("#id_recipient_error")).to_have_text("Choose who was taught.")
    page.get_by_label("Given to").select_option(label="Patient")
    page.get_by_role("button", name="Record education given").click()
    expect(
        page.get_by_text("Recorded: Going home after CAR-T: your first weeks, given to the patient.")
    ).to_be_visible()
    given = EducationGiven.objects.get(patient=world.shared_patient)
    assert (given.version.number, given.given_by, given.recipient) == (2, world.center_coordinator, "patient")
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.EDUCATION, patient=world.shared_patient).exists()

    # The wallet card downloads as a PDF; its text is the card's.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Wallet card (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "wallet-card.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    card = wallet_card_of(world.shared_patient)
    document = html_to_document(wallet_card_html(card, today))
    text = " ".join(box.text for p in document.pages for box in p._page_box.descendants() if hasattr(box, "text"))
    assert "Carvykti (ciltacabtagene autoleucel)" in text
    assert f"{today - dt.timedelta(days=3):%-d %b %Y}" in text
    assert world.center.phone_24_7 in text
    assert "No driving or operating heavy machinery until" in text
    page.close()
