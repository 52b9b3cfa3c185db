"""What a load balancer and monitoring ask of carecoord: is it working, and are alerts going out.

No patient data, no authentication: only whether each part answers and how old the oldest
undelivered alert email is. `health_report` is the rule; `carecoord.web.health` serves it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from carecoord.models import OutgoingEmail, WorkerHeartbeat
from carecoord.redis_sentinel import redis_client

# Beat sends a heartbeat to each queue every 30 seconds; two missed ones mean trouble.
HEARTBEAT_EVERY_SECONDS = 30
HEARTBEAT_STALE_SECONDS = 4 * HEARTBEAT_EVERY_SECONDS
# A worker sends its first heartbeat as soon as it is ready (`carecoord.tasks`), a few seconds
# after it starts: for this long after the web process started, a queue not heard from is
# "starting" (still a 503: no load balancer routes to it), not "down" (logged as an error).
STARTING_GRACE_SECONDS = 2 * HEARTBEAT_EVERY_SECONDS
PROCESS_STARTED_AT = timezone.now()


def heartbeat_record(queue: str, now: dt.datetime | None = None) -> None:
    WorkerHeartbeat.objects.update_or_create(queue=queue, defaults={"beat_at": now or timezone.now()})


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure is the answer
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _redis() -> dict[str, Any]:
    client = redis_client(socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": type(exc).__name__}
    finally:
        client.close()
    return {"ok": True}


def workers_reported(since: dt.datetime) -> bool:
    """Whether a worker has taken a heartbeat from each queue since `since` (`bin/run` waits
    for it before it says where carecoord is)."""
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE}
    return WorkerHeartbeat.objects.filter(queue__in=queues, beat_at__gte=since).count() == len(queues)


def _workers(now: dt.datetime) -> dict[str, Any]:
    beats = dict(WorkerHeartbeat.objects.values_list("queue", "beat_at"))
    queues = {}
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE):
        beat = beats.get(queue)
        age = round((now - beat).total_seconds()) if beat else None
        queues[queue] = {"ok": age is not None and age <= HEARTBEAT_STALE_SECONDS, "heartbeat_age_seconds": age}
    ok = all(q["ok"] for q in queues.values())
    starting = not ok and 0 <= (now - PROCESS_STARTED_AT).total_seconds() <= STARTING_GRACE_SECONDS
    return {"ok": ok, "starting": starting, "queues": queues}


def _alerts(now: dt.datetime) -> dict[str, Any]:
    undelivered = OutgoingEmail.objects.filter(urgent=True).exclude(status=OutgoingEmail.Status.SENT)
    oldest = undelivered.aggregate(oldest=Min("created_at"))["oldest"]
    age = round((now - oldest).total_seconds()) if oldest else 0
    limit = settings.EMAIL_UNDELIVERED_WARNING_MINUTES * 60
    failed = undelivered.filter(status=OutgoingEmail.Status.FAILED).count()
    return {
        "ok": age <= limit and failed == 0,
        "oldest_undelivered_age_seconds": age,
        "undelivered": undelivered.count(),
        "failed": failed,
    }


def health_report(now: dt.datetime | None = None) -> dict[str, Any]:
    """Each check with `ok`, and `ok` overall; no check ever raises. `status` says "ok",
    "starting" (only the workers fail, in the grace after the web process started) or
    "degraded"."""
    now = now or timezone.now()
    database = _database()
    checks: dict[str, Any] = {"database": database, "redis": _redis()}
    if database["ok"]:
        checks |= {"workers": _workers(now), "alert_emails": _alerts(now)}
    failing = [check for check in checks.values() if not check["ok"]]
    status = "ok" if not failing else "starting" if all(c.get("starting") for c in failing) else "degraded"
    return {"ok": not failing, "status": status, "checks": checks, "at": now.isoformat()}
