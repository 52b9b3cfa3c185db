"""Signing in: password, throttling, the second factor, session lifetimes, and API tokens.

Everything here goes through the real sign-in forms; other tests use `login()`, which
stands for a completed sign-in.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from carecoord import demo
from carecoord.accounts.api_tokens import api_token_create
from carecoord.models import ApiToken, SiteMembership, User
from carecoord.services.memberships import membership_revoke_now, user_deactivate
from tests.factories import PASSWORD, UserFactory, authenticator
from tests.helpers import DASHBOARD, SETUP, START, VERIFY, World, code_for, login, sign_in_with_password

# --- A password alone reaches nothing ---------------------------------------------------------


@pytest.mark.parametrize("enrolled, second_step", [(False, SETUP), (True, VERIFY)])
def test_after_the_password_every_page_asks_for_the_second_factor(
    client: Client, world: World, enrolled: bool, second_step: str
) -> None:
    user = world.community_oncologist
    if enrolled:
        authenticator(user)
    assert sign_in_with_password(client, user) == 302
    for url in (DASHBOARD, reverse("patient-timeline", args=[world.shared_patient.pk]), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(second_step), url
    # The session may not call the API either, and the page shows no patient navigation.
    assert client.get("/api/patients/").status_code in {401, 403}
    page = client.get(second_step).content.decode()
    assert reverse("referral-list") not in page
    assert world.shared_patient.family_name not in page


def test_htmx_requests_are_told_to_load_the_second_step(client: Client, world: World) -> None:
    authenticator(world.community_oncologist)
    sign_in_with_password(client, world.community_oncologist)
    response = client.get(DASHBOARD, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)


# --- Enrollment on first sign-in ----------------------------------------------------------------


def test_first_sign_in_enrolls_an_authenticator_and_shows_recovery_codes_once(client: Client, world: World) -> None:
    user = world.community_oncologist
    with time_machine.travel(START, tick=False):
        sign_in_with_password(client, user)
        page = client.get(SETUP).content.decode()
        assert "<svg" in page and "Scan this code" in page
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert client.get(SETUP).status_code == 200
        assert TOTPDevice.objects.filter(user=user).count() == 1, "reloading must not change the QR code"

        wrong = client.post(SETUP, {"code": "000000" if code_for(device) != "000000" else "111111"})
        assert wrong.status_code == 200
        assert 'id="id_code_error"' in wrong.content.decode()
        assert client.get(DASHBOARD).status_code == 302
    # Still within the session's lifetime: the clock is held, as the session started at START.
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        response = client.post(SETUP, {"code": code_for(device)})
        assert response.status_code == 302
        shown = client.get(response["Location"]).content.decode()
        codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", shown)
        assert len(codes) == 10
        assert StaticToken.objects.filter(device__user=user).count() == 10
        assert client.get(DASHBOARD).status_code == 200
        # Shown once: a second visit does not list them again.
        assert not re.findall(r"<li><code>", client.get(reverse("recovery-codes")).content.decode())


# --- The second step for someone enrolled --------------------------------------------------------


def test_second_step_accepts_the_apps_code_once(client: Client, world: World) -> None:
    user = world.community_oncologist
    device = authenticator(user)
    with time_machine.travel(START, tick=False):
        sign_in_with_password(client, user)
        bad = client.post(VERIFY, {"code": "12345"})
        assert "That code is not right" in bad.content.decode()
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        code = code_for(device)
        response = client.post(VERIFY, {"code": code[:3] + " " + code[3:], "next": reverse("my-digest")})
        assert response.status_code == 302
        assert response["Location"] == reverse("my-digest")
        assert client.get(DASHBOARD).status_code == 200

        # The same code cannot sign in a second browser.
        other = Client()
        sign_in_with_password(other, user)
        assert "That code is not right" in other.post(VERIFY, {"code": code}).content.decode()
        assert other.get(DASHBOARD).status_code == 302


def test_next_never_leaves_the_site(client: Client, world: World) -> None:
    user = world.community_oncologist
    device = authenticator(user)
    sign_in_with_password(client, user)
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == DASHBOARD


def test_a_recovery_code_works_once(client: Client, world: World) -> None:
    user = world.community_oncologist
    authenticator(user)
    login(client, user)
    client.post(reverse("recovery-codes"), {"password": PASSWORD})
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))

    first, second = Client(), Client()
    sign_in_with_password(first, user)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert first.get(DASHBOARD).status_code == 200
    sign_in_with_password(second, user)
    assert "That code is not right" in second.post(VERIFY, {"code": codes[0]}).content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_wrong_codes_slow_down_but_never_lock_for_good(client: Client, world: World) -> None:
    user = world.community_oncologist
    device = authenticator(user)
    with time_machine.travel(START, tick=False):
        sign_in_with_password(client, user)
        client.post(VERIFY, {"code": "999999" if code_for(device) != "999999" else "888888"})
        # Throttled now: even the right code is refused for a moment, and the page says so.
        refused = client.post(VERIFY, {"code": code_for(device)}).content.decode()
        assert "Too many wrong codes. Wait 1 second, then" in refused
        assert client.get(DASHBOARD).status_code == 302
    with time_machine.travel(START + dt.timedelta(seconds=2), tick=False):
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302


def test_after_many_wrong_codes_the_wait_is_capped_at_fifteen_minutes(client: Client, world: World) -> None:
    user = world.community_oncologist
    device = authenticator(user)
    # Forty wrong codes: django-otp alone would make this person wait for decades.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=40, throttling_failure_timestamp=START)
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        sign_in_with_password(client, user)
        assert "Wait 14 minutes" in client.post(VERIFY, {"code": code_for(device)}).content.decode()
    with time_machine.travel(START + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302


# --- Password throttling and rules -----------------------------------------------------------


def test_repeated_wrong_passwords_cool_off_then_sign_in_works_again(client: Client, world: World) -> None:
    user = world.community_oncologist
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            client.post(reverse("login"), {"username": user.email, "password": "not-the-password"})
        locked = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
        assert locked.status_code == 429
        assert "Too many sign-in attempts" in locked.content.decode()
        assert "_auth_user_id" not in client.session
        # Another person signing in from the same address is not held up.
        assert sign_in_with_password(Client(), world.community_coordinator) == 302
    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        assert sign_in_with_password(client, user) == 302
        assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    "new_password, message",
    [
        ("password1234", "This password is too common."),
        ("short-1", "This password is too short."),
        ("730284619305", "This password is entirely numeric."),
    ],
)
def test_password_change_enforces_the_rules(client: Client, world: World, new_password: str, message: str) -> None:
    login(client, world.community_oncologist)
    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.community_oncologist.refresh_from_db()
    assert world.community_oncologist.check_password(PASSWORD)


def test_password_change_ends_the_other_sessions(client: Client, world: World) -> None:
    user = world.community_oncologist
    other = login(Client(), user)
    login(client, user)
    new = "a-much-longer-passphrase-2026"
    response = client.post(
        reverse("password-change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200
    assert other.get(DASHBOARD)["Location"].startswith(reverse("login"))


# --- Session lifetimes ----------------------------------------------------------------------


def test_idle_session_is_signed_out_after_fifteen_minutes(client: Client, world: World) -> None:
    with time_machine.travel(START, tick=False):
        login(client, world.community_oncologist)
        assert client.get(DASHBOARD).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=14), tick=False):
        assert client.get(DASHBOARD).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=29, seconds=30), tick=False):
        response = client.get(DASHBOARD)
        assert response.status_code == 302
        assert response["Location"] == reverse("login")
        assert "without activity" in client.get(reverse("login")).content.decode()
        assert client.get(DASHBOARD)["Location"].startswith(reverse("login"))


def test_active_session_still_ends_at_its_absolute_lifetime(client: Client, world: World) -> None:
    with time_machine.travel(START, tick=False):
        login(client, world.community_oncologist)
    for minutes in range(10, 12 * 60, 10):
        with time_machine.travel(START + dt.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("my-digest")).status_code == 200, minutes
    with time_machine.travel(START + dt.timedelta(hours=12, minutes=5), tick=False):
        assert client.get(DASHBOARD)["Location"] == reverse("login")


def test_idle_api_session_gets_401_not_a_login_page(world: World) -> None:
    client = APIClient()
    with time_machine.travel(START, tick=False):
        login(client, world.community_oncologist)
    with time_machine.travel(START + dt.timedelta(minutes=20), tick=False):
        response = client.get("/api/patients/")
        assert response.status_code == 401
        assert response.json()["detail"]


def test_ending_a_membership_ends_the_persons_sessions(client: Client, world: World) -> None:
    user = world.community_oncologist
    login(client, user)
    assert client.get(DASHBOARD).status_code == 200
    membership_revoke_now(membership=SiteMembership.objects.get(user=user))
    assert client.get(DASHBOARD)["Location"].startswith(reverse("login"))


def test_membership_ending_by_date_ends_sessions_on_the_scheduled_pass(client: Client, world: World) -> None:
    from carecoord.access.grants import refresh_membership_access

    user = world.community_oncologist
    membership = SiteMembership.objects.get(user=user)
    with time_machine.travel(START, tick=False):
        membership.ends_on = START.date()
        membership.save(update_fields=["ends_on"])
        login(client, user)
        assert client.get(DASHBOARD).status_code == 200
    with time_machine.travel(START + dt.timedelta(days=1, hours=6), tick=False):
        refresh_membership_access()
        login_again = client.get(DASHBOARD)
        assert login_again["Location"].startswith(reverse("login"))


def test_deactivating_an_account_ends_sessions_and_revokes_tokens(client: Client, world: World) -> None:
    user = world.community_oncologist
    _token, key = api_token_create(user=user, name="EHR bridge")
    login(client, user)
    user_deactivate(user=user)
    assert client.get(DASHBOARD)["Location"].startswith(reverse("login"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/patients/").status_code == 401
    assert ApiToken.objects.get(user=user).revoked_at is not None


def test_the_admin_signs_in_through_the_same_door(client: Client, db: None) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- API tokens ----------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_works_until_revoked(client: Client, world: World) -> None:
    user = world.community_oncologist
    login(client, user)
    page = client.post(reverse("account-security"), {"name": "EHR bridge"}).content.decode()
    key = re.search(r'id="new-token-key">(cc_[A-Za-z0-9_-]+)<', page)
    assert key is not None
    token = ApiToken.objects.get(user=user)
    assert key.group(1) not in (token.key_hash, token.key_hint)
    assert key.group(1) not in client.get(reverse("account-security")).content.decode()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key.group(1)}")
    assert api.get("/api/patients/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 302
    assert api.get("/api/patients/").status_code == 401


def test_token_form_errors_name_the_field(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.post(reverse("account-security"), {"name": "", "expires_on": "2001-01-01"})
    page = response.content.decode()
    assert 'id="id_name_error"' in page and 'id="id_expires_on_error"' in page
    assert "There is a problem" in page and '<a href="#id_name">' in page and '<a href="#id_expires_on">' in page
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(world: World) -> None:
    with time_machine.travel(START, tick=False):
        _token, key = api_token_create(
            user=world.community_oncologist, name="short-lived", expires_at=START + dt.timedelta(days=1)
        )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with time_machine.travel(START + dt.timedelta(hours=23), tick=False):
        assert api.get("/api/patients/").status_code == 200
    with time_machine.travel(START + dt.timedelta(days=1, minutes=1), tick=False):
        assert api.get("/api/patients/").status_code == 401


def test_nobody_revokes_someone_elses_token(client: Client, world: World) -> None:
    token, _key = api_token_create(user=world.community_oncologist, name="mine")
    login(client, world.outsider)
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# --- The demo's documented second factor --------------------------------------------------------


def test_demo_accounts_sign_in_with_the_printed_code(
    client: Client, db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    demo.seed()
    email = "coordinator@greatlakes-cart.test"
    user = User.objects.get(email=email)
    call_command("demo_code", email)
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    sign_in_with_password(client, user, demo.DEMO_PASSWORD)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    assert client.get(DASHBOARD).status_code == 200


def test_demo_code_refuses_real_accounts(db: None) -> None:
    from django.core.management.base import CommandError

    real = UserFactory.create(email="nurse@hospital.example.org")
    TOTPDevice.objects.create(user=real, name=demo.DEMO_DEVICE_NAME, key=demo.DEMO_TOTP_KEY_HEX, confirmed=True)
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_code", real.email)
