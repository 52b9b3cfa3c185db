"""Every main page checked by axe-core in a real browser, with a patient's whole record on it
(referral, milestones, a toxicity with its alerts, hand-offs, comments) and, for the forms,
again after a refused submission: no serious or critical violation of WCAG 2 A/AA or axe's best
practices, at a desktop and a phone's width; and every stop of the Tab key shows its focus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from handoffs.models import Handoff
from tests.browser import (
    accessibility_violations,
    describe_violations,
    sign_in,
    staff_signed_in,
    tab_through,
    work_queue_arrived,
)
from tests.factories import PASSWORD, authenticator
from tests.helpers import Record, World, small_record, started
from toxicity.models import ToxicityEvent

pytestmark = pytest.mark.browser

# A laptop and a phone (the widths of the screenshots in docs/clinicians/).
WIDTHS = ((1366, 900), (390, 844))


@dataclass
class Scene:
    """What the pages show: the shared patient's small record and a hand-off still in draft."""

    record: Record
    event: ToxicityEvent
    sent: Handoff
    draft: Handoff

    @property
    def patient(self) -> dict[str, object]:
        return {"patient_id": self.record.patient.pk}


def _scene(world: World) -> Scene:
    record = small_record(world)
    return Scene(
        record=record,
        event=ToxicityEvent.objects.get(patient=record.patient),
        sent=Handoff.objects.get(patient=record.patient),
        draft=started(world, "Toxicity transfer"),
    )


def _press(name: str) -> Callable[[Page], None]:
    """Submit the form as it is (empty where the person left it empty) and wait for the server's
    answer: the browser's own checks of required fields are turned off, so the page with the
    server's errors is the one checked."""

    def act(page: Page) -> None:
        button = page.get_by_role("button", name=name, exact=True)
        button.evaluate("button => { button.form.noValidate = true; }")
        with page.expect_navigation():
            button.click()
        expect(page.locator(".field__error, [role=alert]").first).to_be_visible()

    return act


def _timeline_forms_open(page: Page) -> None:
    """A milestone's actions open with one form loaded, and a comment refused for being empty."""
    row = page.locator("tr.tl-row--planned").first
    row.get_by_text("Update").click()
    row.get_by_role("link", name="Move…").click()
    expect(row.get_by_label("New date")).to_be_focused()
    post = page.get_by_role("button", name="Post to the timeline")
    post.evaluate("button => { button.form.noValidate = true; }")
    post.click()
    expect(page.locator("#thread .field__error").first).to_be_visible()


def _asked_if_new(page: Page) -> None:
    """A CRS recorded while the patient's CRS is active: the page asks whether it is a new one."""
    _graded(page)
    _press("Record and alert")(page)
    expect(page.locator("#id_new_episode_error")).to_be_visible()


def _graded(page: Page) -> None:
    """A grade 3 CRS entered: its fieldset shown and the live grade in the preview."""
    page.locator("select[name=kind]").select_option("crs")
    page.get_by_label("Highest temperature (°C)").fill("39.2")
    page.get_by_label("Number of vasopressors other than vasopressin").fill("1")
    expect(page.locator("#grade-preview")).to_contain_text("Grade 3")


@dataclass(frozen=True)
class View:
    persona: str  # who looks at it: an attribute of the World
    address: Callable[[Scene], str]
    act: Callable[[Page], None] | None = None  # what the person does on it before the check


CENTER, PRACTICE = "center_coordinator", "community_coordinator"


def _referral_form(s: Scene) -> str:
    return reverse("referral-create") + f"?patient={s.record.patient.pk}"


PAGES: dict[str, View] = {
    "dashboard": View(CENTER, lambda s: reverse("dashboard"), work_queue_arrived),
    "my-work": View(CENTER, lambda s: reverse("my-work")),
    "patient-detail": View(CENTER, lambda s: reverse("patient-detail", kwargs=s.patient)),
    "patient-edit": View(CENTER, lambda s: reverse("patient-edit", kwargs=s.patient)),
    "timeline": View(CENTER, lambda s: reverse("patient-timeline", kwargs=s.patient)),
    "timeline, forms open": View(CENTER, lambda s: reverse("patient-timeline", kwargs=s.patient), _timeline_forms_open),
    "timeline, every milestone": View(CENTER, lambda s: reverse("patient-timeline-milestones", kwargs=s.patient)),
    # Referrals are written at the practice.
    "referral-create": View(PRACTICE, _referral_form),
    "referral-create, refused": View(PRACTICE, _referral_form, _press("Submit to center")),
    "referral-list": View(CENTER, lambda s: reverse("referral-list")),
    "referral-detail": View(CENTER, lambda s: reverse("referral-detail", kwargs={"referral_id": s.record.referral.pk})),
    "toxicity-record": View(CENTER, lambda s: reverse("toxicity-record", kwargs=s.patient)),
    "toxicity-record, graded": View(CENTER, lambda s: reverse("toxicity-record", kwargs=s.patient), _graded),
    "toxicity-record, refused": View(
        CENTER, lambda s: reverse("toxicity-record", kwargs=s.patient), _press("Record and alert")
    ),
    "toxicity-record, asked if new": View(
        CENTER, lambda s: reverse("toxicity-record", kwargs=s.patient), _asked_if_new
    ),
    "lab-entry": View(CENTER, lambda s: reverse("lab-entry", kwargs=s.patient)),
    "lab-entry, refused": View(CENTER, lambda s: reverse("lab-entry", kwargs=s.patient), _press("Record the results")),
    "toxicity-event": View(CENTER, lambda s: reverse("toxicity-event", kwargs={"event_id": s.event.pk})),
    "infections-patient": View(CENTER, lambda s: reverse("infections-patient", kwargs=s.patient)),
    "infection-record": View(CENTER, lambda s: reverse("infection-record", kwargs=s.patient)),
    "infection-record, refused": View(
        CENTER, lambda s: reverse("infection-record", kwargs=s.patient), _press("Record")
    ),
    "prevention-plan": View(CENTER, lambda s: reverse("prevention-plan", kwargs=s.patient)),
    "prophylaxis-add, refused": View(CENTER, lambda s: reverse("prophylaxis-add", kwargs=s.patient), _press("Save")),
    "handoff-list": View(CENTER, lambda s: reverse("handoff-list", kwargs=s.patient)),
    # The receiving side's view of a sent hand-off: acknowledge it, ask a question.
    "handoff-detail": View(PRACTICE, lambda s: reverse("handoff-detail", kwargs={"handoff_id": s.sent.pk})),
    "handoff-start": View(CENTER, lambda s: reverse("handoff-start", kwargs=s.patient)),
    "handoff-edit": View(CENTER, lambda s: reverse("handoff-edit", kwargs={"handoff_id": s.draft.pk})),
    "handoff-edit, refused": View(
        CENTER, lambda s: reverse("handoff-edit", kwargs={"handoff_id": s.draft.pk}), _press("Send")
    ),
    "my-handoffs": View(PRACTICE, lambda s: reverse("my-handoffs")),
    "education-patient": View(CENTER, lambda s: reverse("education-patient", kwargs=s.patient)),
    "education-patient, refused": View(
        CENTER, lambda s: reverse("education-patient", kwargs=s.patient), _press("Record education given")
    ),
    "education-material-list": View(CENTER, lambda s: reverse("education-material-list")),
    "candidates-history": View(PRACTICE, lambda s: reverse("candidates-history", kwargs=s.patient)),
    "candidates-history, refused": View(
        PRACTICE, lambda s: reverse("candidates-history", kwargs=s.patient), _press("Record the line")
    ),
    "handoff-template-list": View(CENTER, lambda s: reverse("handoff-template-list")),
    "my-digest": View(CENTER, lambda s: reverse("my-digest")),
    "metrics": View(CENTER, lambda s: reverse("metrics")),
    "alert-list": View(CENTER, lambda s: reverse("alert-list")),
    "milestones-due": View(CENTER, lambda s: reverse("milestones-due") + "?window=fortnight"),
    "account-security": View(CENTER, lambda s: reverse("account-security")),
    "account-security, refused": View(CENTER, lambda s: reverse("account-security"), _press("Make a token")),
}


def assert_accessible(page: Page) -> None:
    """axe finds nothing serious at either width, and every stop of the Tab key shows its focus."""
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        violations = accessibility_violations(page)
        assert violations == [], f"{page.url} at {width} px:\n{describe_violations(violations)}"
    assert tab_through(page) > 0


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_page_has_no_serious_accessibility_violation(
    name: str, live_server: object, world: World, browser: Browser, tmp_media: object
) -> None:
    base_url, view = str(live_server), PAGES[name]
    scene = _scene(world)
    page = browser.new_page()
    sign_in(page, base_url, getattr(world, view.persona).email)
    response = page.goto(base_url + view.address(scene))
    assert response is not None and response.status == 200, (name, response and response.status)
    if view.act is not None:
        view.act(page)
    assert_accessible(page)
    page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sign_in_pages_have_no_serious_accessibility_violation(
    live_server: object, world: World, browser: Browser
) -> None:
    """The password page, empty and after a wrong password, then the second factor's."""
    authenticator(world.center_coordinator)
    page = browser.new_page()
    page.goto(str(live_server) + reverse("login"))
    assert_accessible(page)
    page.get_by_label("Email address").fill(world.center_coordinator.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    assert_accessible(page)
    page.close()


@pytest.mark.parametrize("address", ["dashboard", "alert-list"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_header_menu_on_a_phone_has_no_serious_accessibility_violation_folded_or_open(
    address: str, live_server: object, world: World, browser: Browser
) -> None:
    """The phone's header (the alerts waiting beside "Menu"; on the alerts page, the current
    one), its menu folded and then open; every stop of the Tab key shows its focus."""
    page, _ = staff_signed_in(browser, str(live_server), world, 390, 844)
    page.goto(str(live_server) + reverse(address))
    for state in ("folded", "open"):
        if state == "open":
            page.locator(".site-menu > summary").click()
            expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        violations = accessibility_violations(page)
        assert violations == [], f"{page.url}, menu {state}:\n{describe_violations(violations)}"
        assert tab_through(page) > 0
    page.close()
