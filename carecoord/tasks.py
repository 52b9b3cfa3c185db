"""Background work of the core domain. Thin: each task calls one service."""

from celery import shared_task

from carecoord.access.grants import refresh_membership_access as refresh


@shared_task(name="carecoord.tasks.refresh_membership_access")
def refresh_membership_access() -> int:
    """Apply membership start and end dates (beat, every 15 minutes)."""
    return refresh()
