"""Chromium (Debian's) driven by Playwright, for the real-browser tests."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from carecoord.models import User
from tests.factories import PASSWORD, authenticator, current_code
from tests.helpers import World, staff_with_alerts_waiting

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    assert CHROMIUM_PATH, "Chromium is needed for browser tests: apt-get install chromium, or set CHROMIUM_PATH"
    # Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
    # the database calls that fixtures make while it runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page: Page, base_url: str, email: str) -> None:
    """Both steps of signing in, for someone whose authenticator app is set up already."""
    authenticator(User.objects.get(email=email))
    page.goto(base_url + reverse("login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base_url + reverse("two-factor-verify")) + r"(\?.*)?$"))
    page.get_by_label("Code").fill(current_code(User.objects.get(email=email)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(base_url + reverse("dashboard"))
    work_queue_arrived(page)  # the page settled: nothing moves under the next click


# The links of the header's main menu for a member of staff (the audit trail is theirs alone), in order.
MENU_LINKS = (
    "My patients",
    "Referrals",
    "Alerts",
    "Hand-offs",
    "Hand-off templates",
    "Metrics",
    "Education",
    "API docs",
    "Audit trail",
)


def menu_texts(waiting: int) -> list[str]:
    """What each link of the main menu reads, the count of alerts waiting after "Alerts"."""
    return [f"{name} {waiting}" if name == "Alerts" else name for name in MENU_LINKS]


def staff_signed_in(browser: Browser, base_url: str, world: World, width: int, height: int) -> tuple[Page, int]:
    """A member of staff with alerts waiting (`staff_with_alerts_waiting`), signed in on a screen
    `width` by `height`: their page, and how many alerts wait."""
    user, waiting = staff_with_alerts_waiting(world)
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, base_url, user.email)
    return page, waiting


def work_queue_arrived(page: Page) -> None:
    """The dashboard's work queue, asked for once the page has arrived (htmx), in its place:
    before it, what the keyboard reaches first is the patient list."""
    expect(page.locator("#work-queue .work-queue").first).to_be_visible()
    expect(page.locator("#work-queue[aria-busy]")).to_have_count(0)


def policy_violations(page: Page) -> list[str]:
    """What the Content Security Policy refuses on `page` from now on, as the browser reports it:
    a list that fills while the test goes on, and must stay empty."""
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    return violations


# What axe-core reports and a test fails on: the violations a person using a screen reader, a
# keyboard or low vision would be stopped by. "moderate" and "minor" are left to review.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# Why axe may be unable to decide a colour contrast that is no failure: the element holds only
# symbols (the ✓ and ✗ beside a checklist item, hidden from assistive technology), or it is
# partly scrolled out of a wide table's scrolling box on a phone (the tests check every page at
# a desktop's width too, where the whole table is in view).
UNDECIDABLE_CONTRAST = frozenset({"nonBmp", "elmPartiallyObscured"})


def _undecided(node: dict[str, Any]) -> bool:
    """Whether axe left `node` undecided for a reason it cannot be faulted for."""
    reasons = {(check.get("data") or {}).get("messageKey") for check in node["any"]}
    return reasons <= UNDECIDABLE_CONTRAST


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on `page` as it stands (WCAG 2 A/AA and axe's
    best practices): its violations, and what it could not decide (e.g. an aria-describedby
    naming a missing element) but for contrasts it cannot judge on symbols.

    axe is injected through `page.evaluate`, which the page's Content Security Policy does not
    govern, so the page is checked under its real policy."""
    results = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    found = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    for finding in results["incomplete"]:
        if finding["impact"] not in BLOCKING_IMPACTS:
            continue
        nodes = [node for node in finding["nodes"] if not (finding["id"] == "color-contrast" and _undecided(node))]
        if nodes:
            found.append({**finding, "nodes": nodes})
    return found


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One paragraph a violation: its rule, what to do, and the elements it was found on."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['failureSummary']}".replace("\n", " "))
    return "\n".join(lines)


# Where the focus is, and whether a sighted keyboard user can see it: an outline or a ring.
FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const ringed = style.boxShadow !== "none";
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(),
    name: (element.getAttribute("aria-label") || element.labels?.[0]?.innerText || element.innerText || "").trim(),
    visible: outlined || ringed,
    onScreen: box.width > 0 && box.height > 0,
    html: element.outerHTML.slice(0, 160),
  };
}"""


def tab_to(page: Page, matches: re.Pattern[str], *, key: str = "Tab", limit: int = 400) -> None:
    """Press `key` (Tab or Shift+Tab) until the focused element's name matches (labels may gain
    a required marker after the name); every element passed on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue  # the focus left the page for the browser's own interface: Tab goes round
        assert focused["visible"] and focused["onScreen"], f"focus is not visible on {focused['html']}"
        if matches.search(focused["name"]):
            return
    raise AssertionError(f"{limit} presses of {key} did not reach {matches.pattern!r}")


def tab_through(page: Page, limit: int = 600) -> int:
    """Press Tab from the top of the page (the skip link) to its end; every stop must show its
    focus. How many stops there were."""
    page.locator(".skip-link").focus()
    for stops in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or "skip-link" in focused["html"]:
            return stops  # past the last element: to the browser's own interface, or round again
        assert focused["visible"] and focused["onScreen"], f"focus is not visible on {focused['html']}"
    raise AssertionError(f"{limit} presses of Tab did not reach the end of {page.url}")
