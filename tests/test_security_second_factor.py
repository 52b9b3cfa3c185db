"""The second factor's own guards: a new session key once it is passed, the password again and
an email to the person when it changes, and a daily cap on wrong codes.

Everything goes through the real pages, as in tests/test_security_auth.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.models import OutgoingEmail, User, WrongSecondFactorCode
from tests.factories import PASSWORD, authenticator
from tests.helpers import DASHBOARD, SETUP, START, VERIFY, World, code_for, login, sign_in_with_password

RECOVERY_CODES = reverse("recovery-codes")


def wrong_code(device: TOTPDevice) -> str:
    return "000000" if code_for(device) != "000000" else "111111"


def past_the_password(user: User) -> Client:
    """A new browser that has passed the password step only."""
    client = Client()
    sign_in_with_password(client, user)
    return client


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def assert_key_worthless(key: str) -> None:
    """A browser holding only `key` is not signed in at all (not even past the password)."""
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    response = stale.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def second_factor_emails(user: User) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(recipient=user, template="second-factor-changed").order_by("pk"))


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


# --- Changing the second factor: the password again, and an email -----------------------------


def test_moving_to_a_new_phone_asks_for_the_password_and_tells_the_person(client: Client, world: World) -> None:
    user = world.community_oncologist
    old = authenticator(user)
    with time_machine.travel(START, tick=False):
        login(client, user)
        assert 'name="password"' in client.get(SETUP).content.decode()
        new = TOTPDevice.objects.get(user=user, confirmed=False)

        wrong = client.post(SETUP, {"code": code_for(new), "password": "not-my-password"})
        assert wrong.status_code == 200
        page = wrong.content.decode()
        assert 'id="id_password_error"' in page and "not your current password" in page
        assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [old]
        assert not second_factor_emails(user)

        missing = client.post(SETUP, {"code": code_for(new)})
        assert 'id="id_password_error"' in missing.content.decode()
        assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [old]

    with time_machine.travel(START + dt.timedelta(seconds=30), tick=False):
        response = client.post(SETUP, {"code": code_for(new), "password": PASSWORD})
        assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [new]
    [email] = second_factor_emails(user)
    assert email.to_address == user.email
    assert "authenticator app was replaced" in email.subject
    for body in (email.body_text, email.body_html):
        assert "23 Nov 2026, 03:00 CST" in body  # the person's site is in Chicago
        assert "contact your site administrator" in body
        assert world.shared_patient.family_name not in body and user.full_name not in body


def test_new_recovery_codes_ask_for_the_password_and_tell_the_person(client: Client, world: World) -> None:
    user = world.community_oncologist
    with time_machine.travel(START, tick=False):
        login(client, user)
        assert 'name="password"' in client.get(RECOVERY_CODES).content.decode()
        assert client.post(RECOVERY_CODES, {"password": PASSWORD}).status_code == 302
        first = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))

        wrong = client.post(RECOVERY_CODES, {"password": "not-my-password"})
        assert wrong.status_code == 200
        page = wrong.content.decode()
        assert 'id="id_password_error"' in page
        assert not re.findall(r"<li><code>", page)
        assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == first
        assert len(second_factor_emails(user)) == 1

    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        assert client.post(RECOVERY_CODES, {"password": PASSWORD}).status_code == 302
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)).isdisjoint(first)
    emails = second_factor_emails(user)
    assert len(emails) == 2
    assert "new recovery codes were made" in emails[1].subject
    assert "23 Nov 2026, 03:02 CST" in emails[1].body_text
    assert "contact your site administrator" in emails[1].body_text


def test_a_first_authenticator_takes_no_second_password_but_is_told(client: Client, world: World) -> None:
    """The password was typed a moment ago and there is no factor yet to protect; the email
    still lets an owner notice someone else enrolling with their password."""
    user = world.community_oncologist
    sign_in_with_password(client, user)
    assert 'name="password"' not in client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(SETUP, {"code": code_for(device)}).status_code == 302
    [email] = second_factor_emails(user)
    assert "an authenticator app was set up" in email.subject


def test_wrong_passwords_there_count_towards_the_sign_in_throttle(client: Client, world: World) -> None:
    user = world.community_oncologist
    login(client, user)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(RECOVERY_CODES, {"password": "not-my-password"})
    locked = client.post(RECOVERY_CODES, {"password": PASSWORD})
    assert locked.status_code == 429
    assert not StaticToken.objects.filter(device__user=user).exists()


# --- A daily cap on wrong codes ----------------------------------------------------------------


def one_wrong_code_at_start(user: User) -> tuple[Client, TOTPDevice]:
    """The person's authenticator, and a browser that typed one wrong code from it at START."""
    device = authenticator(user)
    with time_machine.travel(START, tick=False):
        client = past_the_password(user)
        assert "That code is not right" in client.post(VERIFY, {"code": wrong_code(device)}).content.decode()
    return client, device


def test_wrong_codes_are_capped_per_day_whatever_the_wait_or_the_password(world: World) -> None:
    """Each wrong code from a fresh sign-in after the delay is over: neither resets the count."""
    user = world.community_oncologist
    device = authenticator(user)
    recovery_shaped = "zz99zz99"
    limit = settings.SECOND_FACTOR_WRONG_CODES_PER_DAY
    for i in range(limit):
        with time_machine.travel(START + dt.timedelta(minutes=16 * i), tick=False):
            client = past_the_password(user)
            code = wrong_code(device) if i % 2 else recovery_shaped
            assert "That code is not right" in client.post(VERIFY, {"code": code}).content.decode()

    with time_machine.travel(START + dt.timedelta(minutes=16 * limit), tick=False):
        client = past_the_password(user)
        refused = client.post(VERIFY, {"code": code_for(device)}).content.decode()
        assert "codes are refused until 24 Nov 2026, 03:00 CST" in refused
        assert "contact your site administrator" in refused
        assert client.get(DASHBOARD).status_code == 302
    assert WrongSecondFactorCode.objects.filter(user=user).count() == limit

    # A day after the first wrong code, one more may be tried: the right one signs in.
    with time_machine.travel(START + dt.timedelta(hours=24, minutes=1), tick=False):
        client = past_the_password(user)
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
        assert client.get(DASHBOARD).status_code == 200


@override_settings(SECOND_FACTOR_WRONG_CODES_PER_DAY=3)
def test_a_right_code_does_not_reset_the_days_count(world: World) -> None:
    user = world.community_oncologist
    client, device = one_wrong_code_at_start(user)
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        client.post(VERIFY, {"code": wrong_code(device)})
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
        past_the_password(user).post(VERIFY, {"code": "zz99zz99"})
    with time_machine.travel(START + dt.timedelta(minutes=20), tick=False):
        refused = past_the_password(user).post(VERIFY, {"code": code_for(device)}).content.decode()
        assert "codes are refused until" in refused


@override_settings(SECOND_FACTOR_WRONG_CODES_PER_DAY=1)
def test_an_administrator_lifts_the_cap_by_deleting_the_wrong_codes(world: World) -> None:
    user = world.community_oncologist
    client, device = one_wrong_code_at_start(user)
    admin = login(Client(), world.center_coordinator)
    world.center_coordinator.is_staff = world.center_coordinator.is_superuser = True
    world.center_coordinator.save(update_fields=["is_staff", "is_superuser"])
    [row] = WrongSecondFactorCode.objects.filter(user=user)
    url = reverse("admin:carecoord_wrongsecondfactorcode_delete", args=[row.pk])
    with time_machine.travel(START + dt.timedelta(minutes=14), tick=False):
        assert "codes are refused until" in client.post(VERIFY, {"code": code_for(device)}).content.decode()
        assert admin.post(url, {"post": "yes"}).status_code == 302
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
