"""Signed-in sessions for the personas, usable by any HTTP client (a load run, curl).

A session is written as the app's own sign-in leaves it: the user, the backend and the
session hash (`django.contrib.auth.login`), the second factor passed with the person's
authenticator (`django_otp.login`), and the sign-in time the idle and absolute timeouts read
(`carecoord.accounts.sessions.mark_signed_in`).
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.accounts.sessions import LAST_SEEN_AT, SIGNED_IN_AT
from carecoord.models import User


def signed_in_session(email: str) -> tuple[str, str]:
    """A new session of the person signed in with `email`, past both factors, as the cookie
    (name, value) to send: `Cookie: {name}={value}`."""
    user = User.objects.get(email=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = int(time.time())
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # the one that checks passwords
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SIGNED_IN_AT] = now
    store[LAST_SEEN_AT] = now
    store.create()
    assert store.session_key is not None
    return settings.SESSION_COOKIE_NAME, store.session_key
