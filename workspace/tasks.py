"""The workspace's periodic tasks: the weekly digests."""

from __future__ import annotations

from celery import shared_task

from workspace.digests.services import send_due_digests


@shared_task(name="workspace.tasks.send_weekly_digests")
def send_weekly_digests() -> int:
    """Queue the weekly digests whose send time, in site time, has passed (beat, every 15 minutes)."""
    return send_due_digests()
