"""Calendar feeds in a real browser: a point person makes a feed on the account page, a
calendar app (a browser context without the session) reads the address shown, and it stops
when revoked; the timeline's link downloads the patient's milestones as an `.ics` file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from calendars.ics import milestone_uid
from carecoord.models import PatientIdentifier
from referrals.models import Milestone
from tests.browser import policy_violations, sign_in
from tests.helpers import World, infused, name_point_persons

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_make_a_feed_read_it_without_signing_in_revoke_it_and_download_a_patients_calendar(
    live_server: object, world: World, browser: Browser, settings: Any, tmp_path: Path
) -> None:
    base_url = str(live_server)
    settings.SITE_URL = base_url  # the address the account page shows is this server's
    name_point_persons(world)  # the community oncologist is the practice's primary
    referral = infused(world, timezone.localdate(timezone=world.center.zone) + dt.timedelta(days=10))
    dated = {milestone_uid(pk) for pk in Milestone.objects.filter(referral=referral).values_list("pk", flat=True)}
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn

    page = browser.new_page()
    problems = policy_violations(page)
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("account-security"))
    page.get_by_label("Feed name").fill("Work phone")
    page.get_by_role("button", name="Make a calendar feed").click()
    shown = page.locator("#new-feed-url")
    expect(shown).to_be_visible()
    url = shown.inner_text().strip()
    assert url.startswith(base_url + "/calendar/feeds/cal_")

    # A calendar app: no cookies, no session.
    calendar_app = browser.new_context()
    response = calendar_app.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
    assert {str(event["UID"]) for event in events} == dated
    assert all(str(event["SUMMARY"]).endswith(f" · MRN {mrn}") for event in events)

    # Shown once: not after a reload. Revoked: the address answers 404 at once.
    page.reload()
    expect(page.locator("#new-feed-url")).to_have_count(0)
    page.get_by_role("button", name="Revoke calendar feed Work phone").click()
    expect(page.get_by_text("Calendar feed “Work phone” revoked.")).to_be_visible()
    assert calendar_app.request.get(url).status == 404
    calendar_app.close()

    # The timeline offers the patient's milestones as a file for any calendar.
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Milestones to my calendar (.ics)").click()
    download = download_info.value
    assert download.suggested_filename == "carecoord-milestones.ics"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    downloaded = icalendar.Calendar.from_ical(saved.read_bytes()).walk("VEVENT")
    assert {str(event["UID"]) for event in downloaded} == dated
    assert world.shared_patient.family_name not in saved.read_text()
    assert not problems, problems
    page.close()
