"""Background work of the core domain. Thin: each task loads by id and calls one function."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings

from carecoord.access.grants import refresh_membership_access as refresh
from carecoord.api.idempotency import forget_old_keys
from carecoord.emails import email_enqueue, email_send, email_send_all, email_sweep
from carecoord.health import HEARTBEAT_EVERY_SECONDS, heartbeat_record
from carecoord.outages import report_recovered_outages


@shared_task(name="carecoord.tasks.refresh_membership_access")
def refresh_membership_access() -> int:
    """Apply membership start and end dates (beat, every 15 minutes)."""
    return refresh()


@shared_task(bind=True, name="carecoord.tasks.send_email", max_retries=None)
def send_email(self: Task, email_id: int) -> None:
    """Send one queued email once: only the worker whose claim succeeds goes on.

    A failed attempt, a row another worker is sending or a retry not yet due comes back after
    the delay the outbox says; were the broker down then, the sweeper queues the row instead.
    """
    retry_in = email_send(email_id, worker=f"{self.request.hostname}:{self.request.id}")
    if retry_in is not None:
        raise self.retry(countdown=retry_in)  # on the same queue: the request's routing key


@shared_task(bind=True, name="carecoord.tasks.send_emails")
def send_emails(self: Task, email_ids: list[int], urgent: bool) -> None:
    """Send the emails one change queued together (an event's alerts) one after the other, in
    one SMTP session, each claimed on its own as `send_email` claims it. One that must wait (a
    failed attempt, another worker's lease) is queued again as its own `send_email`."""
    for email_id, retry_in in email_send_all(email_ids, worker=f"{self.request.hostname}:{self.request.id}").items():
        email_enqueue(email_id, urgent=urgent, countdown=retry_in)


@shared_task(name="carecoord.tasks.sweep_emails")
def sweep_emails() -> int:
    """Queue again the emails the broker lost, whose retry is late or whose worker died (beat,
    every minute); then tell the administrators of alerts that were delivered late."""
    rows = email_sweep()
    for email in rows:
        email_enqueue(email.pk, urgent=email.urgent)
    report_recovered_outages()
    return len(rows)


@shared_task(name="carecoord.tasks.heartbeat")
def heartbeat(queue: str) -> None:
    """Proof that a worker takes tasks from `queue` (beat, every 30 seconds); read by /health/."""
    heartbeat_record(queue)


@worker_ready.connect
def heartbeat_when_ready(sender: Any, **_kwargs: Any) -> None:
    """A worker's first heartbeat through each of its queues that /health/ reads, sent as soon
    as it is ready: beat's first comes half a minute after it starts, and until then /health/
    answered 503 (and `bin/run` had said where carecoord was)."""
    consumed = set(sender.app.amqp.queues.consume_from)
    for queue in sorted({settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE} & consumed):
        heartbeat.apply_async(args=(queue,), queue=queue, expires=HEARTBEAT_EVERY_SECONDS)


@shared_task(name="carecoord.tasks.forget_idempotency_keys")
def forget_idempotency_keys() -> int:
    """Forget the API's idempotency keys older than a day (beat, hourly)."""
    return forget_old_keys()
