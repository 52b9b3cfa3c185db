from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from candidates.drug_classes import class_names, validate_drug_classes
from carecoord.models.calendar import calendar_checks

MAX_LINES = 20


class BestResponse(models.TextChoices):
    COMPLETE = "complete", "Complete response"
    VERY_GOOD_PARTIAL = "very_good_partial", "Very good partial response"
    PARTIAL = "partial", "Partial response"
    STABLE = "stable", "Stable disease"
    PROGRESSIVE = "progressive", "Progressive disease"
    NOT_ASSESSED = "not_assessed", "Not assessed yet"


class TherapyLine(models.Model):
    """One line of systemic therapy a patient received, as the practice records it.

    A line is numbered from 1 per patient; an autologous transplant given as part of a line
    (induction, transplant, maintenance) is one of its drug classes, not a line of its own.
    `refractory` follows the usual definition: no response to the line, or progression on it
    or within 60 days of its last dose. `lenalidomide` says the line included lenalidomide, so
    that a refractory line with lenalidomide makes the patient lenalidomide-refractory (the
    myeloma labels name that drug, not its class). `progressed_on` is the date of the relapse or
    progression that ended the line's benefit.
    """

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="therapy_lines")
    number = models.PositiveSmallIntegerField(
        "line", validators=[MinValueValidator(1), MaxValueValidator(MAX_LINES)], help_text="1 for the first line."
    )
    regimen = models.CharField(max_length=200, help_text="As written in the chart, e.g. VRd, R-CHOP.")
    drug_classes = models.JSONField(default=list, validators=[validate_drug_classes])
    lenalidomide = models.BooleanField("included lenalidomide", default=False)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True, help_text="Empty while the line goes on.")
    best_response = models.CharField(max_length=32, choices=BestResponse.choices, default=BestResponse.NOT_ASSESSED)
    refractory = models.BooleanField(
        default=False, help_text="No response, or progression on the line or within 60 days of its last dose."
    )
    progressed_on = models.DateField(
        "relapse or progression on", null=True, blank=True, help_text="Empty if the disease has not progressed."
    )
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "number"]
        constraints = [
            *calendar_checks("therapy_line", dates=["started_on", "ended_on", "progressed_on"], moments=["created_at"]),
            models.UniqueConstraint(fields=["patient", "number"], name="one_therapy_line_per_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=MAX_LINES), name="therapy_line_number_in_range"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="therapy_line_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(progressed_on__isnull=True) | Q(progressed_on__gte=F("started_on")),
                name="therapy_line_progresses_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Line {self.number}: {self.regimen}"

    @property
    def class_names(self) -> str:
        return class_names(self.drug_classes)


class TransplantCandidacy(models.Model):
    """Whether the patient is a candidate for a stem-cell transplant, and why. Never a reason
    against CAR-T: one labelled use asks for a patient who is not a transplant candidate."""

    class Status(models.TextChoices):
        YES = "yes", "Transplant candidate"
        NO = "no", "Not a transplant candidate"
        UNKNOWN = "unknown", "Not decided"

    patient = models.OneToOneField(
        "carecoord.Patient", on_delete=models.CASCADE, primary_key=True, related_name="transplant_candidacy"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    reason = models.CharField(max_length=300, blank=True, help_text="e.g. age, comorbidity, the patient's choice.")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "transplant candidacies"
        constraints = calendar_checks("transplant_candidacy", moments=["updated_at"])

    def __str__(self) -> str:
        return self.get_status_display()
