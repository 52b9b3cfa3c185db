"""A patient's death, in a real browser: the practice coordinator records it from the patient
page; the page, the list and the timeline say it, the planned steps are cancelled and the
center's point persons are emailed; the center withdraws it as recorded in error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from carecoord.models import OutgoingEmail, PatientDeath
from referrals.milestones.services import milestone_set_infusion
from referrals.models import Milestone
from tests.browser import sign_in
from tests.helpers import World, accepted_referral, name_point_persons

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_practice_records_a_death_and_the_center_withdraws_it_as_an_error(
    live_server: object, world: World, browser: Browser, tmp_path: Path
) -> None:
    base_url = str(live_server)
    referral = accepted_referral(world)
    today = world.practice.today()
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=today + dt.timedelta(days=5))
    name_point_persons(world)
    planned = Milestone.objects.filter(referral=referral, status="planned").count()
    assert planned > 5
    patient_url = reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})

    page = browser.new_page()
    sign_in(page, base_url, world.community_coordinator.email)
    page.goto(base_url + patient_url)
    page.get_by_role("link", name="Record the patient's death").click()
    page.get_by_label("Date of death").fill((today + dt.timedelta(days=3)).isoformat())
    page.get_by_label("Primary cause of death").select_option(label="Infection")
    page.get_by_label("Detail").fill("Pneumonia")
    page.get_by_role("button", name="Record the death").click()
    expect(page.get_by_text("This cannot be in the future.").first).to_be_visible()
    page.get_by_label("Date of death").fill(today.isoformat())
    page.get_by_role("button", name="Record the death").click()
    died = page.locator("#patient-died")
    expect(died).to_contain_text(f"Died on {today:%a %-d %b %Y}")
    expect(died).to_contain_text("Infection")
    page.screenshot(path=str(tmp_path / "patient-died.png"), full_page=True)
    page.goto(base_url + reverse("dashboard"))
    expect(page.get_by_text(f"Died {today:%-d %b %Y}")).to_be_visible()
    page.close()

    assert PatientDeath.objects.get().cause == "infection"
    assert not Milestone.objects.filter(referral=referral, status="planned").exists()
    told = set(OutgoingEmail.objects.filter(template="patient-death").values_list("to_address", flat=True))
    assert told == {"nurse@lakeside.test", world.center_coordinator.email, world.community_oncologist.email}

    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    expect(page.get_by_text(f"Died on {today:%d %b %Y}").first).to_be_visible()
    page.goto(base_url + reverse("patient-death", kwargs={"patient_id": world.shared_patient.pk}))
    page.get_by_label("Why it was recorded in error").fill("Recorded on the wrong patient")
    page.get_by_role("button", name="Withdraw the record").click()
    expect(page.get_by_text("the steps the death cancelled are planned again")).to_be_visible()
    expect(page.locator("#patient-died")).to_have_count(0)
    page.close()

    assert not PatientDeath.objects.exists()
    assert Milestone.objects.filter(referral=referral, status="planned").count() == planned
