from __future__ import annotations

from celery import shared_task

from candidates.standings import refresh_every_standing


@shared_task(name="candidates.tasks.refresh_candidate_standings")
def refresh_candidate_standings() -> int:
    """Move the cached candidate standings on as days pass (beat, hourly)."""
    return refresh_every_standing(kept_first_met=True)
