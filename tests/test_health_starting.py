"""/health/ while carecoord starts: each worker reports on its queues as soon as it is ready
(not half a minute later, with beat's first heartbeat); until then, for a grace period after the
web process started, the answer is a 503 "starting", logged as information and not as an error;
`bin/run` waits for the workers' report (`manage.py wait_for_workers`) before it says where
carecoord is."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from carecoord import health
from carecoord.health import STARTING_GRACE_SECONDS, heartbeat_record, workers_reported
from carecoord.models import WorkerHeartbeat
from tests.helpers import wait_for
from tests.worker import running_worker

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_health_is_a_503_starting_without_an_error_in_the_grace_then_degraded_with_one(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No worker has reported since the web process started 10 s ago: still a 503 (no load
    balancer routes to it), but "starting" and logged as information. Past the grace, the same
    answer is "degraded" and Django's error for a 5xx."""
    caplog.set_level(logging.INFO, logger="django.request")
    monkeypatch.setattr(health, "PROCESS_STARTED_AT", NOW - dt.timedelta(seconds=10))
    heartbeat_record(settings.CELERY_TASK_DEFAULT_QUEUE, NOW - dt.timedelta(days=1))  # of a run before
    with time_machine.travel(NOW, tick=False):
        starting = client.get(reverse("health"))
    assert starting.status_code == 503
    body = starting.json()
    assert (body["status"], body["checks"]["workers"]["starting"]) == ("starting", True)
    assert errors_logged(caplog) == []
    assert any("Starting" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)

    with time_machine.travel(NOW + dt.timedelta(seconds=STARTING_GRACE_SECONDS + 1), tick=False):
        down = client.get(reverse("health"))
    assert down.status_code == 503 and down.json()["status"] == "degraded"
    assert errors_logged(caplog) == ["Service Unavailable: /health/"]

    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE):
        heartbeat_record(queue, NOW + dt.timedelta(seconds=5))
    with time_machine.travel(NOW + dt.timedelta(seconds=10), tick=False):
        ok = client.get(reverse("health"))
    assert ok.status_code == 200 and ok.json()["status"] == "ok"


@pytest.mark.django_db
def test_wait_for_workers_returns_once_both_queues_reported_since_and_fails_after_its_timeout() -> None:
    since = time.time()
    heartbeat_record(settings.CELERY_TASK_DEFAULT_QUEUE, dt.datetime.fromtimestamp(since - 60, tz=dt.UTC))
    heartbeat_record(settings.CELERY_ALERT_QUEUE, dt.datetime.fromtimestamp(since + 1, tz=dt.UTC))
    with pytest.raises(CommandError, match=r"did not report within 0\.2 seconds"):
        call_command("wait_for_workers", since=since, timeout=0.2)  # the default queue's beat is older
    heartbeat_record(settings.CELERY_TASK_DEFAULT_QUEUE, dt.datetime.fromtimestamp(since + 1, tz=dt.UTC))
    call_command("wait_for_workers", since=since, timeout=0.2)
    assert workers_reported(dt.datetime.fromtimestamp(since, tz=dt.UTC))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_reports_on_each_of_its_queues_as_soon_as_it_is_ready(tmp_path: Path) -> None:
    """No beat runs here: the heartbeats are the worker's own, sent when it is ready."""
    with running_worker(tmp_path / "worker.log"):
        wait_for(
            lambda: (
                WorkerHeartbeat.objects.filter(
                    queue__in=[settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE]
                ).count()
                == 2
            ),
            timeout=20,
            describe=lambda: (tmp_path / "worker.log").read_text(),
        )
        assert workers_reported(dt.datetime.now(tz=dt.UTC) - dt.timedelta(minutes=1))
    connections.close_all()
