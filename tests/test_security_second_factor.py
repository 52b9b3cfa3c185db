"""The second factor's own guards: a new session key once it is passed.

Everything goes through the real pages, as in tests/test_security_auth.py.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World
from tests.factories import authenticator
from tests.test_security_auth import DASHBOARD, SETUP, VERIFY, code_for, sign_in_with_password


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def assert_key_worthless(key: str) -> None:
    """A browser holding only `key` is not signed in at all (not even past the password)."""
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    response = stale.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- A new session key once the second factor is passed --------------------------------------


@pytest.mark.parametrize("kind", ["app", "recovery"])
def test_passing_the_second_step_changes_the_session_key(client: Client, world: World, kind: str) -> None:
    user = world.community_oncologist
    device = authenticator(user)
    recovery = "a1b2c3d4"
    StaticToken.objects.create(device=StaticDevice.objects.create(user=user, name="Recovery codes"), token=recovery)
    sign_in_with_password(client, user)
    before = session_key(client)

    response = client.post(VERIFY, {"code": code_for(device) if kind == "app" else recovery})

    assert response.status_code == 302
    assert session_key(client) != before
    assert client.get(DASHBOARD).status_code == 200
    assert_key_worthless(before)


def test_confirming_the_first_authenticator_changes_the_session_key(client: Client, world: World) -> None:
    user = world.community_oncologist
    sign_in_with_password(client, user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    before = session_key(client)

    assert client.post(SETUP, {"code": code_for(device)}).status_code == 302

    assert session_key(client) != before
    assert client.get(DASHBOARD).status_code == 200
    assert_key_worthless(before)
