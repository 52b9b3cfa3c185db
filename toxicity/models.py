from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models


class ToxicityKind(models.TextChoices):
    CRS = "crs", "Cytokine release syndrome (CRS)"
    ICANS = "icans", "Immune effector cell-associated neurotoxicity (ICANS)"
    INFECTION = "infection", "Infection"
    CYTOPENIA = "cytopenia", "Cytopenia"
    HYPOGAMMAGLOBULINEMIA = "hypogammaglobulinemia", "Hypogammaglobulinemia"
    IEC_HS = "iec_hs", "IEC-associated HLH-like syndrome (IEC-HS)"
    TUMOR_LYSIS = "tumor_lysis", "Tumor lysis syndrome"
    CARDIAC = "cardiac", "Cardiac event"
    OTHER_NEUROTOXICITY = "other_neurotoxicity", "Other neurotoxicity (parkinsonism, GBS, cranial nerve palsy)"
    SECONDARY_MALIGNANCY = "secondary_malignancy", "Secondary malignancy"
    OTHER = "other", "Other"


# CRS and ICANS are graded by the ASTCT consensus from a structured assessment; the rest by CTCAE.
ASTCT_KINDS = frozenset({ToxicityKind.CRS, ToxicityKind.ICANS})


class ToxicityEvent(models.Model):
    """A toxicity in a treated patient, recorded by either care-team site.

    The grade is the latest assessment's; `highest_grade` keeps the worst so far. Each
    assessment is kept (`ToxicityAssessment`), so the course of the grade can be read back.
    An event unusual for its timing (CRS first reported after day +14) is flagged with why.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RESOLVED = "resolved", "Resolved"

    class Outcome(models.TextChoices):
        ONGOING = "ongoing", "Ongoing"
        RECOVERED = "recovered", "Recovered"
        RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered with sequelae"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="toxicities")
    kind = models.CharField(max_length=32, choices=ToxicityKind.choices)
    onset_at = models.DateTimeField()
    onset_day = models.IntegerField(null=True, blank=True, help_text="Day after infusion (day +N), if infused.")
    reporting_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    highest_grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    grade_reason = models.TextField(blank=True)
    atypical_reason = models.TextField(blank=True, help_text="Why the timing is unusual; empty when typical.")
    infection_site = models.CharField(max_length=120, blank=True)
    organism = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    resolved_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, default=Outcome.ONGOING)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-onset_at", "-pk"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} grade {self.grade}"

    @property
    def grading_system(self) -> str:
        return "ASTCT" if self.kind in ASTCT_KINDS else "CTCAE"


class ToxicityAssessment(models.Model):
    """One grading of an event: the structured inputs (CRS, ICANS) or the CTCAE grade given."""

    event = models.ForeignKey(ToxicityEvent, on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    reason = models.TextField(blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["assessed_at", "pk"]

    def __str__(self) -> str:
        return f"grade {self.grade} at {self.assessed_at:%Y-%m-%d %H:%M}"

    @property
    def ice_items_summary(self) -> str:
        """The ICE items behind the score, for display, when they were entered one by one."""
        items = self.inputs.get("ice_items") if isinstance(self.inputs, dict) else None
        if not isinstance(items, dict):
            return ""

        def done(name: str) -> str:
            return "yes" if items.get(name) else "no"

        return (
            f"ICE items: orientation {items.get('orientation')}/4, naming {items.get('naming')}/3, "
            f"follows commands {done('follows_commands')}, writes a sentence {done('writes_sentence')}, "
            f"counts backwards {done('counts_backwards')}"
        )


class ToxicityTreatment(models.Model):
    """A treatment given for the event (tocilizumab dose, steroids, anakinra, ICU transfer...)."""

    class Kind(models.TextChoices):
        TOCILIZUMAB = "tocilizumab", "Tocilizumab"
        CORTICOSTEROID = "corticosteroid", "Corticosteroids"
        ANAKINRA = "anakinra", "Anakinra"
        ICU_TRANSFER = "icu_transfer", "ICU transfer"
        ANTIMICROBIAL = "antimicrobial", "Antimicrobials"
        OTHER = "other", "Other"

    event = models.ForeignKey(ToxicityEvent, on_delete=models.CASCADE, related_name="treatments")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    given_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True, help_text="Dose, drug or unit, e.g. 8 mg/kg IV.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["given_at", "pk"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Alert(models.Model):
    """A same-day alert about an event to one point person, acknowledged in the app or by email.

    Written in the transaction of the change that caused it, with its email as an outbox row.
    Unacknowledged past `escalate_at`, it escalates once to the site's backup and coordinators.
    """

    class Reason(models.TextChoices):
        RECORDED = "recorded", "New toxicity"
        GRADE_ROSE = "grade_rose", "Grade rose"
        RESOLVED = "resolved", "Resolved"
        ESCALATED = "escalated", "Escalated: not acknowledged"

    event = models.ForeignKey(ToxicityEvent, on_delete=models.CASCADE, related_name="alerts")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    grade = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email = models.OneToOneField("carecoord.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "acknowledged_at"]),
            models.Index(fields=["escalate_at", "escalated_at", "acknowledged_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} to {self.recipient}"
