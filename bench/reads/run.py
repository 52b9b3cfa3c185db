"""Benchmark: the patient list, page and API, with every row's read on the audit trail.

1,000 patients shared by a practice and a center (BENCH_PATIENTS); the center's coordinator
asks for the first page of the patient list (50 rows) as a web page (the dashboard) and from
the API, BENCH_REQUESTS times each, in-process (no network), so times are the server's.
Each request writes one read entry per patient shown, in one INSERT. The same requests are
timed with the reads left unwritten, alternating, to show what auditing costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_bench .venv/bin/python -m bench.reads.run

The database named in DATABASE_URL is dropped and created again. Results are printed as a
Markdown table to paste into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_bench")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from audit import middleware  # noqa: E402
from audit.models import AuditEntry  # noqa: E402
from bench.alerts.run import recreate_database  # noqa: E402
from carecoord.models import Site, User  # noqa: E402
from carecoord.roles import Role  # noqa: E402
from tests.factories import SiteFactory, member, patient_at  # noqa: E402
from tests.helpers import login  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "1000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
ROUTES = {"page": "/", "API": "/api/patients/"}


def build_world() -> User:
    center = SiteFactory.create(name="Bench Center", kind=Site.Kind.ACADEMIC_CENTER)
    practice = SiteFactory.create(name="Bench Practice")
    coordinator = member(practice, Role.COORDINATOR, email="coordinator@practice.bench")
    reader = member(center, Role.COORDINATOR, email="coordinator@center.bench")
    for _ in range(PATIENTS):
        patient_at(practice, coordinator, shared_with=center)
    return reader


@contextmanager
def reads_unwritten() -> Iterator[None]:
    """The reads declared but not written: the same requests without the audit INSERT."""
    written = middleware.write_reads

    def discard(*args: Any) -> int:
        return 0

    middleware.write_reads = discard  # type: ignore[assignment]
    try:
        yield
    finally:
        middleware.write_reads = written


def timed(client: Client, url: str) -> float:
    start = time.perf_counter()
    status = client.get(url).status_code
    if status != 200:
        raise SystemExit(f"GET {url} answered {status}")
    return (time.perf_counter() - start) * 1000


def measure(client: Client, url: str) -> dict[str, Any]:
    client.get(url)  # warm up caches (templates, the session)
    queries: list[str] = []

    def count(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        client.get(url)
    before = AuditEntry.objects.count()
    # Audited and unaudited requests alternate, so a change of load on the machine weighs on both.
    on, off = [], []
    for _ in range(REQUESTS):
        on.append(timed(client, url))
        with reads_unwritten():
            off.append(timed(client, url))
    entries = AuditEntry.objects.count() - before
    return {
        "queries": len(queries),
        "entries per request": entries / REQUESTS,
        "p50 on": statistics.median(on),
        "p95 on": statistics.quantiles(on, n=20)[-1],
        "p50 off": statistics.median(off),
        "p95 off": statistics.quantiles(off, n=20)[-1],
    }


def main() -> None:
    recreate_database()
    override_settings(ALLOWED_HOSTS=["testserver"]).enable()  # the test client's host
    client = login(Client(), build_world())
    print("| list | patients | rows | queries | entries per request | p50 | p95 | p50 unaudited | p95 unaudited |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, url in ROUTES.items():
        r = measure(client, url)
        print(
            f"| {name} | {PATIENTS:,} | 50 | {r['queries']} | {r['entries per request']:.0f} | "
            f"{r['p50 on']:.1f} ms | {r['p95 on']:.1f} ms | {r['p50 off']:.1f} ms | {r['p95 off']:.1f} ms |"
        )
        if r["entries per request"] != 50:
            raise SystemExit(f"{name}: {r['entries per request']} entries per request, expected 50")


if __name__ == "__main__":
    main()
