"""Background work of the referral workflow. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from referrals import pending_uploads
from referrals.phase import refresh_phases_due
from referrals.reminders import remind_overdue_referrals


@shared_task(name="referrals.tasks.remind_unacknowledged_referrals")
def remind_unacknowledged_referrals() -> int:
    """Remind centers of referrals past their acknowledgement deadline (beat, every 5 minutes)."""
    return remind_overdue_referrals()


@shared_task(name="referrals.tasks.refresh_phases")
def refresh_phases(everyone: bool = False) -> int:
    """Move the cached phases on as planned days arrive (beat: quarter-hourly, and all nightly)."""
    return refresh_phases_due(everyone=everyone)


@shared_task(name="referrals.tasks.delete_stale_pending_uploads")
def delete_stale_pending_uploads() -> int:
    """Delete files kept from referral forms that never saved, a day on (beat, hourly)."""
    return pending_uploads.delete_stale_pending_uploads()
