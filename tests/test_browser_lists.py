"""The referral and alert lists in a real browser: typed words update the results in place and
never reach the address; a filter does, so the back button and a bookmark find the list again;
an alert is acknowledged from the filtered list and the list comes back filtered; the filtered
list is exported from its link."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from carecoord.models import CareTeamLink
from carecoord.services.care_teams import care_team_end_site
from referrals.workflow import Move
from tests.browser import sign_in
from tests.factories import patient_at
from tests.helpers import World, advance, draft_referral, grade_2_event
from toxicity.models import Alert

pytestmark = pytest.mark.browser


def referral_list_of_two(world: World, browser: Browser, base_url: str) -> Page:
    """The practice coordinator's referral list: Sharedcare's referral submitted, Lovelace's a draft."""
    advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
    lovelace = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, given_name="Ada", family_name="Lovelace"
    )
    draft_referral(world, lovelace)
    page = browser.new_page()
    sign_in(page, base_url, world.community_coordinator.email)
    page.goto(base_url + reverse("referral-list"))
    return page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_referral_list_finds_by_name_in_place_and_keeps_only_the_filters_in_the_address(
    live_server: object, world: World, browser: Browser
) -> None:
    page = referral_list_of_two(world, browser, str(live_server))
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Sharedcare, Sharon")).to_be_visible()
    page.get_by_label("Find a patient").fill("lovel")
    expect(results.get_by_role("link", name="Sharedcare, Sharon")).to_have_count(0)
    expect(results.get_by_role("link", name="Lovelace, Ada")).to_be_visible()
    assert "lovel" not in page.url.lower()
    page.get_by_label("Find a patient").fill("")
    page.get_by_label("State").select_option(label="Submitted")
    expect(page).to_have_url(re.compile(r"\?state=submitted$"))
    expect(results.get_by_role("link", name="Lovelace, Ada")).to_have_count(0)
    expect(results.get_by_role("link", name="Sharedcare, Sharon")).to_be_visible()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_alert_is_acknowledged_from_the_filtered_list(live_server: object, world: World, browser: Browser) -> None:
    base_url = str(live_server)
    grade_2_event(world)  # recorded at the center: the practice's point persons are alerted
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("alert-list"))
    page.get_by_label("Kind").select_option(value="crs")
    expect(page).to_have_url(re.compile(r"\?kind=crs$"))
    page.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?kind=crs$"))
    expect(page.get_by_label("Kind")).to_have_value("crs")
    assert not Alert.objects.filter(recipient=world.community_oncologist, acknowledged_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stale_acknowledge_button_says_the_alert_is_no_longer_available_and_leads_back(
    live_server: object, world: World, browser: Browser
) -> None:
    """The practice leaves the patient's care team while its oncologist's alerts page is open:
    the button answers a page saying so, naming nothing of the patient, with a way back."""
    base_url = str(live_server)
    grade_2_event(world)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("alert-list"))
    button = page.get_by_role("button", name=re.compile("^Acknowledge"))
    expect(button).to_be_visible()
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    care_team_end_site(actor=world.community_coordinator, link=link)
    button.click()
    expect(page.get_by_role("heading", name="This alert is no longer available to you")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(world.shared_patient.family_name)
    page.get_by_role("link", name="Back to my alerts").click()
    expect(page.get_by_role("heading", name="My alerts")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(world.shared_patient.family_name)
    assert not Alert.objects.filter(acknowledged_by=world.community_oncologist).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_filtered_referral_list_is_exported_from_its_link_by_keyboard(
    live_server: object, world: World, browser: Browser
) -> None:
    """The Export link follows the filters changed in place; taken with the keyboard, it gives a
    file a spreadsheet opens: a byte-order mark, the list's header, the filtered rows."""
    page = referral_list_of_two(world, browser, str(live_server))
    page.get_by_label("State").select_option(label="Submitted")
    expect(page).to_have_url(re.compile(r"\?state=submitted$"))
    link = page.get_by_role("link", name="Export CSV of these referrals")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", reverse("referral-export") + "?state=submitted")
    link.focus()
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert re.fullmatch(r"carecoord-referrals-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Referral", "Patient", "State"]
    assert "Submitted (America/Chicago)" in rows[0]
    assert [row[1:3] for row in rows[1:]] == [["Sharedcare, Sharon", "Submitted"]]
