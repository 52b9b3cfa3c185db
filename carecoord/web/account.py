"""The second sign-in step, authenticator enrollment, and the account security page."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from carecoord.account_sections import account_sections
from carecoord.accounts import second_factor
from carecoord.accounts.api_tokens import api_token_create, api_token_revoke
from carecoord.accounts.client_ip import client_ip
from carecoord.accounts.sessions import second_factor_passed
from carecoord.models import ApiToken, User
from carecoord.web.account_forms import ApiTokenForm, CodeForm, EnrollForm, PasswordAgainForm, ReplaceAuthenticatorForm
from carecoord.web.shortcuts import next_or
from carecoord.zones import zone_of

RECOVERY_CODES_SESSION_KEY = "carecoord_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    return next_or(request, reverse("dashboard"))


def _wait_message(seconds: int) -> str:
    wait = f"{seconds} second{pluralize(seconds)}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return f"Too many wrong codes. Wait {wait}, then type the newest code."


def _capped_message(until: dt.datetime, zone: dt.tzinfo) -> str:
    """The end of the refusal on the person's clock (`zone`), the zone named."""
    local = until.astimezone(zone)
    return (
        f"Too many wrong codes in the last 24 hours: codes are refused until {local:%d %b %Y, %H:%M %Z}. "
        "To sign in sooner, or if these were not your attempts, contact your site administrator."
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required runs first; this narrows the type
        raise PermissionDenied
    return user


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Second step of signing in: a code from the app, or a recovery code."""
    user = _user(request)
    if not second_factor.is_enrolled(user):
        return redirect("two-factor-setup")
    if second_factor.has_passed(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.attempt(user, form.cleaned_data["code"], client_ip(request))
        if result.capped_until is not None:
            form.add_error("code", _capped_message(result.capped_until, zone_of(user)))
        elif result.wait_seconds:
            form.add_error("code", _wait_message(result.wait_seconds))
        elif result.device is not None:
            second_factor_passed(request, result.device)
            if second_factor.recovery_codes_left(user) < 3:
                messages.warning(request, "You have few recovery codes left: make new ones on your account page.")
            return redirect(_next_url(request))
        else:
            form.add_error("code", "That code is not right, or it was used already. Wait for the next code.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in: connect an authenticator app (scan, confirm a code), then show recovery codes.

    Someone already enrolled comes here only after passing the second factor, to replace
    their authenticator (a new phone), and types their password again. A first enrollment
    does not ask for it: the password was typed a moment ago and there is no factor to protect."""
    user = _user(request)
    replacing = second_factor.is_enrolled(user)
    if replacing and not second_factor.has_passed(user):
        return redirect("two-factor-verify")
    device = second_factor.enrollment_device(user)
    form = (
        ReplaceAuthenticatorForm(request.POST or None, request=request, user=user)
        if replacing
        else EnrollForm(request.POST or None)
    )
    if request.method == "POST" and form.is_valid():
        wait = second_factor.wait_seconds([device])
        codes = None if wait else second_factor.confirm_enrollment(device, form.cleaned_data["code"])
        if wait:
            form.add_error("code", _wait_message(wait))
        elif codes is not None:
            second_factor_passed(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            return redirect(reverse("recovery-codes") + "?" + request.GET.urlencode())
        else:
            form.add_error("code", "That code does not match. Check the app shows carecoord and try the newest code.")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": second_factor.qr_code_svg(device),
            "secret": second_factor.manual_entry_key(device),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once; POST with the password makes a fresh set (the old ones
    stop working)."""
    user = _user(request)
    form = PasswordAgainForm(request.POST or None, request=request, user=user)
    if request.method == "POST" and form.is_valid():
        request.session[RECOVERY_CODES_SESSION_KEY] = second_factor.recovery_codes_replace(user)
        messages.success(request, "New recovery codes made. The old ones no longer work.")
        return redirect("recovery-codes")
    codes = None if request.method == "POST" else request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "form": form, "left": second_factor.recovery_codes_left(user), "next": _next_url(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_security(request: HttpRequest) -> HttpResponse:
    """Second factor, recovery codes and API tokens of the person signed in, then the sections
    the apps above the core contribute (`carecoord.account_sections`)."""
    user = _user(request)
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = api_token_create(user=user, name=form.cleaned_data["name"], expires_at=form.expires_at())
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "carecoord/account_security.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at"),
            "recovery_codes_left": second_factor.recovery_codes_left(user),
            "zone": zone_of(user),
            "sections": account_sections(request, user),
        },
    )


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=_user(request))
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. Programs using it are refused from now on.")
    return redirect("account-security")
