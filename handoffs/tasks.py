"""Background work of hand-offs. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from handoffs.services import remind_overdue_handoffs


@shared_task(name="handoffs.tasks.remind_unacknowledged_handoffs")
def remind_unacknowledged_handoffs() -> int:
    """Remind receivers of hand-offs not acknowledged within a business day (beat, every 5 minutes)."""
    return remind_overdue_handoffs()
