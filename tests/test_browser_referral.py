"""The referral round trip in a real browser: practice submits with a document, center
acknowledges and schedules the consult, the community oncologist reads both on the timeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Browser, expect

from referrals.models import Referral, ReferralDocument
from referrals.workflow import State
from tests.browser import sign_in
from tests.factories import patient_at
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_referral_travels_from_practice_to_center_and_shows_on_the_shared_timeline(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    patient = patient_at(world.practice, world.community_coordinator, given_name="Rene", family_name="Roundtrip")
    pathology = tmp_path / "pathology.pdf"
    pathology.write_bytes(b"%PDF-1.7\n% synthetic pathology report\n")
    consult_on = dt.date.today() + dt.timedelta(days=9)  # noqa: DTZ011 - the browser's date field, local

    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        practice = browser.new_page()
        sign_in(practice, base_url, world.community_coordinator.email)
        practice.goto(base_url + reverse("referral-create") + f"?patient={patient.pk}")
        practice.get_by_label("CAR-T center").select_option(label=world.center.name)
        practice.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
        practice.get_by_label("Prior lines of therapy").fill("2")
        practice.get_by_label("ECOG performance status").select_option(value="1")
        practice.get_by_label("Reason for referral").fill("Refractory after two lines; CAR-T candidate.")
        practice.get_by_label("Pathology").set_input_files(str(pathology))
        practice.get_by_role("button", name="Submit to center").click()
        expect(practice.get_by_role("heading", name="Referral", exact=False).first).to_be_visible()
        referral = Referral.objects.get(patient=patient)
        assert referral.state == State.SUBMITTED
        assert ReferralDocument.objects.filter(referral=referral, kind="pathology").exists()
        practice.close()

        center = browser.new_page()
        sign_in(center, base_url, world.center_coordinator.email)
        center.goto(base_url + reverse("referral-detail", kwargs={"referral_id": referral.pk}))
        expect(center.get_by_role("link", name="pathology.pdf")).to_be_visible()
        center.get_by_role("button", name="Acknowledge receipt").click()
        expect(center.get_by_role("button", name="Schedule consult")).to_be_visible()
        center.get_by_label("Consult date").fill(consult_on.isoformat())
        center.get_by_role("button", name="Schedule consult").click()
        expect(center.get_by_text("Consult scheduled").first).to_be_visible()
        center.close()

    referral.refresh_from_db()
    assert referral.state == State.CONSULT_SCHEDULED

    oncologist = browser.new_page()
    sign_in(oncologist, base_url, world.community_oncologist.email)
    oncologist.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": patient.pk}))
    events = oncologist.locator("#events")
    expect(events.get_by_text("Referral received by the center")).to_be_visible()
    expect(events.get_by_text(f"Referral consult scheduled for {consult_on:%d %b %Y}")).to_be_visible()
    oncologist.close()
