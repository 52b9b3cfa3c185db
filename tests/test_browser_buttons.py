"""Buttons in a real browser: a quiet button stays readable under the pointer."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser

from tests.browser import sign_in
from tests.helpers import World

pytestmark = pytest.mark.browser

# The WCAG contrast ratio of the text and the background a button shows, in the page's own colours.
CONTRAST = """button => {
  const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgb = text => text.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const style = getComputedStyle(button);
  let [r, g, b, a] = rgb(style.backgroundColor);
  if (a === undefined) a = 1;
  const under = rgb(getComputedStyle(document.body).backgroundColor);
  const shown = [r, g, b].map((c, i) => c * a + under[i] * (1 - a));
  const [l1, l2] = [luminance(rgb(style.color)), luminance(shown)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_quiet_button_keeps_its_text_readable_under_the_pointer(
    live_server: object, world: World, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, str(live_server), world.community_coordinator.email)
    page.goto(str(live_server) + reverse("referral-create"))
    button = page.get_by_role("button", name="Save draft")
    assert button.evaluate(CONTRAST) >= 4.5
    button.hover()
    page.wait_for_timeout(100)
    assert button.evaluate(CONTRAST) >= 4.5  # was 1.0: dark text on the brand's dark hover
    page.close()
