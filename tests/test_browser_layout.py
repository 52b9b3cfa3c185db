"""Pages measured in a real browser at a laptop's and a phone's width: nothing makes the whole
page scroll sideways, the dashboard's patient table fits its box at every width, the API
tokens table keeps its Revoke button on a phone's screen, an MRN is never broken inside, and
the header on a phone takes a few lines, its menu folded, the count of alerts waiting in view."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from carecoord.accounts.api_tokens import api_token_create
from carecoord.models import PatientIdentifier, Site
from tests.browser import menu_texts, sign_in, staff_signed_in
from tests.factories import PASSWORD, authenticator
from tests.helpers import World, grade_2_event, infused, staff_with_alerts_waiting

pytestmark = pytest.mark.browser

PAGE_WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"


def long_names_and_mrns(world: World) -> None:
    """The sites named and the shared patient numbered as real ones are: long names, MRNs with a
    hyphen a browser may break at."""
    Site.objects.filter(pk=world.center.pk).update(name="Great Lakes University CAR-T Center")
    Site.objects.filter(pk=world.practice.pk).update(name="Prairie View Oncology Associates")
    PatientIdentifier.objects.filter(patient=world.shared_patient, site=world.practice).update(mrn="PVO-10025")
    PatientIdentifier.objects.create(patient=world.shared_patient, site=world.center, mrn="GLU-50025")


def assert_no_sideways_page_scroll(page: Page, width: int) -> None:
    page_width, window = page.evaluate(PAGE_WIDTH)
    assert page_width <= window, (width, page_width, window)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("who", ["center_coordinator", "community_coordinator"])
def test_dashboard_patient_table_fits_its_box_at_every_width_and_never_widens_the_page(
    live_server: object, world: World, browser: Browser, who: str
) -> None:
    long_names_and_mrns(world)
    # Every column filled: a phase with its day, the next step with its date, an open alert.
    infused(world, timezone.localdate() - dt.timedelta(days=9))
    grade_2_event(world)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, str(live_server), getattr(world, who).email)
    box = page.locator(".table-scroll", has=page.locator("table.patients"))
    header = box.locator("thead th", has_text="Point persons")
    # At a laptop's width every column is in view without scrolling the table's box.
    inner, outer = box.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert inner <= outer, (inner, outer)
    shown, inside = header.bounding_box(), box.bounding_box()
    assert shown is not None and inside is not None
    assert shown["x"] + shown["width"] <= inside["x"] + inside["width"] + 0.5, (shown, inside)
    assert_no_sideways_page_scroll(page, 1366)
    # From a tablet's width to a small laptop's each patient takes two lines (the open alerts
    # and point persons under the rest); on a phone each patient is a card. Neither the box
    # nor the page scrolls sideways.
    for width in (1024, 900, 768, 641, 640, 390):
        page.set_viewport_size({"width": width, "height": 900})
        inner, outer = box.evaluate("box => [box.scrollWidth, box.clientWidth]")
        assert inner <= outer, (width, inner, outer)
        assert_no_sideways_page_scroll(page, width)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_tokens_table_keeps_revoke_on_a_phones_screen(live_server: object, world: World, browser: Browser) -> None:
    api_token_create(user=world.community_coordinator, name="Registry export script for the tumour board")
    page = browser.new_page(viewport={"width": 390, "height": 900})
    sign_in(page, str(live_server), world.community_coordinator.email)
    page.goto(str(live_server) + reverse("account-security"))
    revoke = page.get_by_role("button", name="Revoke token Registry export script for the tumour board")
    revoke.scroll_into_view_if_needed()
    shown = revoke.bounding_box()
    assert shown is not None
    assert shown["x"] >= 0 and shown["x"] + shown["width"] <= 390, shown
    assert_no_sideways_page_scroll(page, 390)
    page.close()


# How many lines the text of `element` takes, and whether its right edge is inside `card`'s
# padding box.
LINES_AND_EDGE = """([element, card]) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
  const style = getComputedStyle(card);
  const edge = card.getBoundingClientRect().right - parseFloat(style.borderRightWidth);
  return [lines, range.getBoundingClientRect().right, edge];
}"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_patient_page_shows_each_mrn_on_one_line_inside_the_identifiers_card(
    live_server: object, world: World, browser: Browser
) -> None:
    long_names_and_mrns(world)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, str(live_server), world.community_coordinator.email)
    page.goto(str(live_server) + reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk}))
    card = page.locator("section", has=page.locator("#identifiers-heading"))
    for width in (1366, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for mrn in ("GLU-50025", "PVO-10025"):
            value = card.locator("dd", has_text=mrn)
            lines, right, edge = page.evaluate(LINES_AND_EDGE, [value.element_handle(), card.element_handle()])
            assert lines == 1 and right <= edge + 0.5, (width, mrn, lines, right, edge)
        assert_no_sideways_page_scroll(page, width)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_on_a_phone_is_short_shows_the_alerts_waiting_and_opens_the_menu_on_request(
    live_server: object, world: World, browser: Browser
) -> None:
    page, waiting = staff_signed_in(browser, str(live_server), world, 390, 844)
    header = page.locator(".site-header")
    shown = header.bounding_box()
    assert shown is not None and shown["height"] <= 0.25 * 844, shown
    # The count of alerts waiting, a safety net, is in view without opening anything; so is who
    # is signed in, with their role.
    alerts = header.locator(".header-alerts")
    expect(alerts).to_be_visible()
    expect(alerts).to_have_text(f"Alerts {waiting}")
    expect(alerts).to_have_attribute("href", reverse("alert-list"))
    expect(header.locator(".header-who")).to_be_visible()
    expect(header.locator(".header-who")).to_have_text("Signed in as Olive Oncologist Physician at Riverbend Oncology")
    # The rest waits behind "Menu"; opened, every link of the menu is there, one a line, and the
    # page still does not scroll sideways.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    expect(header.get_by_role("button", name="Log out")).to_be_hidden()
    header.locator("summary", has_text="Menu").click()
    links = nav.locator("a")
    expect(links).to_have_text(menu_texts(waiting))
    for link in links.all():
        expect(link).to_be_in_viewport()
    lefts = {round(box["x"]) for box in (link.bounding_box() for link in links.all()) if box}
    assert len(lefts) == 1, lefts
    expect(header.get_by_role("link", name="Account")).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    assert_no_sideways_page_scroll(page, 390)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_on_a_laptop_shows_every_link_in_one_row_and_no_menu_button(
    live_server: object, world: World, browser: Browser
) -> None:
    page, waiting = staff_signed_in(browser, str(live_server), world, 1280, 800)
    header = page.locator(".site-header")
    links = page.get_by_role("navigation", name="Main").locator("a")
    expect(links).to_have_text(menu_texts(waiting))
    tops = set()
    for link in links.all():
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None
        tops.add(round(box["y"]))
    assert len(tops) == 1, tops
    # Nothing of the phone's header: no button, the count of alerts waiting once (in the menu).
    expect(header.locator("summary")).to_be_hidden()
    expect(header.locator(".header-alerts")).to_be_hidden()
    expect(header.locator(".header-who")).to_be_hidden()
    expect(header.locator(".badge:visible")).to_have_count(1)
    expect(header.locator(".account__who")).to_be_visible()
    expect(header.get_by_role("link", name="Account")).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_menu_on_a_phone_opens_without_javascript(live_server: object, world: World, browser: Browser) -> None:
    user, waiting = staff_with_alerts_waiting(world)
    signing_in = browser.new_page()
    sign_in(signing_in, str(live_server), user.email)
    session = signing_in.context.storage_state()
    signing_in.close()
    context = browser.new_context(
        storage_state=session, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(str(live_server) + reverse("alert-list"))
    expect(page.locator(".header-alerts")).to_have_text(f"Alerts {waiting}")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.locator(".site-menu > summary").focus()
    page.keyboard.press("Enter")
    expect(nav.locator("a")).to_have_text(menu_texts(waiting))
    page.keyboard.press("Enter")
    expect(nav).to_be_hidden()
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_before_the_second_factor_on_a_phone_has_log_out_and_no_menu(
    live_server: object, world: World, browser: Browser
) -> None:
    user = world.community_oncologist
    authenticator(user)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(str(live_server) + reverse("login"))
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    header = page.locator(".site-header")
    expect(header.locator("summary")).to_have_count(0)
    expect(header.get_by_role("button", name="Log out")).to_be_in_viewport()
    expect(header.locator(".header-who")).to_have_text("Signed in as Olive Oncologist")
    shown = header.bounding_box()
    assert shown is not None and shown["height"] <= 0.25 * 844, shown
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_headers_count_of_alerts_looks_the_same_on_the_timeline_as_elsewhere(
    live_server: object, world: World, browser: Browser
) -> None:
    """The timeline's stylesheet has a `.badge` of its own (square, capitalised labels): the
    header's round count took its shape there."""
    page, _waiting = staff_signed_in(browser, str(live_server), world, 1280, 800)
    shape = "badge => { const s = getComputedStyle(badge); return [s.borderRadius, s.textTransform, s.fontSize]; }"
    badge = page.locator(".site-header .badge:visible")
    on_the_dashboard = badge.evaluate(shape)
    page.goto(str(live_server) + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    assert badge.evaluate(shape) == on_the_dashboard
    page.close()
