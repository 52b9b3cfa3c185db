from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from carecoord.models.calendar import calendar_checks
from carecoord.models.patients import DiseaseArea
from referrals.workflow import OPEN_STATES, STATE_LABELS, State


def acknowledgement_overdue(now: dt.datetime | None = None) -> Q:
    """Submitted and not acknowledged by the center's deadline: the one rule, as a condition
    (`ReferralQuerySet.acknowledgement_overdue` filters by it, an API filter may exclude it)."""
    return Q(state=State.SUBMITTED, acknowledge_by__lt=now or timezone.now())


class ReferralQuerySet(models.QuerySet["Referral"]):
    def acknowledgement_overdue(self, now: dt.datetime | None = None) -> ReferralQuerySet:
        """Referrals whose center has not acknowledged them by the deadline (as of `now`)."""
        return self.filter(acknowledgement_overdue(now))


class Referral(models.Model):
    """A community practice asking an academic center to evaluate a patient for CAR-T.

    The referral is also the episode of care that follows: its milestones run from the
    consult through infusion (day 0) to long-term follow-up.

    The practice drafts, submits and may withdraw; the center acknowledges, reviews,
    schedules the consult and decides. A patient has at most one open referral per center.
    Transplant eligibility is recorded for the center's review and is never a reason to
    refuse: transplant-ineligible patients may still be CAR-T candidates
    (docs/clinical-rules.md#referrals).
    """

    class TransplantEligibility(models.TextChoices):
        ELIGIBLE = "eligible", "Transplant eligible"
        INELIGIBLE = "ineligible", "Transplant ineligible"
        UNKNOWN = "unknown", "Not assessed"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent (within a week)"
        EMERGENT = "emergent", "Emergent (within 48 hours)"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="referrals")
    from_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="referrals_sent")
    to_center = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="referrals_received")
    referring_physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    disease_area = models.CharField(max_length=32, choices=DiseaseArea.choices)
    prior_lines_of_therapy = models.PositiveSmallIntegerField(validators=[MaxValueValidator(20)])
    prior_therapies = models.TextField(blank=True, help_text="Regimens, dates and responses.")
    transplant_eligibility = models.CharField(
        max_length=16, choices=TransplantEligibility.choices, default=TransplantEligibility.UNKNOWN
    )
    performance_status = models.PositiveSmallIntegerField("ECOG performance status", validators=[MaxValueValidator(4)])
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = models.TextField("reason for referral")
    state = models.CharField(
        max_length=32, choices=[(s.value, label) for s, label in STATE_LABELS.items()], default=State.DRAFT
    )
    decline_reason = models.TextField(blank=True)
    product = models.ForeignKey(
        "carecoord.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The CAR-T product planned, once the center has chosen it.",
    )
    hand_back_day = models.PositiveSmallIntegerField(
        default=21, help_text="Planned day after infusion to hand the patient back (typically 14-30)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledge_by = models.DateTimeField(null=True, blank=True, help_text="Deadline for the center to acknowledge.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "to_center"],
                condition=Q(state__in=sorted(s.value for s in OPEN_STATES)),
                name="one_open_referral_per_patient_and_center",
            ),
            *calendar_checks(
                "referral",
                moments=["created_at", "submitted_at", "acknowledge_by", "acknowledged_at", "reminder_sent_at"],
            ),
        ]
        indexes = [
            models.Index(fields=["state", "acknowledge_by"]),
            # The lists read newest first, a page at a time: walked in this order, not sorted whole.
            models.Index(fields=["-created_at", "-id"], name="referral_newest_first"),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk} to {self.to_center}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_acknowledgement_overdue(self, now: dt.datetime | None = None) -> bool:
        """`acknowledgement_overdue` for one loaded referral."""
        return bool(
            self.state == State.SUBMITTED and self.acknowledge_by and self.acknowledge_by < (now or timezone.now())
        )


class ReferralDocument(models.Model):
    """A file attached to a referral for one item of the documentation checklist."""

    class Kind(models.TextChoices):
        PATHOLOGY = "pathology", "Pathology"
        IMAGING = "imaging", "Imaging"
        LABS = "labs", "Recent labs"
        HISTORY = "history", "History"
        PRIOR_THERAPIES = "prior_therapies", "Prior therapies"
        INSURANCE = "insurance", "Insurance"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    file = models.FileField(upload_to="referrals/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "uploaded_at"]
        constraints = calendar_checks("referral_document", moments=["uploaded_at"])

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class ReferralMove(models.Model):
    """One move of a referral: who made it, when, from which site (for the timeline)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="moves")
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = calendar_checks("referral_move", moments=["at"])

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class MilestoneQuerySet(models.QuerySet["Milestone"]):
    def infusions(self) -> MilestoneQuerySet:
        """Infusion milestones that count as a day 0: not cancelled, with a date; the current
        course (latest referral) first. See `referrals.day_zero`."""
        return (
            self.filter(kind=INFUSION_KIND, planned_on__isnull=False)
            .exclude(status=Milestone.Status.CANCELLED)
            .order_by("-referral_id")
        )

    def due_by(self, end: dt.date) -> MilestoneQuerySet:
        """Planned milestones not recorded, planned on or before `end` (the overdue too).

        Filtered on `OPEN_DUE_ON`, not on `planned_on`: PostgreSQL keeps statistics of that
        expression (migration 0007), so it knows that the few steps due are among the planned
        ones of the coming days, not a quarter of every step ever recorded (the estimate from
        the two columns' own statistics, which sent every list of steps due into a parallel
        hash join of all referrals)."""
        return self.filter(status=Milestone.Status.PLANNED).alias(open_due_on=OPEN_DUE_ON).filter(open_due_on__lte=end)

    def with_open_conflict(self) -> MilestoneQuerySet:
        """Planned milestones whose date conflicts with the course and nobody has confirmed it."""
        return self.filter(open_conflict())


def overdue_on(today: dt.date) -> Q:
    """`Milestone.is_overdue` as a condition: planned for a day before `today`."""
    return Q(status=Milestone.Status.PLANNED, planned_on__lt=today)


def open_conflict() -> Q:
    """`Milestone.has_open_conflict` as a condition: planned, with a conflict nobody confirmed
    (`MilestoneQuerySet.with_open_conflict` filters by it, the digest annotates it)."""
    return (
        Q(status=Milestone.Status.PLANNED) & ~Q(conflict_key="") & ~Q(conflict_key=models.F("conflict_confirmed_key"))
    )


# The day a step is due while it is planned, nothing once done or cancelled: what the lists of
# steps due filter on (`MilestoneQuerySet.due_by`), indexed and with statistics of its own.
OPEN_DUE_ON = Case(When(status="planned", then=F("planned_on")))

# `referrals.schedule.MilestoneKind.INFUSION`, which imports nothing from here.
INFUSION_KIND = "infusion"
# The date an infusion milestone makes day 0: the actual date once done, else the planned one.
DAY_ZERO = Coalesce("actual_on", "planned_on")


class Milestone(models.Model):
    """A step of the treatment with a planned and an actual date.

    Dates that depend on the infusion date are recomputed when it is set, moved or done on
    another date, unless someone entered the date by hand (`manual`), which is then kept. A
    date that no longer fits the course (a visit before day 0, a hand-back before the end of
    monitoring) carries its `conflict` until someone moves it or confirms it with a reason.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40)
    planned_on = models.DateField(null=True, blank=True)
    actual_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    manual = models.BooleanField(default=False, help_text="Planned date entered by hand: never recomputed.")
    given_at = models.ForeignKey(
        "carecoord.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where it takes place (e.g. bridging therapy at the community practice).",
    )
    note = models.TextField(blank=True, help_text="Written when the step was planned.")
    done_note = models.TextField(blank=True, help_text="Written when the step was marked done; the plan's note stays.")
    # Kept by `referrals.conflicts.refresh_conflicts` after every change to the course.
    conflict = models.CharField(max_length=300, blank=True, help_text="Why the date does not fit the course.")
    conflict_key = models.CharField(max_length=120, blank=True, editable=False)
    conflict_confirmed_key = models.CharField(max_length=120, blank=True, editable=False)
    conflict_confirmation = models.TextField(blank=True, help_text="Why the date stays despite its conflict.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["planned_on", "pk"]
        indexes = [
            # What is due or in conflict: a few planned steps among every step ever recorded.
            models.Index(fields=["planned_on"], condition=Q(status="planned"), name="milestone_planned_open"),
            # The same steps by `OPEN_DUE_ON`, which the lists of steps due filter on (`due_by`).
            models.Index(OPEN_DUE_ON, condition=Q(status="planned"), name="milestone_open_due_on"),
            models.Index(
                fields=["planned_on"],
                condition=Q(status="planned") & ~Q(conflict_key=""),
                name="milestone_conflict_open",
            ),
            # The metrics: the steps of one kind done (infused, collected, handed back...), by day.
            models.Index(
                fields=["kind", "actual_on"],
                include=["referral"],
                condition=Q(status="done"),
                name="milestone_done_by_kind",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="one_milestone_per_kind"),
            *calendar_checks("milestone", dates=["planned_on", "actual_on"], moments=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.kind

    @property
    def day_zero(self) -> dt.date | None:
        """For an infusion milestone, the date it makes day 0 (the rule of `DAY_ZERO`)."""
        return self.actual_on or self.planned_on

    def is_overdue(self, today: dt.date) -> bool:
        """Planned for a day before `today` and neither done nor cancelled."""
        return bool(self.status == self.Status.PLANNED and self.planned_on and self.planned_on < today)

    @property
    def has_open_conflict(self) -> bool:
        open_key = self.conflict_key and self.conflict_key != self.conflict_confirmed_key
        return bool(self.status == self.Status.PLANNED and open_key)

    @property
    def has_confirmed_conflict(self) -> bool:
        return bool(self.conflict_key and self.conflict_key == self.conflict_confirmed_key)


# A form left with errors may be corrected the next morning; after that the file is chosen again.
PENDING_UPLOAD_LIFETIME = dt.timedelta(days=1)


class PendingUploadQuerySet(models.QuerySet["PendingUpload"]):
    def usable_by(self, user: models.Model, now: dt.datetime | None = None) -> PendingUploadQuerySet:
        """The user's own pending uploads that the cleanup has not yet come for."""
        return self.filter(owner=user, created_at__gte=(now or timezone.now()) - PENDING_UPLOAD_LIFETIME)

    def stale(self, now: dt.datetime | None = None) -> PendingUploadQuerySet:
        return self.filter(created_at__lt=(now or timezone.now()) - PENDING_UPLOAD_LIFETIME)


class PendingUpload(models.Model):
    """A file chosen on a referral form that came back with errors, kept until the form saves.

    Only its uploader may attach it (`usable_by`); the beat task deletes it (row and file) a
    day later if the referral never saved.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to="referrals/pending/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PendingUploadQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="pending_upload_created")]
        constraints = calendar_checks("pending_upload", moments=["created_at"])

    def __str__(self) -> str:
        return self.original_name
