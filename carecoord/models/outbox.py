from __future__ import annotations

from django.conf import settings
from django.db import models


class OutgoingEmail(models.Model):
    """One email to one person, written in the same transaction as the event that caused it.

    Rows move pending → sending → sent, or back to pending with the error and the time of the
    next attempt (backing off up to five minutes), until `give_up_at` (EMAIL_RETRY_HOURS after
    it was written): only then is a row failed. A worker claims a row with a conditional
    update and a lease of seconds; a row whose worker died is taken over once its lease runs
    out. A periodic sweeper queues again rows the broker lost or whose retry is overdue, so
    nothing is lost. `dedupe_key` makes a second attempt to queue the same message a no-op.
    `urgent` rows (toxicity alerts) go on a queue of their own.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emails")
    to_address = models.EmailField()
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField()
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    urgent = models.BooleanField(default=False, help_text="A same-day alert: sent from its own queue.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a failed attempt is tried again.")
    give_up_at = models.DateTimeField(null=True, blank=True, help_text="After this, a failed attempt is the last.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="The worker sending it.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="The claim lapses then if not renewed.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            # The few rows not yet sent, among every email ever sent (warnings, sweeps, health).
            models.Index(fields=["created_at"], condition=~models.Q(status="sent"), name="outgoingemail_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.to_address} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The last time a worker took a task from a queue: beat sends one every 30 seconds, so an
    old heartbeat means nobody is working that queue (read by /health/)."""

    queue = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.queue} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class OutageReport(models.Model):
    """When the administrators were last told about alert emails delivered late, so that one
    outage is reported once, when the relay is back."""

    reported_at = models.DateTimeField()
    delivered_late = models.PositiveIntegerField()

    class Meta:
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.delivered_late} late at {self.reported_at:%Y-%m-%d %H:%M}"
