"""What the FHIR intake keeps: which sender's ServiceRequest became which referral."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from carecoord.models.calendar import calendar_checks


class ReferralIntake(models.Model):
    """A referral that came in as a FHIR transaction Bundle (`POST /fhir/Bundle`), under the
    identifier the practice's system gave its ServiceRequest.

    The identifier is the practice's own, so it is unique per practice: the same bundle posted
    again (a retry, a resend) finds this row and its referral instead of making another.
    """

    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="fhir_intakes")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "system", "value"], name="one_referral_per_intake_identifier"),
            *calendar_checks("referral_intake", moments=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"
