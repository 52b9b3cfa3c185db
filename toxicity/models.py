from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q

from carecoord.models.calendar import calendar_checks
from referrals.day_zero import day_zero_of, day_zero_subquery
from toxicity.kinds import ASTCT_KINDS, ToxicityKind, death_cause_of
from toxicity.measured import measured, reason_statements
from toxicity.timing import day_text, onset_day, timing_flag

__all__ = [
    "ASTCT_KINDS",
    "FEVER_MASKING",
    "Alert",
    "ManufacturerReport",
    "ToxicityAssessment",
    "ToxicityEvent",
    "ToxicityKind",
    "ToxicityTreatment",
]


class ToxicityEventQuerySet(models.QuerySet["ToxicityEvent"]):
    def active(self) -> ToxicityEventQuerySet:
        """Events not resolved yet: the episodes still going on, which are reassessed, not recorded
        again."""
        return self.filter(status=ToxicityEvent.Status.ACTIVE)

    def with_timing(self) -> ToxicityEventQuerySet:
        """With what `onset_day` and `atypical_reason` are derived from: the patient's day 0 now,
        and whether a CRS of the patient began earlier since that day 0 (then this one recurs)."""
        earlier = earlier_crs(OuterRef("patient"), OuterRef("onset_at"), OuterRef("day_zero"))
        return self.annotate(day_zero=day_zero_subquery("patient_id")).annotate(follows_crs=Exists(earlier))


def earlier_crs(patient: Any, onset_at: Any, day_zero: Any) -> models.QuerySet[ToxicityEvent]:
    """CRS events of `patient` that began before `onset_at` and on or after `day_zero`: a CRS
    after one of these is a recurrence, not a first onset."""
    return ToxicityEvent.objects.filter(
        patient=patient, kind=ToxicityKind.CRS, onset_at__lt=onset_at, onset_at__date__gte=day_zero
    )


# Grade 5 is death in every grading system (ASTCT, CTCAE).
FATAL_GRADE = 5


def fatal_event() -> Q:
    """`ToxicityEvent.fatal` as a condition: the patient died of it (its outcome), or it was
    graded 5 at an assessment."""
    return Q(outcome="fatal") | Q(highest_grade=FATAL_GRADE)


class ToxicityEvent(models.Model):
    """A toxicity in a treated patient, recorded by either care-team site.

    The grade is the latest assessment's; `highest_grade` keeps the worst so far. Each
    assessment is kept (`ToxicityAssessment`), so the course of the grade can be read back.
    Its day +N and any flag on its timing (a first CRS after day +14, a CRS before day 0) are
    derived from the patient's day 0 as it is now (`toxicity.timing`), so they follow the
    infusion when it moves; read events through `with_timing()` to have them without a query.
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
    reporting_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    highest_grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    grade_reason = models.TextField(blank=True)
    infection_site = models.CharField(max_length=120, blank=True)
    organism = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    resolved_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, default=Outcome.ONGOING)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ToxicityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-onset_at", "-pk"]
        constraints = calendar_checks(
            "toxicity_event", dates=["resolved_on"], moments=["onset_at", "created_at", "updated_at"]
        )
        indexes = [
            models.Index(fields=["patient", "status"]),
            # The lists read newest first, a page at a time: walked in this order, not sorted whole.
            models.Index(fields=["-onset_at", "-id"], name="toxicity_event_newest_first"),
            # The work queue's malignancies to report: a few events among every toxicity, oldest
            # first (without it, every dashboard scanned the whole table for them).
            models.Index(
                fields=["onset_at", "id"],
                condition=models.Q(kind=ToxicityKind.SECONDARY_MALIGNANCY),
                name="toxicity_malignancy_by_onset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} grade {self.grade}"

    @property
    def fatal(self) -> bool:
        """The patient died of it: its outcome, or a grade 5 (death) at an assessment."""
        return self.outcome == self.Outcome.FATAL or self.highest_grade == FATAL_GRADE

    @property
    def death_cause(self) -> str:
        """The primary cause of death it is, for the record of the patient's death."""
        return death_cause_of(self.kind).value

    @property
    def reason_statements(self) -> list[str]:
        """Why it has its grade, each statement once (`toxicity.measured.reason_statements`)."""
        return reason_statements(self.grade_reason)

    @property
    def grading_system(self) -> str:
        return "ASTCT" if self.kind in ASTCT_KINDS else "CTCAE"

    def _timing(self) -> tuple[dt.date | None, bool]:
        """Day 0 and whether a CRS came before: annotated by `with_timing()`, else read once (one
        query, and a second for a CRS after day 0: only a CRS recurs, see `toxicity.timing`)."""
        loaded = self.__dict__
        if "day_zero" not in loaded:
            loaded["day_zero"] = day_zero_of(self.patient_id)
            loaded["follows_crs"] = (
                self.kind == ToxicityKind.CRS
                and loaded["day_zero"] is not None
                and earlier_crs(self.patient_id, self.onset_at, loaded["day_zero"]).exists()
            )
        return loaded["day_zero"], bool(loaded["follows_crs"])

    @property
    def onset_date(self) -> dt.date:
        """The day of onset where it was recorded."""
        return self.reporting_site.date_of(self.onset_at)

    @property
    def onset_day(self) -> int | None:
        """Day +N of the onset from the patient's day 0; None before an infusion is planned."""
        return onset_day(self._timing()[0], self.onset_date)

    @property
    def day_label(self) -> str:
        return day_text(self.onset_day)

    @property
    def atypical_reason(self) -> str:
        """Why the timing is unusual (CRS before day 0, a first CRS after day +14), or ""."""
        day_zero, follows_crs = self._timing()
        return timing_flag(self.kind, onset_day(day_zero, self.onset_date), recurrence=follows_crs)


class ToxicityAssessment(models.Model):
    """One grading of an event: the structured inputs (CRS, ICANS) or the CTCAE grade given."""

    event = models.ForeignKey(ToxicityEvent, on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    reason = models.TextField(blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    fever_masked_by = models.ForeignKey(
        "ToxicityTreatment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The treatment after which fever was no longer required for this CRS grade.",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["assessed_at", "pk"]
        constraints = calendar_checks("toxicity_assessment", moments=["assessed_at"])

    def __str__(self) -> str:
        return f"grade {self.grade} at {self.assessed_at:%Y-%m-%d %H:%M}"

    @property
    def measured(self) -> list[tuple[str, str]]:
        """The inputs it was graded from, as (label, value) for display (`toxicity.measured`)."""
        return measured(self.inputs, masked_by_treatment=self.fever_masked_by_id is not None)

    @property
    def reason_statements(self) -> list[str]:
        return reason_statements(self.reason)

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
        SILTUXIMAB = "siltuximab", "Siltuximab"
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
        constraints = calendar_checks("toxicity_treatment", moments=["given_at"])

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def masks_fever(self) -> bool:
        """Anti-cytokine or steroid therapy: once given for CRS, fever is no longer required (ASTCT)."""
        return self.kind in FEVER_MASKING


# Treatments after which the ASTCT consensus grades CRS by hypotension and hypoxia alone.
FEVER_MASKING = frozenset(
    {
        ToxicityTreatment.Kind.TOCILIZUMAB,
        ToxicityTreatment.Kind.SILTUXIMAB,
        ToxicityTreatment.Kind.ANAKINRA,
        ToxicityTreatment.Kind.CORTICOSTEROID,
    }
)


class AlertQuerySet(models.QuerySet["Alert"]):
    def unacknowledged(self) -> AlertQuerySet:
        """Alerts nobody has acknowledged yet (`Alert.is_acknowledged`, in SQL)."""
        return self.filter(acknowledged_at__isnull=True)

    def acknowledged(self) -> AlertQuerySet:
        """Alerts someone has acknowledged (`Alert.is_acknowledged`, in SQL)."""
        return self.filter(acknowledged_at__isnull=False)

    def due_for_escalation(self, now: dt.datetime) -> AlertQuerySet:
        """Unacknowledged past their `escalate_at`, and not escalated yet."""
        return self.unacknowledged().filter(escalate_at__lte=now, escalated_at__isnull=True)

    def with_open_total(self, of: AlertQuerySet) -> AlertQuerySet:
        """Each alert with how many `of` holds (`open_total`), counted in the same statement (a
        subquery) as a page of them: the work queue's alerts give the header's count this way."""
        # COUNT as a plain function: one row counting them all, not a group by Django's rules,
        # and of no column, so that an index holding the rule's columns answers it alone.
        count = models.Func(template="COUNT(*)", output_field=models.IntegerField())
        total = of.order_by().annotate(total=count).values("total")
        return self.annotate(open_total=models.Subquery(total, output_field=models.IntegerField()))

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        """As Django's, each alert written with its event's patient (`Alert.patient`)."""
        alerts: list[Any] = list(objs)  # of `Alert`s (the stubs leave this queryset's model unbound)
        for alert in alerts:
            alert.take_patient_of_event()
        return super().bulk_create(alerts, *args, **kwargs)


class Alert(models.Model):
    """A same-day alert about an event to one person at a care-team site, acknowledged in the app.

    Written in the transaction of the change that caused it, with its email as an outbox row.
    Unacknowledged past `escalate_at`, it escalates once to the site's backup and coordinators.
    Alerts to the site that recorded the change are acknowledged at once by whoever recorded it.
    """

    class Reason(models.TextChoices):
        RECORDED = "recorded", "New toxicity"
        GRADE_ROSE = "grade_rose", "Grade rose"
        RESOLVED = "resolved", "Resolved"
        ESCALATED = "escalated", "Escalated: not acknowledged"

    class Role(models.TextChoices):
        """Why this person was alerted for the site."""

        PRIMARY = "primary", "Primary point person"
        BACKUP = "backup", "Backup point person"
        COORDINATOR = "coordinator", "Coordinator"

    event = models.ForeignKey(ToxicityEvent, on_delete=models.CASCADE, related_name="alerts")
    # The event's patient, written with the alert (`take_patient_of_event`): a person's alerts are
    # scoped to their patients on the alert's own columns, without reading every event.
    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="+", editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text="Coordinator: the site named no primary point person, or the alert escalated to them.",
    )
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
    acknowledged_on_recording = models.BooleanField(
        default=False, help_text="The site recorded the change itself: the person who did counts as having seen it."
    )
    email = models.OneToOneField("carecoord.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL)

    objects = AlertQuerySet.as_manager()
    # Set by `AlertQuerySet.with_open_total`: how many alerts its queryset holds. Not a column.
    open_total: int

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = calendar_checks("alert", moments=["created_at", "escalate_at", "escalated_at", "acknowledged_at"])
        indexes = [
            models.Index(fields=["escalate_at", "escalated_at", "acknowledged_at"]),
            # A recipient's alerts as the page and the API list them (unacknowledged, then the
            # latest acknowledged), a page at a time: walked in this order, not sorted whole.
            # Its prefix serves the header badge's count of the unacknowledged.
            models.Index(
                F("recipient"),
                F("acknowledged_at").desc(nulls_first=True),
                F("created_at").desc(),
                F("id").desc(),
                name="alert_inbox_order",
            ),
            # A recipient's alerts about the patients they see, counted on the index alone.
            models.Index(fields=["recipient", "patient"], name="alert_recipient_patient"),
            # A recipient's open alerts in the work queue's order (`QUEUE_ORDER`) with their
            # patient: walked until eleven the viewer sees are found, and counted, on the index
            # alone (joined first, the event and patient of every open alert were read: 161 for
            # someone of eight practices, to keep eleven).
            models.Index(
                fields=["recipient", "-grade", "created_at"],
                include=["patient"],
                condition=Q(acknowledged_at__isnull=True),
                name="alert_open_in_queue_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} to {self.recipient}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.take_patient_of_event()
        super().save(*args, **kwargs)

    def take_patient_of_event(self) -> None:
        """The one place an alert's `patient` is set: its event's, as the alert is written
        (`save`, `AlertQuerySet.bulk_create`); an event's patient never changes."""
        self.patient_id = self.event.patient_id

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class ManufacturerReport(models.Model):
    """That a secondary malignancy was reported to the product's manufacturer: when, by whom.

    Every CAR-T label asks for a new cancer after treatment to be reported to the manufacturer
    (FDA boxed warning on T-cell malignancies, April 2024; docs/clinical-rules.md#late-effects).
    One per event; an event of that kind without one is a pending report on the work queue.
    """

    event = models.OneToOneField(ToxicityEvent, on_delete=models.CASCADE, related_name="manufacturer_report")
    reported_at = models.DateTimeField(help_text="When the report was made.")
    reported_to = models.CharField(max_length=300, help_text="The manufacturer and route, as on the label.")
    reference = models.CharField(max_length=120, blank=True, help_text="The manufacturer's case number, if given.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = calendar_checks("manufacturer_report", moments=["reported_at", "created_at"])

    def __str__(self) -> str:
        return f"reported {self.reported_at:%Y-%m-%d}"


def needs_manufacturer_report(kind: str) -> bool:
    """A secondary malignancy is reported to the product's manufacturer (every CAR-T label)."""
    return kind == ToxicityKind.SECONDARY_MALIGNANCY
