"""A draft corrected in a real browser: the practice saves a draft, edits it (an error named on
its field first), submits it, and finds it on the patient's page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from carecoord.models import OutgoingEmail
from referrals.models import Referral
from referrals.workflow import State
from tests.browser import sign_in
from tests.factories import patient_at
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_practice_edits_its_draft_then_submits_it(live_server: object, world: World, browser: Browser) -> None:
    base_url = str(live_server)
    patient = patient_at(world.practice, world.community_coordinator, given_name="Dora", family_name="Draftwell")
    page = browser.new_page()
    sign_in(page, base_url, world.community_coordinator.email)
    page.goto(base_url + reverse("referral-create") + f"?patient={patient.pk}")
    page.get_by_label("CAR-T center").select_option(label=world.center.name)
    page.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
    page.get_by_label("Prior lines of therapy").fill("1")
    page.get_by_label("ECOG performance status").select_option(value="1")
    page.get_by_label("Reason for referral").fill("Relapse after first line.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("saved as a draft")).to_be_visible()
    expect(page.get_by_text("Prior therapies summary").first).to_be_visible()
    referral = Referral.objects.get(patient=patient)

    page.get_by_role("link", name="Edit draft").click()
    expect(page.get_by_label("Reason for referral")).to_have_value("Relapse after first line.")
    page.get_by_label("Reason for referral").fill("")
    page.get_by_role("button", name="Save draft").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name="Reason for referral: This field is required.")).to_be_visible()
    page.get_by_label("Prior lines of therapy").fill("2")
    page.get_by_label("Urgency").select_option(value="urgent")
    page.get_by_label("Reason for referral").fill("Primary refractory after two lines; CAR-T candidate.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text(f"Draft referral #{referral.pk} saved")).to_be_visible()
    expect(page.get_by_text("Primary refractory after two lines; CAR-T candidate.")).to_be_visible()
    expect(page.get_by_text("Urgent (within a week)")).to_be_visible()

    page.get_by_role("button", name="Submit to center").click()
    expect(page.get_by_text(f"Referral #{referral.pk} is now submitted.")).to_be_visible()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)

    page.goto(base_url + reverse("patient-detail", kwargs={"patient_id": patient.pk}))
    referrals = page.locator("#referrals")
    referrals.get_by_role("link", name=f"Referral #{referral.pk}").click()
    expect(page.get_by_role("heading", name=f"Referral #{referral.pk}")).to_be_visible()
    page.close()

    referral.refresh_from_db()
    assert (referral.state, referral.urgency, referral.prior_lines_of_therapy) == (State.SUBMITTED, "urgent", 2)
    assert OutgoingEmail.objects.filter(template="referral-submitted", recipient=world.center_coordinator).exists()
