"""A real Celery worker process for tests about background work.

The worker reads the test database (tests using it need `transactional_db`, so that what
the test writes is committed) and listens on a queue of its own on the test Redis, so a
developer's running worker never takes the test's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from carecoord.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def running_worker(
    log_path: Path, startup_timeout: float = 60.0, extra_env: dict[str, str] | None = None, queue: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` on a private queue (or `queue`); stop it (and wait) on exit."""
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carecoord.settings_test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        **(extra_env or {}),
    }
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "carecoord",
                "worker",
                "--loglevel=INFO",
                "--pool=solo",
                f"--queues={queue}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={queue}@%h",
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
            celery_app.conf.task_default_queue = previous_queue
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], bool], timeout: float, describe: Callable[[], str] = lambda: "") -> None:
    """Poll `condition` until true; fail with `describe()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s\n{describe()}")
