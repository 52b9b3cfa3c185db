from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

# The claim's constraint: a second insert of the same week fails with this name.
ONE_DIGEST_PER_WEEK = "one_digest_per_week"


class DigestPreference(models.Model):
    """When a point person wants their weekly digest: a weekday (0 = Monday) and an hour, in site time."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference")
    weekday = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)], help_text="0 = Monday.")
    hour = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(23)])

    def __str__(self) -> str:
        return f"{self.user}: weekday {self.weekday} at {self.hour:02d}:00"


class DigestDelivery(models.Model):
    """One weekly digest built for one person: the row is the once-per-week claim.

    `week_start` is the Monday of the recipient's local week; the unique constraint makes a
    second beat, a retry or a concurrent worker a no-op.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    week_start = models.DateField()
    built_at = models.DateTimeField()
    email = models.ForeignKey(
        "carecoord.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.JSONField(default=dict)

    class Meta:
        ordering = ["-week_start"]
        constraints = [models.UniqueConstraint(fields=["recipient", "week_start"], name=ONE_DIGEST_PER_WEEK)]
        verbose_name_plural = "digest deliveries"

    def __str__(self) -> str:
        return f"Digest for {self.recipient}, week of {self.week_start}"
