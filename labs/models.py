from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from carecoord.models.calendar import calendar_checks
from labs.kinds import KINDS, LabKind, value_text
from labs.thresholds import DEFAULT_FLAG_BELOW, FlagThresholds, flag_reason


class LabResult(models.Model):
    """One laboratory value of a patient, measured at a care-team site on a day.

    Stored in its kind's canonical unit (`labs.kinds.KINDS`), with the value and unit as they
    were entered kept beside it. `flagged` is set once, when recorded, against the threshold of
    the patient's treating center (`labs.thresholds`), kept in `flag_below`; a flagged value's
    point persons are notified then (`LabFlagNotice`).
    The same value of the same kind, day and site is one result: entering it again changes
    nothing (a double submission, a file uploaded twice).
    """

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="lab_results")
    kind = models.CharField(max_length=16, choices=LabKind.choices)
    value = models.FloatField(help_text="In the kind's canonical unit (see `unit`).")
    unit = models.CharField(max_length=16)
    entered_value = models.FloatField()
    entered_unit = models.CharField(max_length=32)
    taken_on = models.DateField(help_text="The day the sample was taken, at the measuring site.")
    site = models.ForeignKey(
        "carecoord.Site", on_delete=models.PROTECT, related_name="+", help_text="The site that measured it."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flagged = models.BooleanField(default=False)
    flag_below = models.FloatField(
        null=True,
        blank=True,
        help_text="The value it was compared with when recorded (canonical unit); empty for a kind never flagged.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_on", "pk"]
        constraints = [
            *calendar_checks("lab_result", dates=["taken_on"], moments=["created_at"]),
            models.CheckConstraint(condition=Q(value__gte=0), name="lab_result_value_not_negative"),
            models.UniqueConstraint(
                fields=["patient", "kind", "taken_on", "site", "value"], name="lab_result_once_per_day_and_site"
            ),
        ]
        indexes = [models.Index(fields=["patient", "kind", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value_text} on {self.taken_on:%Y-%m-%d}"

    @property
    def value_text(self) -> str:
        return value_text(self.kind, self.value)

    @property
    def entered_text(self) -> str:
        return f"{self.entered_value:g} {self.entered_unit}"

    @property
    def flag_reason(self) -> str:
        return flag_reason(self.kind, self.flag_below) if self.flagged and self.flag_below is not None else ""

    @property
    def long_name(self) -> str:
        return KINDS[self.kind].long_name


def _below(kind: str, help_text: str) -> models.FloatField[float, float]:
    return models.FloatField(
        f"flag {LabKind(kind).label} below",
        default=DEFAULT_FLAG_BELOW[kind],
        validators=[MinValueValidator(0.01)],
        help_text=f"{help_text} In {KINDS[kind].unit}; the consensus default is "
        f"{value_text(kind, DEFAULT_FLAG_BELOW[kind])}.",
    )


class LabFlagThresholds(models.Model):
    """A treating center's own values below which its patients' results are flagged the same
    day, where its policy differs from the consensus defaults (`labs.thresholds`). They hold
    for the center's patients whichever care-team site measures the value. Without a row, the
    defaults hold."""

    site = models.OneToOneField(
        "carecoord.Site", on_delete=models.CASCADE, primary_key=True, related_name="lab_flag_thresholds"
    )
    anc_below = _below(LabKind.ANC, "Neutropenia.")
    platelets_below = _below(LabKind.PLATELETS, "Thrombocytopenia.")
    hemoglobin_below = _below(LabKind.HEMOGLOBIN, "Anemia.")
    igg_below = _below(LabKind.IGG, "Hypogammaglobulinemia (consider IVIG).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "lab flag thresholds"
        verbose_name_plural = "lab flag thresholds"

    def __str__(self) -> str:
        return f"Lab flag thresholds of {self.site}"

    def thresholds(self) -> FlagThresholds:
        below = {
            LabKind.ANC: self.anc_below,
            LabKind.PLATELETS: self.platelets_below,
            LabKind.HEMOGLOBIN: self.hemoglobin_below,
            LabKind.IGG: self.igg_below,
        }
        return FlagThresholds(below={str(kind): value for kind, value in below.items()}, set_by=self.site.name)


class LabFlagNoticeQuerySet(models.QuerySet["LabFlagNotice"]):
    def unacknowledged(self) -> LabFlagNoticeQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class LabFlagNotice(models.Model):
    """A point person told of a flagged result, with the email that told them (once per person).

    Acknowledged ("seen") in the app: one person's acknowledgement covers their site's open
    notices of the patient. The recording site's are acknowledged at once by whoever recorded.
    """

    result = models.ForeignKey(LabResult, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, help_text="Primary, backup, or coordinator where the site names no primary.")
    # One email tells a person of every value flagged in one entry: several notices share it.
    email = models.ForeignKey(
        "carecoord.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = LabFlagNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["recipient", "acknowledged_at"], name="lab_flag_notice_inbox")]
        constraints = [
            *calendar_checks("lab_flag_notice", moments=["created_at", "acknowledged_at"]),
            models.UniqueConstraint(fields=["result", "recipient"], name="lab_flag_notice_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.result} to {self.recipient}"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None
