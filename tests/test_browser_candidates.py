"""Refer early, in a real browser: the practice coordinator filters the CAR-T candidates, opens
one, reads why, and starts the referral prefilled from the treatment history; the referral's
checklist says what the center will need for the disease and what is already on file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Browser, expect

from candidates.models import IndicationRule
from candidates.services import transplant_candidacy_record
from carecoord.models import User
from referrals.models import Referral
from referrals.workflow import State
from tests.browser import sign_in
from tests.factories import PASSWORD, first_line_vrd, patient_at
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
        first_line_vrd(patient, coordinator, practice, refractory=refractory)
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_administrator_retires_a_rule_in_the_admin_and_the_practice_list_changes(
    live_server: object, world: World, browser: Browser
) -> None:
    """A label changed: the administrator retires Carvykti's rule in the admin; the practice's
    filter then shows the patient one step from Abecma only, with no code changed."""
    base_url = str(live_server)
    coordinator, practice = world.community_coordinator, world.practice
    patient = patient_at(
        practice, coordinator, given_name="Ida", family_name="Rulechange", disease_area="multiple_myeloma"
    )
    first_line_vrd(patient, coordinator, practice, refractory=True)
    administrator = User.objects.create_superuser("administrator@carecoord.test", PASSWORD, full_name="Ada Admin")
    carvykti = IndicationRule.objects.get(product__brand_name="Carvykti", disease_area="multiple_myeloma")

    practice_page = browser.new_page()
    sign_in(practice_page, base_url, coordinator.email)
    practice_page.goto(base_url + reverse("dashboard"))
    practice_page.get_by_label("CAR-T candidates").select_option(label="Candidates or approaching")
    results = practice_page.locator("#results")
    expect(results.get_by_role("link", name="CAR-T candidate: Carvykti")).to_be_visible()

    admin_page = browser.new_page()
    sign_in(admin_page, base_url, administrator.email)
    admin_page.goto(base_url + reverse("admin:candidates_indicationrule_change", args=[carvykti.pk]))
    admin_page.get_by_label("Is active").uncheck()
    admin_page.get_by_role("button", name="Save", exact=True).click()
    expect(admin_page.get_by_text("was changed successfully")).to_be_visible()
    admin_page.close()

    practice_page.reload()
    practice_page.get_by_label("CAR-T candidates").select_option(label="Candidates or approaching")
    expect(results.get_by_role("link", name="Approaching CAR-T: Abecma")).to_be_visible()
    expect(results.get_by_text("CAR-T candidate: Carvykti")).to_have_count(0)
    practice_page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_checklist_says_what_the_center_needs_for_the_disease_and_what_is_on_file(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    coordinator, practice = world.community_coordinator, world.practice
    patient = patient_at(
        practice, coordinator, given_name="Rhea", family_name="Readyton", disease_area="multiple_myeloma"
    )
    first_line_vrd(patient, coordinator, practice, refractory=True)
    marrow = tmp_path / "marrow.pdf"
    marrow.write_bytes(b"%PDF-1.7\n% synthetic bone marrow report\n")
    myeloma_pathology = "needed for Multiple myeloma: bone marrow biopsy with the plasma-cell percentage"
    lymphoma_imaging = "needed for Large B-cell lymphoma: the latest PET-CT"

    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        page = browser.new_page()
        sign_in(page, base_url, coordinator.email)
        page.goto(base_url + reverse("referral-create") + f"?patient={patient.pk}")
        checklist = page.locator(".checklist--form")
        expect(checklist.get_by_text(myeloma_pathology)).to_be_visible()
        expect(checklist.get_by_text(lymphoma_imaging)).to_be_hidden()
        expect(
            checklist.get_by_text("On file for Rhea Readyton: 1 line of therapy recorded in the treatment history.")
        ).to_be_visible()
        # Another disease chosen: its own needs show, at once.
        page.get_by_label("Disease area").select_option(label="Large B-cell lymphoma")
        expect(checklist.get_by_text(lymphoma_imaging)).to_be_visible()
        expect(checklist.get_by_text(myeloma_pathology)).to_be_hidden()
        page.get_by_label("Disease area").select_option(label="Multiple myeloma")

        # Nothing attached: advisory, the referral goes to the center all the same.
        page.get_by_label("CAR-T center").select_option(label=world.center.name)
        page.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
        page.get_by_label("ECOG performance status").select_option(value="1")
        page.get_by_role("button", name="Submit to center").click()
        expect(page.get_by_role("heading", name="Referral", exact=False).first).to_be_visible()
        documentation = page.locator("section", has=page.get_by_role("heading", name="Documentation"))
        expect(
            documentation.get_by_text("The center still needs: Pathology report, Imaging report, Recent lab results.")
        ).to_be_visible()
        expect(
            documentation.get_by_text("On file: 1 line of therapy recorded in the treatment history.")
        ).to_be_visible()

        page.get_by_label("Checklist item").select_option(label="Pathology report")
        page.get_by_label("File").set_input_files(str(marrow))
        page.get_by_role("button", name="Upload").click()
        expect(documentation.get_by_role("link", name="marrow.pdf")).to_be_visible()
        expect(documentation.get_by_text("The center still needs: Imaging report, Recent lab results.")).to_be_visible()
        page.close()
    assert Referral.objects.get(patient=patient).state == State.SUBMITTED
