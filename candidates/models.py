from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from candidates.drug_classes import class_names, validate_drug_classes
from carecoord.models.calendar import calendar_checks
from carecoord.models.patients import DiseaseArea

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


class IndicationRule(models.Model):
    """One labelled use of a product: when a patient of a disease area becomes a candidate.

    Kept as data a site administrator edits in the admin when a label changes, each with its
    source and date (docs/clinical-rules.md#candidates). The conditions are read by
    `candidates.matching`: the lines, the classes received, the age range and the transplant
    requirement must all hold; the disease-status conditions (refractoriness, a relapse within
    N months of the first line, a number of relapses, relapsed or refractory) are alternatives,
    any one of which suffices, as the labels word them. Retire a rule with `is_active`.
    """

    class RefractoryTo(models.TextChoices):
        NOTHING = "", "Not required"
        ANY_LINE = "any_line", "Refractory to any line"
        FIRST_LINE = "first_line", "Refractory to the first line"
        LENALIDOMIDE = "lenalidomide", "Lenalidomide-refractory"

    product = models.ForeignKey("carecoord.Product", on_delete=models.PROTECT, related_name="indication_rules")
    disease_area = models.CharField(max_length=32, choices=DiseaseArea.choices)
    summary = models.CharField(max_length=300, help_text="The labelled use in words, as the label puts it.")
    min_prior_lines = models.PositiveSmallIntegerField(
        "minimum prior lines", default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_LINES)]
    )
    required_classes = models.JSONField(
        "required prior drug classes",
        default=list,
        blank=True,
        validators=[validate_drug_classes],
        help_text="Received in any line.",
    )
    refractory_to = models.CharField(
        max_length=16, choices=RefractoryTo.choices, default=RefractoryTo.NOTHING, blank=True
    )
    relapse_within_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="A relapse within this many months of the end of the first line qualifies.",
    )
    min_relapses = models.PositiveSmallIntegerField(
        "relapses", null=True, blank=True, validators=[MinValueValidator(1)], help_text="e.g. 2 for a second relapse."
    )
    relapsed_or_refractory = models.BooleanField(default=False, help_text="Any relapse or refractoriness qualifies.")
    min_age = models.PositiveSmallIntegerField("minimum age (years)", null=True, blank=True)
    max_age = models.PositiveSmallIntegerField("maximum age (years)", null=True, blank=True, help_text="Included.")
    requires_transplant_ineligible = models.BooleanField(
        "only when not a transplant candidate",
        default=False,
        help_text="Transplant candidacy is read by no other rule: it never counts against a patient.",
    )
    label_source = models.CharField(max_length=300, help_text="The label (prescribing information) this comes from.")
    label_date = models.CharField(
        max_length=100, help_text="The label's date, e.g. April 2024, or when it was last checked."
    )
    is_active = models.BooleanField(default=True, help_text="Retired rules prompt nothing.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["disease_area", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=F("max_age")),
                name="indication_rule_age_range",
            ),
            models.CheckConstraint(condition=Q(min_prior_lines__gte=1), name="indication_rule_at_least_one_line"),
        ]

    def __str__(self) -> str:
        return f"{self.product.brand_name}: {self.get_disease_area_display()}, {self.summary}"

    def clean(self) -> None:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValidationError({"max_age": "The maximum age cannot be below the minimum."})


class CandidateStanding(models.Model):
    """The cached answer of `candidates.matching` for each patient with a recorded line of
    therapy: whether they meet a labelled use or are one step from one today (`standing`, blank
    for neither), and the day their history, as it stood then, first met one (`first_met_on`,
    `candidates.first_met`). What the dashboard's filter and badge and the metrics' time from
    criterion to referral read, so that each is one indexed query whatever the number of
    patients. Derived, never edited: rewritten (`candidates.standings`) when the patient's
    history, transplant candidacy, disease area or date of birth, or a rule or product changes,
    and hourly as days pass (a relapse window closes, a birthday comes). Patients with no line
    have no row. `referred`: a referral was submitted (the filter lists whom to refer). The
    patient page and the API assess afresh, with the reasons."""

    class Standing(models.TextChoices):
        MEETS = "meets", "Meets a labelled use"
        APPROACHING = "approaching", "One step from a labelled use"

    patient = models.OneToOneField(
        "carecoord.Patient", on_delete=models.CASCADE, primary_key=True, related_name="candidate_standing"
    )
    standing = models.CharField(max_length=16, choices=Standing.choices, blank=True)
    products = models.JSONField(default=list, help_text="The products of the rules met, else approached.")
    as_of = models.DateField(help_text="The day it was assessed for, at the site that recorded the history.")
    first_met_on = models.DateField(
        null=True, blank=True, help_text="The first day the history, as it stood then, met a labelled use."
    )
    referred = models.BooleanField(default=False, help_text="A referral was submitted, whatever became of it.")

    class Meta:
        # The dashboard's filter reads the patients not referred yet: a few, in a network of many.
        indexes = [models.Index(fields=["referred", "standing"], name="candidate_to_refer_idx")]

    def __str__(self) -> str:
        return f"{self.get_standing_display() or 'Neither'}: {', '.join(self.products)}"
