from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WrongSecondFactorCode(models.Model):
    """One wrong code typed at the second sign-in step (an app code or a recovery code).

    django-otp's growing delay lives on each device and is forgotten after a success or a
    wait; these rows are not, so the daily cap (carecoord.accounts.wrong_codes) counts every
    wrong code of the last 24 hours whatever happened in between. Rows older than the window
    are deleted as new ones are written; an administrator deleting a person's rows lifts the cap.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"wrong code at {self.at:%Y-%m-%d %H:%M:%S}"
