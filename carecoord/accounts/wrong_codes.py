"""The daily cap on wrong second-factor codes.

django-otp's growing delay is per device and starts again after a success or a long enough
wait, so on its own it allows guessing without end. Here every wrong code (an app code or a
recovery code) is kept for 24 hours; a person with SECOND_FACTOR_WRONG_CODES_PER_DAY of them
in the last 24 hours is refused any code until the oldest is a day old. Nothing resets the
count early: not waiting out the delay, not a new password step, not a right code (an attacker
who knows the password would otherwise get a fresh allowance every time the owner signs in).
Only an administrator deleting the person's rows in the admin lifts the cap sooner.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from carecoord.models import User, WrongSecondFactorCode

WINDOW = dt.timedelta(hours=24)


def capped_until(user: User, now: dt.datetime | None = None) -> dt.datetime | None:
    """When `user` may type a code again, or None if they may now."""
    now = now or timezone.now()
    limit: int = settings.SECOND_FACTOR_WRONG_CODES_PER_DAY
    recent = list(
        WrongSecondFactorCode.objects.filter(user=user, at__gt=now - WINDOW).order_by("at").values_list("at", flat=True)
    )
    if len(recent) < limit:
        return None
    # The cap lifts when all but limit - 1 of them are older than the window.
    return recent[len(recent) - limit] + WINDOW


def record_wrong_code(user: User, ip_address: str | None, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    WrongSecondFactorCode.objects.create(user=user, at=now, ip_address=ip_address)
    WrongSecondFactorCode.objects.filter(user=user, at__lte=now - WINDOW).delete()
