"""One journey with the keyboard alone, in a real browser: sign in with both factors, open a
patient from the dashboard, go to the shared timeline and post a message; and on a phone, the
header's menu opened, walked and closed. Every element the Tab key reaches shows where the
focus is."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from carecoord.models import TimelineEntry
from tests.browser import FOCUSED, MENU_LINKS, sign_in, staff_signed_in, tab_to, work_queue_arrived
from tests.factories import PASSWORD, authenticator, current_code
from tests.helpers import World, small_record

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sign_in_find_a_patient_and_post_a_message_with_the_keyboard_alone(
    live_server: object, world: World, browser: Browser, tmp_media: object
) -> None:
    base_url = str(live_server)
    patient = small_record(world).patient
    user = world.center_coordinator
    authenticator(user)
    page = browser.new_page()
    page.goto(base_url + reverse("login"))

    # The email address has the focus already; back before it is the skip link, shown while
    # focused, which takes the focus to the content.
    expect(page.get_by_label("Email address")).to_be_focused()
    tab_to(page, re.compile("^Skip to main content$"), key="Shift+Tab", limit=3)
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    tab_to(page, re.compile("^Email address"))
    page.keyboard.type(user.email)
    tab_to(page, re.compile("^Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(reverse("two-factor-verify"))))
    tab_to(page, re.compile("^Code"))
    page.keyboard.type(current_code(user))
    page.keyboard.press("Enter")
    page.wait_for_url(base_url + reverse("dashboard"))
    work_queue_arrived(page)

    # The work queue's alert names the patient and leads to the timeline.
    tab_to(page, re.compile(f"^{patient.family_name}, {patient.given_name}$"))
    page.keyboard.press("Enter")
    page.wait_for_url(base_url + reverse("patient-timeline", kwargs={"patient_id": patient.pk}))

    # Past the milestones to the message box; the button after it, then back with Shift+Tab.
    tab_to(page, re.compile("^Message"))
    page.keyboard.type("Labs from today are in: ANC 1.2.")
    tab_to(page, re.compile("^Post to the timeline$"))
    tab_to(page, re.compile("^Message"), key="Shift+Tab", limit=5)
    page.keyboard.type(" Fever gone.")
    tab_to(page, re.compile("^Post to the timeline$"))
    page.keyboard.press("Space")

    # The section is swapped in place; the focus stays there, on the confirmation.
    expect(page.get_by_role("status").filter(has_text="Your comment is on the timeline.")).to_be_focused()
    expect(page.locator("#thread")).to_contain_text("Labs from today are in: ANC 1.2. Fever gone.")
    assert TimelineEntry.objects.filter(
        patient=patient, kind=TimelineEntry.Kind.COMMENT, body="Labs from today are in: ANC 1.2. Fever gone."
    ).exists()
    tab_to(page, re.compile("^Message"), limit=5)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_focus_ring_check_fails_where_focus_is_hidden(live_server: object, world: World, browser: Browser) -> None:
    """The walk above would catch a control whose focus cannot be seen."""
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    # Through the CSSOM: the Content Security Policy refuses a style element added to the page.
    page.evaluate(
        """() => document.querySelectorAll(".site-nav a").forEach(link => {
             link.style.setProperty("outline", "none", "important");
             link.style.setProperty("box-shadow", "none", "important");
           })"""
    )
    with pytest.raises(AssertionError, match="focus is not visible"):
        tab_to(page, re.compile("^Referrals$"))
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_menu_on_a_phone_opens_walks_and_closes_with_the_keyboard(
    live_server: object, world: World, browser: Browser
) -> None:
    page, waiting = staff_signed_in(browser, str(live_server), world, 390, 844)
    menu = page.locator(".site-menu")
    toggle = menu.locator("summary")
    # From the top of the page: the brand, the alerts waiting (in view, no menu to open), then "Menu".
    page.locator(".skip-link").focus()
    tab_to(page, re.compile("^carecoord$"), limit=1)
    tab_to(page, re.compile(rf"^Alerts\s+{waiting}$"), limit=1)
    tab_to(page, re.compile("^Menu$"), limit=1)
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    # Every link of the menu, then the account's, each with its focus shown.
    reached = []
    for _ in range(len(MENU_LINKS) + 2):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused is not None and focused["visible"] and focused["onScreen"], focused
        reached.append(re.sub(r"\s+\d+$", "", focused["name"]))
    assert reached == [*MENU_LINKS, "Account", "Log out"]
    # Escape folds the menu from wherever the focus is in it, and the focus goes back to "Menu";
    # Space opens it again.
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(toggle).to_be_focused()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.keyboard.press("Space")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail")).to_be_visible()
    page.close()
