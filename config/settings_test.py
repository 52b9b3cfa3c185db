"""Test settings: the real settings, with only what tests must not do switched off."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

# pytest-xdist runs the tests in several processes (gw0, gw1...). pytest-django gives each its
# own test database (test_<name>_gw0...); here each also gets its own Celery queues and, below,
# its own Redis database, so that no process reads or flushes what another one wrote.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    os.environ.setdefault("CELERY_QUEUE", f"carecoord-{XDIST_WORKER}")
    os.environ.setdefault("CELERY_ALERT_QUEUE", f"carecoord-{XDIST_WORKER}-alerts")

from config.settings import *  # noqa: E402, F403

# A second connection to the test database, as a streaming replica would be one to a copy of it,
# for the tests of what reads from the replica (carecoord/reports_database.py). Only those tests
# route reads to it (REPORTS_DATABASE="reports"): it sees no uncommitted test data.
DATABASES.setdefault("reports", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})  # noqa: F405

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests talk plain HTTP to the test client and the live server.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Serve static files from the source folders; tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True


def _redis_database_for(url: str, worker: str) -> str:
    """`url` with its database moved down by the worker's number (gw0 keeps it): counting down
    from the default 15, no test process reaches database 0, the one `bin/run` uses."""
    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database - int(worker.removeprefix('gw'))) % 16}"))


if XDIST_WORKER:
    REDIS_URL = _redis_database_for(REDIS_URL, XDIST_WORKER)  # noqa: F405
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CELERY_BROKER_URL = REDIS_URL
