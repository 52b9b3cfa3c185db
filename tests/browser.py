"""Chromium (Debian's) driven by Playwright, for the real-browser tests."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from carecoord.models import User
from tests.factories import PASSWORD, authenticator, current_code

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


def policy_violations(page: Page) -> list[str]:
    """What the Content Security Policy refuses on `page` from now on, as the browser reports it:
    a list that fills while the test goes on, and must stay empty."""
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    return violations
