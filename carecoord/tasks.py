"""Background work of the core domain. Thin: each task loads by id and calls one function."""

from __future__ import annotations

from celery import shared_task

from carecoord.access.grants import refresh_membership_access as refresh
from carecoord.emails import RETRYABLE_ERRORS, email_claim, email_deliver, email_sweep


@shared_task(name="carecoord.tasks.refresh_membership_access")
def refresh_membership_access() -> int:
    """Apply membership start and end dates (beat, every 15 minutes)."""
    return refresh()


@shared_task(
    name="carecoord.tasks.send_email",
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=None,  # the row counts attempts and gives up; see carecoord.emails.MAX_ATTEMPTS
)
def send_email(email_id: int) -> None:
    """Send one queued email once: only the worker whose claim succeeds goes on."""
    email = email_claim(email_id)
    if email is not None:
        email_deliver(email)


@shared_task(name="carecoord.tasks.sweep_emails")
def sweep_emails() -> int:
    """Queue again the emails the broker lost or a dead worker abandoned (beat, every minute)."""
    ids = email_sweep()
    for email_id in ids:
        send_email.delay(email_id)
    return len(ids)


@shared_task(name="carecoord.tasks.send_weekly_digests")
def send_weekly_digests() -> int:
    """Queue the weekly digests whose local send time has passed (beat, every 15 minutes)."""
    from carecoord.digests.services import send_due_digests

    return send_due_digests()
