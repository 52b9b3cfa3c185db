from __future__ import annotations

from django.conf import settings
from django.db import models


class OutgoingEmail(models.Model):
    """One email to one person, written in the same transaction as the event that caused it.

    Rows move pending → sending → sent, or back to pending with the error for a retry, and
    to failed after the last attempt. A worker claims a row with a conditional update, so a
    row is sent by one worker only; a periodic sweeper re-queues rows left pending (broker
    down) or stuck in sending (worker killed), so nothing is lost. `dedupe_key` makes a
    second attempt to queue the same message a no-op.
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
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template} to {self.to_address} ({self.status})"
