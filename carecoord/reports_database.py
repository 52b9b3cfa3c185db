"""Where the heavy reads that may be a few seconds behind go: the weekly digests' builds and the
audit trail's listing and export. On a network with a streaming replica
(`DATABASE_REPORTS_URL`), they read from it, so a Monday digest pass does not compete with
the pages on the primary; without one, from the primary as everything else.

Pages stay on the primary: every page writes its read-audit entries and a person must see what
they just wrote. Writes always go to the primary (`default`), also while reading for a report.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db.models import Model

_reading_for_reports: contextvars.ContextVar[bool] = contextvars.ContextVar("reading_for_reports", default=False)


def reports_database() -> str:
    """The alias reports read from: the replica when one is configured, else `default`."""
    return str(settings.REPORTS_DATABASE)


@contextmanager
def reading_for_reports() -> Iterator[None]:
    """Every read in the block goes to `reports_database()` (`ReportsRouter`); writes do not."""
    token = _reading_for_reports.set(True)
    try:
        yield
    finally:
        _reading_for_reports.reset(token)


class ReportsRouter:
    """Sends the reads made inside `reading_for_reports()` to the reports database; leaves
    everything else to Django's default (the `default` alias, or the instance's own)."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return reports_database() if _reading_for_reports.get() else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == "default"  # a replica follows the primary's schema by replication
