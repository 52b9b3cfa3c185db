"""In a real browser: a new person enrolls a second factor before seeing any patient, and
the pages work under the Content Security Policy (no inline code blocked, htmx included)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, expect

from tests.browser import policy_violations, sign_in
from tests.factories import PASSWORD
from tests.helpers import World

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_first_sign_in_enrolls_an_authenticator_before_any_patient_is_shown(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    page = browser.new_page()
    page.goto(base_url + reverse("login"))
    page.get_by_label("Email address").fill(world.community_oncologist.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(re.escape(base_url + reverse("two-factor-setup"))))
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    expect(page.get_by_text("Sharedcare")).to_have_count(0)
    # Typing a patient page's address leads back to enrollment.
    page.goto(base_url + reverse("patient-timeline", args=[world.shared_patient.pk]))
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()

    # The authenticator app: the secret shown on the page gives the same codes as the device.
    device = TOTPDevice.objects.get(user=world.community_oncologist, confirmed=False)
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    page.get_by_label("Code from your app").fill(f"{generator.token():06d}")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them, continue").click()
    page.goto(base_url + reverse("patient-timeline", args=[world.shared_patient.pk]))
    expect(page.get_by_text("Sharedcare").first).to_be_visible()
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pages_run_under_the_content_security_policy(live_server: object, world: World, browser: Browser) -> None:
    base_url = str(live_server)
    page = browser.new_page()
    violations = policy_violations(page)
    sign_in(page, base_url, world.center_coordinator.email)
    patient = world.shared_patient.pk
    for url in [
        reverse("dashboard"),
        reverse("patient-timeline", args=[patient]),
        reverse("toxicity-record", args=[patient]),
        reverse("account-security"),
        reverse("api:docs"),
    ]:
        page.goto(base_url + url)
        page.wait_for_load_state("networkidle")

    # htmx still works under the policy: the grade preview on the record page updates in place.
    page.goto(base_url + reverse("toxicity-record", args=[patient]))
    page.get_by_label("Kind of toxicity").select_option("crs")
    page.get_by_label("Highest temperature (°C)").fill("39.2")
    expect(page.locator("#grade-preview")).to_contain_text("Grade 1")
    page.goto(base_url + reverse("api:docs"))
    expect(page.locator(".swagger-ui").first).to_be_visible()
    assert violations == []
    page.close()
