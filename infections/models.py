"""Infections after CAR-T, the prophylaxis plan and the revaccination plan of a patient.

Both sites of the care team record and see them. The rules (what is due, what alerts, the
standard plan) are plain functions in `infections.rules`; the querysets here apply the same
due rule in SQL, so the work queue and the digest read it in one query each.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from carecoord.models.calendar import calendar_checks
from carecoord.models.deaths import alive
from infections.rules import DEFAULT_PLAN, DUE_DAYS, LIVE_FROM_DAY, Due, PlanDefaults, due_state
from referrals.day_zero import day_zero_subquery
from toxicity.timing import day_text, onset_day


class InfectionQuerySet(models.QuerySet["InfectionEvent"]):
    def with_day_zero(self) -> InfectionQuerySet:
        """With the patient's day 0 now, from which `day_label` counts: no query per event."""
        return self.annotate(day_zero=day_zero_subquery("patient_id"))


class InfectionEvent(models.Model):
    """An infection in a treated patient, recorded by either care-team site.

    Its severity is its CTCAE v5 grade (1 mild to 5 death). One that alerts (grade 3 and above,
    in the ICU, or fever while neutropenic: `rules.alert_reason`) is also recorded as a toxicity
    of kind infection, `toxicity_event`, which alerts the point persons with acknowledgement and
    escalation like every toxicity. Its day +N is derived from day 0 as it is now.
    """

    class BodySite(models.TextChoices):
        BLOODSTREAM = "bloodstream", "Bloodstream"
        LUNG = "lung", "Lung (pneumonia)"
        UPPER_RESPIRATORY = "upper_respiratory", "Upper respiratory tract"
        URINARY = "urinary", "Urinary tract"
        GI = "gi", "Gastrointestinal"
        SKIN = "skin", "Skin and soft tissue"
        CNS = "cns", "Central nervous system"
        OTHER = "other", "Other or unknown"

    class Category(models.TextChoices):
        BACTERIAL = "bacterial", "Bacterial"
        VIRAL = "viral", "Viral"
        FUNGAL = "fungal", "Fungal"
        UNKNOWN = "unknown", "Unknown"

    class Setting(models.TextChoices):
        OUTPATIENT = "outpatient", "Outpatient"
        ED = "ed", "Emergency department"
        WARD = "ward", "Ward"
        ICU = "icu", "Intensive care unit"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="infections")
    reporting_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body_site = models.CharField(max_length=32, choices=BodySite.choices)
    organism = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.UNKNOWN)
    grade = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    setting = models.CharField(max_length=16, choices=Setting.choices)
    neutropenic_fever = models.BooleanField(default=False)
    onset_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    toxicity_event = models.OneToOneField(
        "toxicity.ToxicityEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="infection"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InfectionQuerySet.as_manager()

    class Meta:
        ordering = ["-onset_on", "-pk"]
        constraints = [
            *calendar_checks(
                "infection_event", dates=["onset_on", "resolved_on"], moments=["created_at", "updated_at"]
            ),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=5), name="infection_event_grade_1_to_5"),
        ]
        indexes = [models.Index(fields=["patient", "-onset_on"])]

    def __str__(self) -> str:
        return f"{self.get_body_site_display()} infection grade {self.grade}"

    @property
    def day_label(self) -> str:
        """Day +N of the onset from day 0: annotated by `with_day_zero()`, "" otherwise or without one."""
        return day_text(onset_day(self.__dict__.get("day_zero"), self.onset_on))

    @property
    def organism_text(self) -> str:
        category = self.get_category_display().lower()
        return f"{self.organism} ({category})" if self.organism else f"organism {category}"


class ProphylaxisQuerySet(models.QuerySet["ProphylaxisItem"]):
    def active(self) -> ProphylaxisQuerySet:
        return self.filter(stopped_on__isnull=True)

    def due_by(self, today: dt.date) -> ProphylaxisQuerySet:
        """Items not stopped whose planned stop (or review) falls within `DUE_DAYS` of
        `today` or has passed (`rules.due_state` in SQL), of patients alive."""
        return self.active().filter(alive(), planned_stop_on__lte=today + dt.timedelta(days=DUE_DAYS))


class ProphylaxisItem(models.Model):
    """One line of a patient's prophylaxis plan: what, from when, until when or what.

    `planned_stop_on` is when the stop is decided (stopped, or extended with a later date); the
    stop condition says what decides it ("until CD4 > 200/µL"). Stopping records `stopped_on`.
    """

    class Kind(models.TextChoices):
        ANTIVIRAL = "antiviral", "Antiviral (HSV/VZV)"
        PJP = "pjp", "PJP"
        ANTIFUNGAL = "antifungal", "Antifungal"
        ANTIBACTERIAL = "antibacterial", "Antibacterial"
        HEPATITIS_B = "hepatitis_b", "Hepatitis B"
        IVIG = "ivig", "IVIG"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="prophylaxis")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    agent = models.CharField(max_length=200)
    start_on = models.DateField()
    planned_stop_on = models.DateField(null=True, blank=True)
    stop_condition = models.CharField(max_length=300, blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProphylaxisQuerySet.as_manager()

    class Meta:
        ordering = ["start_on", "pk"]
        constraints = calendar_checks(
            "prophylaxis_item",
            dates=["start_on", "planned_stop_on", "stopped_on"],
            moments=["created_at", "updated_at"],
        )
        indexes = [
            models.Index(fields=["planned_stop_on"], condition=Q(stopped_on__isnull=True), name="prophylaxis_open")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.agent}"

    def due(self, today: dt.date) -> Due | None:
        return due_state(self.planned_stop_on, today, done=self.stopped_on is not None)

    @property
    def plan_line(self) -> str:
        """The item as one line of text (the hand-off, the digest)."""
        until = f"planned stop {self.planned_stop_on:%d %b %Y}" if self.planned_stop_on else "no stop date"
        line = f"{self.get_kind_display()}: {self.agent}, from {self.start_on:%d %b %Y}, {until}"
        if self.stop_condition:
            line += f" ({self.stop_condition.rstrip('.')})"
        if self.stopped_on:
            line += f"; stopped {self.stopped_on:%d %b %Y}"
        return line


class VaccinationQuerySet(models.QuerySet["VaccinationItem"]):
    def due_by(self, today: dt.date) -> VaccinationQuerySet:
        """Vaccines not given whose date falls within `DUE_DAYS` of `today` or has passed, of
        patients alive."""
        return self.filter(alive(), given_on__isnull=True, due_on__lte=today + dt.timedelta(days=DUE_DAYS))


class VaccinationItem(models.Model):
    """One vaccine of a patient's revaccination plan: when it is due, when it was given."""

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="vaccinations")
    vaccine = models.CharField(max_length=120)
    live = models.BooleanField(default=False)
    due_on = models.DateField()
    given_on = models.DateField(null=True, blank=True)
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VaccinationQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = calendar_checks(
            "vaccination_item", dates=["due_on", "given_on"], moments=["created_at", "updated_at"]
        )
        indexes = [models.Index(fields=["due_on"], condition=Q(given_on__isnull=True), name="vaccination_open")]

    def __str__(self) -> str:
        return self.vaccine

    def due(self, today: dt.date) -> Due | None:
        return due_state(self.due_on, today, done=self.given_on is not None)


class ProphylaxisDefaults(models.Model):
    """A treating center's own prevention plan, where its policy differs from the consensus
    defaults (`infections.rules.PlanDefaults`): what the plan proposed for its patients holds.
    Nothing is applied by itself; a clinician still confirms or edits every line. Without a row,
    the defaults hold. A live vaccine is never proposed before 1 year, whatever is set here."""

    site = models.OneToOneField(
        "carecoord.Site", on_delete=models.CASCADE, primary_key=True, related_name="prophylaxis_defaults"
    )
    antiviral_agent = models.CharField(max_length=200, default=DEFAULT_PLAN.antiviral_agent)
    antiviral_months = models.PositiveSmallIntegerField(
        default=DEFAULT_PLAN.antiviral_months,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Months after the infusion (from lymphodepletion); the consensus default is 12.",
    )
    pjp_agent = models.CharField("PJP agent", max_length=200, default=DEFAULT_PLAN.pjp_agent)
    pjp_from_day = models.PositiveSmallIntegerField(
        "PJP from day +",
        default=DEFAULT_PLAN.pjp_from_day,
        validators=[MaxValueValidator(180)],
        help_text="Day +N after the infusion (or count recovery); the consensus default is about day +30.",
    )
    pjp_months = models.PositiveSmallIntegerField(
        "PJP months",
        default=DEFAULT_PLAN.pjp_months,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="At least this long, and until CD4 > 200/µL; the consensus default is 6.",
    )
    antifungal_agent = models.CharField(max_length=200, default=DEFAULT_PLAN.antifungal_agent)
    hepatitis_b_agent = models.CharField(max_length=200, default=DEFAULT_PLAN.hepatitis_b_agent)
    ivig_agent = models.CharField("IVIG", max_length=200, default=DEFAULT_PLAN.ivig_agent)
    inactivated_vaccines_from_day = models.PositiveSmallIntegerField(
        "inactivated vaccines from day +",
        default=DEFAULT_PLAN.inactivated_vaccines_from_day,
        validators=[MinValueValidator(90), MaxValueValidator(730)],
        help_text="The consensus default is about day +180.",
    )
    live_vaccines_from_day = models.PositiveSmallIntegerField(
        "live vaccines from day +",
        default=DEFAULT_PLAN.live_vaccines_from_day,
        validators=[MinValueValidator(LIVE_FROM_DAY), MaxValueValidator(1095)],
        help_text="Not before 1 year (day +365), and then only with immune recovery.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "prophylaxis defaults"
        verbose_name_plural = "prophylaxis defaults"
        constraints = [
            models.CheckConstraint(
                condition=Q(live_vaccines_from_day__gte=LIVE_FROM_DAY), name="prophylaxis_defaults_live_after_a_year"
            )
        ]

    def __str__(self) -> str:
        return f"Prophylaxis defaults of {self.site}"

    def plan(self) -> PlanDefaults:
        return PlanDefaults(
            antiviral_agent=self.antiviral_agent,
            antiviral_months=self.antiviral_months,
            pjp_agent=self.pjp_agent,
            pjp_from_day=self.pjp_from_day,
            pjp_months=self.pjp_months,
            antifungal_agent=self.antifungal_agent,
            hepatitis_b_agent=self.hepatitis_b_agent,
            ivig_agent=self.ivig_agent,
            inactivated_vaccines_from_day=self.inactivated_vaccines_from_day,
            live_vaccines_from_day=self.live_vaccines_from_day,
            set_by=self.site.name,
        )
