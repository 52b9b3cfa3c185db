from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/Chicago).")


phone_validator = RegexValidator(
    r"^\+?[0-9 ().-]{7,25}$", "Enter a phone number of digits, spaces, dashes or brackets."
)


class Site(models.Model):
    """An organization that takes part in CAR-T care: an academic center or a community practice.

    Sites are the unit of access: a person sees a patient while they work at a site on that
    patient's care team. Times are shown in the site's time zone.
    """

    class Kind(models.TextChoices):
        ACADEMIC_CENTER = "academic_center", "Academic CAR-T center"
        COMMUNITY_PRACTICE = "community_practice", "Community practice"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    time_zone = models.CharField(max_length=64, default="America/Chicago", validators=[validate_time_zone])
    address = models.TextField(blank=True)
    phone_24_7 = models.CharField(
        "24/7 phone number",
        max_length=32,
        validators=[phone_validator],
        help_text="The number answered day and night for patients and clinicians.",
    )
    referral_acknowledge_business_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A center must acknowledge a submitted referral within this many business days.",
    )
    escalate_severe_after_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(1440)],
        help_text="An unacknowledged toxicity alert of grade 3 or more escalates after this many minutes.",
    )
    escalate_other_after_minutes = models.PositiveSmallIntegerField(
        default=240,
        validators=[MinValueValidator(5), MaxValueValidator(2880)],
        help_text="An unacknowledged toxicity alert below grade 3 escalates after this many minutes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_academic_center(self) -> bool:
        return self.kind == self.Kind.ACADEMIC_CENTER

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def time_of(self, moment: dt.datetime | None = None) -> dt.datetime:
        """`moment` (default now) in site time, the site's zone."""
        return timezone.localtime(moment, self.zone)

    def date_of(self, moment: dt.datetime | None = None) -> dt.date:
        """The date of `moment` (default now) in site time."""
        return timezone.localdate(moment, self.zone)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The site's today: the date now (or at `now`) in site time. Memberships start and
        end, and milestones fall due, on the site's dates."""
        return self.date_of(now)
