"""Refer early, in a real browser: the practice coordinator filters the CAR-T candidates, opens
one, reads why, and starts the referral prefilled from the treatment history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from candidates.services import therapy_line_record, transplant_candidacy_record
from referrals.models import Referral
from referrals.workflow import State
from tests.browser import sign_in
from tests.factories import patient_at
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_practice_filters_candidates_reads_why_and_starts_a_prefilled_referral(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    coordinator, practice = world.community_coordinator, world.practice
    candidate = patient_at(
        practice, coordinator, given_name="Mara", family_name="Earlyton", disease_area="multiple_myeloma"
    )
    near = patient_at(practice, coordinator, given_name="Otis", family_name="Nearson", disease_area="multiple_myeloma")
    for patient, refractory in ((candidate, True), (near, False)):
        therapy_line_record(
            actor=coordinator,
            patient=patient,
            site=practice,
            number=1,
            regimen="VRd",
            drug_classes=["pi", "imid"],
            lenalidomide=True,
            started_on=dt.date(2025, 1, 6),
            refractory=refractory,
        )
    transplant_candidacy_record(actor=coordinator, patient=candidate, site=practice, status="no", reason="Age")

    page = browser.new_page()
    sign_in(page, base_url, coordinator.email)
    page.goto(base_url + reverse("dashboard"))
    page.get_by_label("CAR-T candidates").select_option(label="Candidates or approaching")
    results = page.locator("#results")
    expect(results.get_by_text("2 patients found")).to_be_visible()
    expect(results.get_by_role("link", name="CAR-T candidate: Carvykti")).to_be_visible()
    expect(results.get_by_role("link", name="Approaching CAR-T: Carvykti, Abecma")).to_be_visible()
    expect(results.get_by_text("Sharedcare")).to_have_count(0)

    results.get_by_role("link", name="CAR-T candidate: Carvykti").click()
    section = page.locator("#candidates")
    expect(section.get_by_text("Meets the Carvykti criterion")).to_be_visible()
    expect(section.get_by_text("lenalidomide-refractory (line 1, VRd)")).to_be_visible()
    expect(section.get_by_text("US prescribing information, April 2024").first).to_be_visible()

    section.get_by_role("link", name="Start a referral").click()
    expect(page.get_by_label("Prior lines of therapy")).to_have_value("1")
    expect(page.get_by_label("Disease area")).to_have_value("multiple_myeloma")
    expect(page.get_by_label("Transplant eligibility")).to_have_value("ineligible")
    expect(page.get_by_role("textbox", name="Prior therapies")).to_have_value(
        "Line 1: VRd (Proteasome inhibitor (PI), Immunomodulatory drug (IMiD), with lenalidomide); "
        "06 Jan 2025 to ongoing; best response: not assessed yet; refractory."
    )
    expect(page.get_by_label("Reason for referral")).to_contain_text("Possible products (the center decides): Carvykti")
    page.get_by_label("CAR-T center").select_option(label=world.center.name)
    page.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
    page.get_by_label("ECOG performance status").select_option(value="1")
    page.get_by_role("button", name="Submit to center").click()
    expect(page.get_by_role("heading", name="Referral", exact=False).first).to_be_visible()
    page.close()

    referral = Referral.objects.get(patient=candidate)
    assert referral.state == State.SUBMITTED
    assert referral.prior_lines_of_therapy == 1 and "VRd" in referral.prior_therapies
    assert referral.transplant_eligibility == "ineligible"
    assert "Meets the Carvykti criterion" in referral.reason
