"""A real Celery worker process for tests about background work.

The worker reads the test database (tests using it need `transactional_db`, so that what
the test writes is committed) and listens on a queue of its own on the test Redis, so a
developer's running worker never takes the test's tasks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings

from carecoord.tasks import sweep_emails
from config.celery import app as celery_app
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
# A worker whose sweeper takes up an email left pending after a second (not a minute or more).
FAST_SWEEP = {"EMAIL_PENDING_GRACE_SECONDS": "1", "EMAIL_TIMEOUT": "5", "EMAIL_LEASE_SECONDS": "6"}


def _database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def running_worker(
    log_path: Path,
    startup_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    queue: str | None = None,
    consumes: str = "both",
    pool: str = "solo",
    concurrency: int = 1,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` on private queues (`queue`, and `queue`-alerts for alert emails);
    stop it (and wait) on exit. `consumes`: "both", "default" or "alerts", for a worker that
    takes one of the two queues only (another worker may take the other). `pool`: "solo" runs
    tasks in the worker process; "prefork" in `concurrency` child processes, as in production,
    whose death the worker notices (`worker_children`)."""
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    alert_queue = f"{queue}-alerts"
    listens = {"both": [queue, alert_queue], "default": [queue], "alerts": [alert_queue]}[consumes]
    # Not an xdist worker itself: it is told its database, Redis and queues below, whole
    # (config.settings_test would otherwise move the Redis database a second time).
    inherited = {name: value for name, value in os.environ.items() if name != "PYTEST_XDIST_WORKER"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_ALERT_QUEUE": alert_queue,
        **(extra_env or {}),
    }
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    routing = override_settings(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_ALERT_QUEUE=alert_queue)
    routing.enable()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                f"--queues={','.join(listens)}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={consumes}-{queue}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: b"ready." in log_path.read_bytes(), startup_timeout, lambda: log_path.read_text())
            yield process
        finally:
            routing.disable()
            celery_app.conf.task_default_queue = previous_queue
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def worker_children(process: subprocess.Popen[bytes]) -> list[int]:
    """The pids of a prefork worker's pool processes."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def sweep_until(condition: Callable[[], bool], timeout: float, describe: Callable[[], str] | None = None) -> None:
    """Run the sweeper (as beat would, every minute; here every two seconds) until `condition`:
    an email whose queuing failed (the broker down or failing over) waits for it."""
    wait_for(condition, timeout, describe or (lambda: "condition not met while sweeping"), interval=2, meanwhile=_sweep)


def _sweep() -> None:
    with contextlib.suppress(Exception):  # the broker may still be coming back
        sweep_emails.delay()
