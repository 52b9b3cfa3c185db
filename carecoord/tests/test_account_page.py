"""The account page and the second sign-in step: what they tell the person, and how."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from carecoord.accounts.api_tokens import api_token_create
from tests.factories import authenticator
from tests.helpers import DASHBOARD, VERIFY, World, login, sign_in_with_password

FEW_LEFT = "You have few recovery codes left"


def _css_rule(selector: str) -> str:
    path = finders.find("css/carecoord.css")
    assert isinstance(path, str)
    with open(path, encoding="utf-8") as sheet:
        found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", sheet.read())
    assert found, selector
    return found.group(1)


def test_few_recovery_codes_left_is_a_warning_not_a_success(client: Client, world: World) -> None:
    user = world.community_oncologist
    authenticator(user)
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    StaticToken.objects.create(device=device, token="a1b2c3d4")
    StaticToken.objects.create(device=device, token="e5f6g7h8")
    sign_in_with_password(client, user)

    response = client.post(VERIFY, {"code": "a1b2c3d4"}, follow=True)

    assert response.redirect_chain[-1][0] == DASHBOARD
    html = response.content.decode()
    assert re.search(r'class="flash__item flash__item--warning">' + FEW_LEFT, html)
    assert "flash__item--success" not in html
    # Styled as a warning: its own colours, not those of the green success default.
    warning, default = _css_rule(".flash__item--warning"), _css_rule(".flash__item ")
    assert "background:" in warning and "background: #e8f4ea" in default
    background = re.search(r"background:\s*([^;]+);", warning)
    assert background is not None and background.group(1) != "#e8f4ea"


def test_no_warning_with_enough_recovery_codes(client: Client, world: World) -> None:
    user = world.community_oncologist
    authenticator(user)
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    for token in ("a1b2c3d4", "b1b2c3d4", "c1b2c3d4", "d1b2c3d4"):
        StaticToken.objects.create(device=device, token=token)
    sign_in_with_password(client, user)

    response = client.post(VERIFY, {"code": "a1b2c3d4"}, follow=True)

    assert FEW_LEFT not in response.content.decode()


def test_account_page_token_times_are_in_the_viewers_zone(client: Client, world: World) -> None:
    with time_machine.travel(dt.datetime(2026, 12, 1, 20, 5, tzinfo=dt.UTC), tick=False):
        api_token_create(user=world.center_coordinator, name="reports")
    html = login(client, world.center_coordinator).get(reverse("account-security")).content.decode()
    assert "1 Dec 2026, 14:05 CST" in html
    assert "Times in America/Chicago." in html
