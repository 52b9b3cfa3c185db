from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from carecoord.models.patients import DiseaseArea

# The monitoring rules on the labels since the FDA removed the REMS on 26 June 2025
# (docs/clinical-rules.md#monitoring).
DEFAULT_MONITORING_DAYS = 14
DEFAULT_DAILY_MONITORING_DAYS = 7
DEFAULT_STAY_NEAR_CENTER_DAYS = 14
DEFAULT_NO_DRIVING_DAYS = 14


def validate_choice_list(value: Any, *, choices: list[str], noun: str, plural: str) -> None:
    """A list of distinct values among `choices` (stored as JSON: ArrayField needs contrib.postgres)."""
    if not isinstance(value, list):
        raise ValidationError(f"Enter a list of {plural}.", code="invalid")
    unknown = [item for item in value if item not in choices]
    if unknown:
        raise ValidationError(
            f"Not a known {noun}: %(unknown)s.",
            code=f"unknown_{noun.replace(' ', '_')}",
            params={"unknown": ", ".join(map(str, unknown))},
        )
    if len(set(value)) != len(value):
        raise ValidationError(f"Each {noun} may appear only once.", code="duplicate")


def validate_disease_areas(value: Any) -> None:
    """A list of distinct `DiseaseArea` values."""
    validate_choice_list(value, choices=DiseaseArea.values, noun="disease area", plural="disease areas")


class Product(models.Model):
    """An FDA-approved autologous CAR-T product, kept as data a site administrator edits.

    Indications change often, so disease areas and boxed warnings are plain data, not code
    (docs/clinical-rules.md#products). The four monitoring rules default to the label since June
    2025 (docs/clinical-rules.md#monitoring); a center may keep stricter local rules by raising
    them. Retire a product with `is_active` rather than deleting
    it, so that past records keep it.
    """

    class Target(models.TextChoices):
        CD19 = "cd19", "CD19"
        BCMA = "bcma", "BCMA"

    brand_name = models.CharField(max_length=100, unique=True)
    generic_name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=50, unique=True, help_text="The name clinicians use, e.g. axi-cel.")
    target = models.CharField(max_length=16, choices=Target.choices)
    disease_areas = models.JSONField(
        default=list,
        validators=[validate_disease_areas],
        help_text="The disease areas the product is indicated for.",
    )
    boxed_warnings = models.TextField(blank=True, help_text="One boxed warning per line, as on the label.")
    monitoring_days = models.PositiveSmallIntegerField(
        "monitoring (days)",
        default=DEFAULT_MONITORING_DAYS,
        validators=[MinValueValidator(1)],
        help_text="How long the patient is monitored after infusion.",
    )
    daily_monitoring_days = models.PositiveSmallIntegerField(
        "daily monitoring (days)",
        default=DEFAULT_DAILY_MONITORING_DAYS,
        validators=[MinValueValidator(1)],
        help_text="How long the patient is seen every day after infusion; part of the monitoring period.",
    )
    stay_near_center_days = models.PositiveSmallIntegerField(
        "stay near the center (days)",
        default=DEFAULT_STAY_NEAR_CENTER_DAYS,
        validators=[MinValueValidator(1)],
        help_text="How long the patient stays within about 2 hours of the treating center.",
    )
    no_driving_days = models.PositiveSmallIntegerField(
        "no driving (days)",
        default=DEFAULT_NO_DRIVING_DAYS,
        validators=[MinValueValidator(1)],
        help_text="How long the patient must not drive or operate hazardous machinery.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Retired products stay on past records; only active ones are offered for new referrals."
    )
    manufacturer = models.CharField(max_length=200, blank=True, help_text="The company that holds the license.")
    manufacturer_report_route = models.CharField(
        "how to report to the manufacturer",
        max_length=300,
        blank=True,
        help_text="Where a secondary malignancy (and any suspected adverse reaction) is reported, as on the label.",
    )

    class Meta:
        ordering = ["brand_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monitoring_days__gte=1)
                & Q(daily_monitoring_days__gte=1)
                & Q(stay_near_center_days__gte=1)
                & Q(no_driving_days__gte=1),
                name="product_monitoring_rules_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_monitoring_days__lte=F("monitoring_days")),
                name="product_daily_monitoring_within_monitoring",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand_name} ({self.short_name})"

    def clean(self) -> None:
        # Checked here as well as in the database so the form names the field to fix. A monitoring
        # period under a day is already reported on its own field.
        daily, whole = self.daily_monitoring_days, self.monitoring_days
        if isinstance(daily, int) and isinstance(whole, int) and whole >= 1 and daily > whole:
            raise ValidationError(
                {"daily_monitoring_days": "Daily monitoring cannot last longer than the whole monitoring period."}
            )

    @property
    def boxed_warning_list(self) -> list[str]:
        return [line.strip() for line in self.boxed_warnings.splitlines() if line.strip()]


class LateEffectWatchItem(models.Model):
    """A late effect to watch for after a product, from its label (a boxed warning or a warning).

    Kept as data a site administrator edits beside the product (docs/clinical-rules.md#late-effects):
    the timeline and the transition hand-off list the items of the patient's product.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="watch_items")
    name = models.CharField(max_length=200)
    typical_timing = models.CharField(max_length=200, blank=True, help_text="When it usually appears after infusion.")
    action = models.TextField("what to do or report", help_text="What the clinician who sees it does.")
    boxed_warning = models.BooleanField(default=False, help_text="A boxed warning on the label.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["product", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="unique_watch_item_per_product")]

    def __str__(self) -> str:
        return self.name

    @property
    def line(self) -> str:
        """One line for a hand-off or a list: the name, its timing and what to do."""
        timing = f" ({self.typical_timing})" if self.typical_timing else ""
        return f"{self.name}{timing}: {self.action}"
