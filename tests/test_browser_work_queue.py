"""The dashboard's work queue in a real browser: it arrives after the page in its place, its
buttons take no click for a moment after they appear (a click meant for what they pushed down
acknowledges nothing), and when it cannot be loaded the dashboard says so, with the link to
the same lists on a page of their own."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Route, expect

from handoffs.services import handoff_ask
from tests.browser import sign_in
from tests.factories import patient_at
from tests.helpers import World, grade_2_event, sent_handoff

pytestmark = pytest.mark.browser

JUST_ARRIVED_STYLE = """button => {
    const animation = button.getAnimations().find(a => a.animationName === "just-arrived");
    if (!animation) return null;
    animation.pause();
    animation.currentTime = 100;  // a tenth of a second after it appeared
    const during = getComputedStyle(button).pointerEvents;
    animation.finish();
    return [during, getComputedStyle(button).pointerEvents];
}"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_queue_arrives_in_place_and_its_buttons_wait_a_moment_before_taking_a_click(
    live_server: object, world: World, browser: Browser
) -> None:
    grade_2_event(world)  # the practice's point persons are alerted
    page = browser.new_page()
    sign_in(page, str(live_server), world.community_oncologist.email)  # waits for the queue
    alerts = page.locator("section", has=page.get_by_role("heading", name="Alerts to acknowledge"))
    acknowledge = alerts.get_by_role("button", name="Acknowledge").first
    expect(acknowledge).to_be_visible()
    assert acknowledge.evaluate(JUST_ARRIVED_STYLE) == ["none", "auto"]
    expect(page.get_by_text("load here")).to_have_count(0)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_queue_that_cannot_be_loaded_is_said_with_the_link_to_its_own_page(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)

    def refuse(route: Route) -> None:
        route.fulfill(status=503, body="Service unavailable")

    page.route(f"{base_url}{reverse('my-work')}", refuse)
    page.goto(base_url + reverse("dashboard"))
    failed = page.get_by_role("alert").filter(has_text="Your work lists could not be loaded.")
    expect(failed).to_be_visible()
    expect(page.locator("#work-queue")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_text("load here")).to_be_hidden()
    page.unroute(f"{base_url}{reverse('my-work')}")
    failed.get_by_role("link", name="Open them on a page of their own").click()
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Referrals waiting on my site")).to_be_visible()
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_capped_hand_off_list_says_when_each_question_was_asked_and_links_to_all_of_them(
    live_server: object, world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("workspace.work_queue.WORK_QUEUE_LIMIT", 1)
    for name in ("Firstasked", "Secondasked"):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center, family_name=name)
        handoff_ask(actor=world.community_oncologist, handoff=sent_handoff(world, patient), body="Which dose?")
    page = browser.new_page()
    sign_in(page, str(live_server), world.center_coordinator.email)  # waits for the queue
    handoffs = page.locator("section", has=page.get_by_role("heading", name="Hand-offs waiting on my site"))
    expect(handoffs).to_contain_text("Firstasked")
    expect(handoffs).not_to_contain_text("Secondasked")
    expect(handoffs).to_contain_text(re.compile(r"a question to answer, asked \w{3} \d{1,2} \w{3}, \d{2}:\d{2} C[SD]T"))
    handoffs.get_by_role("link", name="all hand-offs waiting on my sites").click()
    expect(page).to_have_url(re.compile(r"/handoffs/\?needs_action=on$"))
    expect(page.get_by_label("Needs my action")).to_be_checked()
    expect(page.locator("#results")).to_contain_text("Secondasked")
    page.close()
