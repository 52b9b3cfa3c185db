"""The second factor every person must pass: a TOTP authenticator app, with recovery codes.

Devices are django-otp's (TOTPDevice for the app, one StaticDevice holding the recovery
codes). Wrong codes slow the device down with django-otp's growing delay, and a person's
wrong codes are capped per day (carecoord.accounts.wrong_codes); nothing locks an account for
good. Every change of a person's second factor is emailed to them.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

import segno
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.accounts import wrong_codes
from carecoord.emails import email_queue
from carecoord.models import User

APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# The longest wrong codes can make someone wait.
MAX_WAIT = dt.timedelta(minutes=15)


def has_passed(user: object) -> bool:
    """Whether this request's user signed in with both factors (django-otp's OTPMiddleware
    gives every request user an `is_verified()`)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def enrollment_device(user: User) -> TOTPDevice:
    """The authenticator being set up: the same unconfirmed device until it is confirmed,
    so reloading the page does not change the QR code someone is scanning."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    """An inline SVG of the device's otpauth:// URI, for the authenticator app to scan."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, omitsize=False, title="Scan this code"))


def manual_entry_key(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed in (base32, in groups of four)."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


class Change(StrEnum):
    """A change of someone's second factor, as the email telling them names it."""

    AUTHENTICATOR_ADDED = "authenticator-added"
    AUTHENTICATOR_REPLACED = "authenticator-replaced"
    RECOVERY_CODES = "recovery-codes"


def confirm_enrollment(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a first code from the app; returns fresh recovery codes,
    or None when the code is wrong. Earlier authenticators of the person are removed."""
    if not device.verify_token(normalize(code)):
        return None
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()[0] > 0
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(device.user)
        _tell(device.user, Change.AUTHENTICATOR_REPLACED if replaced else Change.AUTHENTICATOR_ADDED)
    return codes


def recovery_codes_replace(user: User) -> list[str]:
    """Throw away any recovery codes and make a new set; each works once."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _tell(user, Change.RECOVERY_CODES)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _tell(user: User, change: Change) -> None:
    """Email the person that their second factor changed, so a change they did not make is
    noticed; written in the change's transaction. No patient data, only what and when."""
    at = timezone.now()
    email_queue(
        recipient=user,
        template="second-factor-changed",
        context={"change": str(change), "at": at},
        dedupe_key=f"second-factor-changed:{user.pk}:{change}:{at.isoformat()}",
    )


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class Attempt:
    """What a code typed at the second step led to: the device that took it, or why none did
    (a wait of django-otp's growing delay, or the daily cap until a time)."""

    device: Device | None = None
    wait_seconds: int = 0
    capped_until: dt.datetime | None = None


def attempt(user: User, code: str, ip_address: str | None) -> Attempt:
    """Check a code typed at the second step: refused under the daily cap or while the device
    waits; a wrong one counts towards the cap."""
    code = normalize(code)
    with transaction.atomic():
        # One attempt per person at a time: two at once cannot both slip under the cap.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        capped_until = wrong_codes.capped_until(user)
        if capped_until is not None:
            return Attempt(capped_until=capped_until)
        devices = devices_for(user, code)
        wait = wait_seconds(devices)
        if wait:
            return Attempt(wait_seconds=wait)
        device = verify(devices, code)
        if device is None:
            wrong_codes.record_wrong_code(user, ip_address)
        return Attempt(device=device)


def verify(devices: list[Device], code: str) -> Device | None:
    """The device among `devices` (see `devices_for`) that accepts `code`."""
    code = normalize(code)
    for device in devices:
        if device.verify_token(code):
            return device
    return None


def devices_for(user: User, code: str) -> list[Device]:
    """The devices a code is meant for: six digits come from the app, anything else is a
    recovery code. Trying a recovery code on the app would count as a wrong app code."""
    kind: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    return list(kind.objects.filter(user=user, confirmed=True))


def wait_seconds(candidates: list[Device]) -> int:
    """How long until the throttled devices among `candidates` accept a code again (0: now).

    django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s, …) without a useful
    ceiling; here the wait never exceeds MAX_WAIT, after which the device is forgiven, so a
    person is slowed down but never locked out for good."""
    now = timezone.now()
    waits = [0]
    for device in candidates:
        allowed, details = device.verify_is_allowed()
        if allowed or not details or not details.get("locked_until"):
            continue
        last_failure: dt.datetime = device.throttling_failure_timestamp
        if now - last_failure >= MAX_WAIT:
            device.throttle_reset()
            continue
        locked_until = min(details["locked_until"], last_failure + MAX_WAIT)
        waits.append(math.ceil((locked_until - now).total_seconds()))
    return max(waits)


def normalize(code: str) -> str:
    # People type codes with spaces ("123 456") or copy recovery codes with dashes.
    return "".join(code.split()).replace("-", "").lower()
