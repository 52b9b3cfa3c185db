"""The shared timeline in a real browser: every milestone loads in place when asked, a
milestone's form loads when opened and goes through, its errors come back next to the field,
and earlier events load in place; the header shows the active toxicity, entries link to their
pages, and a long word does not widen the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from carecoord.models import TimelineEntry
from carecoord.services.comments import COMMENT_MAX_LENGTH, comment_post
from carecoord.timeline import timeline_record
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.browser import policy_violations, sign_in
from tests.helpers import World, grade_2_event, infused

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_open_a_milestone_form_submit_it_and_show_earlier_events(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    today = timezone.localdate(timezone=world.center.zone)
    referral = infused(world, today + dt.timedelta(days=10))
    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    assert visit.planned_on is not None
    moved_to = visit.planned_on + dt.timedelta(days=3)
    for days_ago, title in ((75, "Labs faxed to the center"), (40, "Insurance called back")):
        timeline_record(
            patient=world.shared_patient,
            kind=TimelineEntry.Kind.COMMENT,
            title=title,
            occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        )

    page = browser.new_page()
    problems = policy_violations(page)  # htmx swaps under the policy: nothing refused
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))

    # The visit, 40 days ahead, waits behind "Show all milestones", which loads every one in place.
    row = page.locator(f"#milestone-{visit.pk}")
    expect(row).to_have_count(0)
    page.get_by_role("link", name="Show all milestones").click()
    expect(page.get_by_role("heading", name="Milestones")).to_be_focused()
    expect(page.get_by_role("link", name="Show all milestones")).to_have_count(0)
    # No milestone form on the page until one is opened.
    expect(page.locator("#milestones form")).to_have_count(0)
    row.get_by_text("Update").click()
    row.get_by_role("link", name="Move…").click()
    new_date = row.get_by_label("New date")
    expect(new_date).to_be_focused()
    expect(new_date).to_have_value(visit.planned_on.isoformat())

    # Without a reason the move is refused, and the error is next to the field, the form open.
    new_date.fill(moved_to.isoformat())
    row.get_by_label("Reason for the move").fill(" ")
    row.get_by_role("button", name="Move", exact=True).click()
    row = page.locator(f"#milestone-{visit.pk}")
    expect(row.get_by_text("Say why the date moves.", exact=True)).to_be_visible()
    expect(row.get_by_label("Reason for the move")).to_have_attribute("aria-invalid", "true")

    row.get_by_label("New date").fill(moved_to.isoformat())
    row.get_by_label("Reason for the move").fill("The patient asked for a later visit")
    row.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text(f"Follow-up visit, day 30: moved to {moved_to.day} {moved_to:%b %Y}.")).to_be_visible()
    expect(page.locator(f"#milestone-{visit.pk}")).to_contain_text(f"{moved_to:%a} {moved_to.day} {moved_to:%b %Y}")
    visit.refresh_from_db()
    assert visit.planned_on == moved_to and visit.manual

    # Events older than 30 days wait behind "Show earlier", and load in place, oldest first.
    events = page.locator("#events")
    expect(events.get_by_text("Insurance called back")).to_have_count(0)
    events.get_by_role("link", name="Show earlier").click()
    expect(events.get_by_text("Insurance called back")).to_be_visible()
    expect(events.get_by_role("link", name="Show earlier")).to_have_count(0)
    days = events.locator(".tl-day__date time")
    first, second = days.nth(0).get_attribute("datetime"), days.nth(1).get_attribute("datetime")
    assert first is not None and second is not None and first < second
    text = events.inner_text()
    order = [text.index(title) for title in ("Labs faxed", "Insurance called back", "Infusion (day 0) planned for")]
    assert order == sorted(order)
    assert problems == []
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_header_shows_the_active_toxicity_and_a_long_word_does_not_widen_the_page(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    today = timezone.localdate(timezone=world.center.zone)
    infused(world, today - dt.timedelta(days=3))
    event = grade_2_event(world)
    word = "x" * COMMENT_MAX_LENGTH
    comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body=word)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems = policy_violations(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))

    now = page.locator(".tl-now")
    expect(now.get_by_role("link", name="Cytokine release syndrome (CRS), grade 2")).to_be_visible()
    expect(now).to_contain_text("Not yet acknowledged at Riverbend Oncology")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.locator(".tl-comment__body").last).to_be_visible()
        scroll_width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= viewport, (width, scroll_width)
        # The word is in the page, wrapped: in the thread and in the history.
        assert page.locator(".tl-entry__body", has_text=word[:50]).count() == 1

    # The history's toxicity entry opens the event.
    page.locator("#events").get_by_role("link", name="Cytokine release syndrome (CRS) grade 2 recorded").click()
    expect(page).to_have_url(base_url + reverse("toxicity-event", kwargs={"event_id": event.pk}))
    assert problems == []
    page.close()
