"""The workspace's periodic tasks: the weekly digests, built and sent in parallel on the workers."""

from __future__ import annotations

from itertools import batched

from celery import Task, shared_task
from django.utils import timezone

from workspace.digests.services import digests_due, send_digests_of

# People per task: small enough for every worker to take a share, large enough that a task
# does more than its own bookkeeping.
BATCH = 10
RETRY_SECONDS = 60


@shared_task(name="workspace.tasks.send_weekly_digests")
def send_weekly_digests() -> int:
    """Queue the weekly digests whose send time, in site time, has passed (beat, every 15
    minutes): one task per batch of people. Returns how many people were queued."""
    due = [d.user.pk for d in digests_due(timezone.now())]
    for user_ids in batched(due, BATCH):
        send_digests.delay(list(user_ids))
    return len(due)


@shared_task(bind=True, name="workspace.tasks.send_digests", max_retries=3)
def send_digests(self: Task, user_ids: list[int]) -> int:
    """Build and send the due digests of these people. Those already claimed are skipped (a
    duplicate or re-delivered task sends nothing twice); those that failed are tried again in a
    minute, then by the next beat pass."""
    sent, failed = send_digests_of(user_ids, worker=f"{self.request.hostname}:{self.request.id}")
    if failed:
        raise self.retry(args=(failed,), countdown=RETRY_SECONDS)
    return sent
