"""How long a signed-in session lasts, and ending every session of a person at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp.models import Device

from carecoord.models import User

SIGNED_IN_AT = "carecoord_signed_in_at"
LAST_SEEN_AT = "carecoord_last_seen_at"
# Writing the session on every request would cost a query each; a minute's precision is enough.
LAST_SEEN_RESOLUTION_SECONDS = 60


def end_sessions(user: User) -> None:
    """End every session of `user`, everywhere: Django compares a hash that includes the
    generation on each request (User._get_session_auth_hash) and signs a stale one out."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def mark_signed_in(request: HttpRequest) -> None:
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


def second_factor_passed(request: HttpRequest, device: Device) -> None:
    """Mark the session as past the second factor, under a new session key: a key someone
    learned or planted before the code was typed (session fixation) is worthless after."""
    otp_login(request, device)
    request.session.cycle_key()


def expiry_reason(session: dict[str, int], now: float) -> str | None:
    """Why a session must end now, or None: too long idle, or older than its absolute lifetime."""
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
    if signed_in_at is None or last_seen_at is None:
        return "Please sign in again."
    if now - last_seen_at > settings.SESSION_IDLE_TIMEOUT_SECONDS:
        minutes = settings.SESSION_IDLE_TIMEOUT_SECONDS // 60
        return f"You were signed out after {minutes} minutes without activity."
    if now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS:
        return "Your session reached its time limit. Please sign in again."
    return None


class SessionTimeoutMiddleware:
    """Signs out a session idle longer than SESSION_IDLE_TIMEOUT_SECONDS or older than
    SESSION_ABSOLUTE_TIMEOUT_SECONDS (see docs/operators/configuration.md)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            reason = expiry_reason(request.session, now)
            if reason is not None:
                logout(request)
                messages.info(request, reason)
                return signed_out_response(request)
            if now - request.session.get(LAST_SEEN_AT, 0) >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN_AT] = int(now)
        return self.get_response(request)


def signed_out_response(request: HttpRequest) -> HttpResponse:
    login_url = reverse("login")
    if request.path.startswith("/api/"):
        response = HttpResponse('{"detail": "Your session has ended. Sign in again."}', status=401)
        response["Content-Type"] = "application/json"
        return response
    return page_redirect(request, login_url)


def page_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to `url`. htmx would swap the target page into a fragment, so an htmx
    request is asked (HX-Redirect) to load it as a whole page instead."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
