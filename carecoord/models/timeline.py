from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from carecoord.models.calendar import calendar_checks


class TimelineEntry(models.Model):
    """One thing that happened in a patient's care, as both sites see it on the shared timeline.

    The service that makes something happen (a referral move, a milestone done, a comment,
    later a toxicity or a hand-off) writes its entry in the same transaction, so the
    timeline is one indexed query whatever the number of apps contributing to it.
    """

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral"
        MILESTONE = "milestone", "Milestone"
        COMMENT = "comment", "Comment"
        CARE_TEAM = "care_team", "Care team"
        TOXICITY = "toxicity", "Toxicity"
        HANDOFF = "handoff", "Hand-off"
        INFECTION = "infection", "Infection"
        EDUCATION = "education", "Education"
        LAB = "lab", "Lab results"
        DEATH = "death", "Death"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    site = models.ForeignKey("carecoord.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # What the entry is about ("toxicity.toxicityevent", 12), so the timeline can link each
    # entry to its page. Not a foreign key: the subjects live in the apps above the core.
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = calendar_checks("timeline_entry", moments=["occurred_at"])
        indexes = [models.Index(fields=["patient", "occurred_at"])]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return self.title
