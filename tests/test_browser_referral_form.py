"""The referral form in a real browser: a failed round moves the focus to the error summary
and keeps the chosen file, and the corrected form saves the referral with that document."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Browser, expect

from referrals.models import PendingUpload, Referral
from tests.browser import policy_violations, sign_in
from tests.factories import patient_at
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_round_focuses_the_summary_keeps_the_file_and_the_fixed_form_saves_it(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    patient = patient_at(world.practice, world.community_coordinator, given_name="Fay", family_name="Formround")
    pathology = tmp_path / "pathology-report.pdf"
    pathology.write_bytes(b"%PDF-1.7\n% synthetic pathology report\n")

    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        page = browser.new_page()
        violations = policy_violations(page)
        sign_in(page, base_url, world.community_coordinator.email)
        page.goto(base_url + reverse("referral-create") + f"?patient={patient.pk}")
        expect(page.locator(".form-legend")).to_have_text("* required")
        page.get_by_label("CAR-T center").select_option(label=world.center.name)
        page.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
        page.get_by_label("Prior lines of therapy").fill("2")
        page.get_by_label("ECOG performance status").select_option(value="1")
        # The reason is left empty; a file is chosen.
        page.get_by_label("Pathology").set_input_files(str(pathology))
        page.get_by_role("button", name="Save draft").click()

        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
        expect(summary.get_by_role("link", name="Reason for referral: This field is required.")).to_be_visible()
        expect(page.get_by_text("Attached: pathology-report.pdf")).to_be_visible()
        assert PendingUpload.objects.filter(owner=world.community_coordinator).count() == 1

        # The summary's link takes the reader to the field; the file needs no second choosing.
        summary.get_by_role("link", name="Reason for referral: This field is required.").click()
        reason = page.get_by_label("Reason for referral")
        expect(reason).to_be_focused()
        reason.fill("Refractory after two lines; CAR-T candidate.")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("link", name="pathology-report.pdf")).to_be_visible()
        page.close()

    referral = Referral.objects.get(patient=patient)
    (document,) = referral.documents.all()
    assert (document.kind, document.original_name) == ("pathology", "pathology-report.pdf")
    assert not PendingUpload.objects.exists()
    assert violations == []
