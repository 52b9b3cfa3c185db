"""A request's route: its path with ids as `[id]`, the name both locust's figures and gunicorn's
access log are grouped by. Plain Python (the load client imports it too)."""

from __future__ import annotations

import re

_ID = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/)")


def route_of(path: str) -> str:
    """`/patients/<uuid>/timeline/` → `/patients/[id]/timeline/`; the query string is dropped."""
    return _ID.sub("/[id]", path.split("?", 1)[0])
