"""Background work of toxicity alerts. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from toxicity.alerts import escalate_due_alerts


@shared_task(name="toxicity.tasks.escalate_alerts")
def escalate_alerts() -> int:
    """Escalate alerts not acknowledged in time (beat, every minute)."""
    return escalate_due_alerts()
