"""Benchmark: the program metrics at a real network's size, in one process.

Builds the network of `bench.dataset` once (10,000 patients; BENCH_PATIENTS for less) unless
the database already holds it, then, as the center coordinator (about 5,000 patients) and the
person who sees every patient, computes each block (access, safety, coordination, the patient
paths) and GETs
the whole metrics page BENCH_ROUNDS times for the last twelve months and the last five years,
and prints medians, 95th percentiles and query counts as Markdown for docs/PERFORMANCE.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_metrics_big .venv/bin/python -m bench.metrics.run

Goal (issue 19): the page under one second for 10,000 patients. BENCH_STRICT=1 exits
non-zero when it is missed.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_metrics_big")

import django

django.setup()

import datetime as dt  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.dataset import ensure  # noqa: E402
from carecoord.access import visible_patient_count  # noqa: E402
from carecoord.models import User  # noqa: E402
from carecoord.selectors.sites import active_memberships_of  # noqa: E402
from carecoord.zones import viewer_zone  # noqa: E402
from metrics.scope import Cohort, Period  # noqa: E402
from metrics.tables import BLOCKS, block_of  # noqa: E402
from tests.helpers import login  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
GOAL_MS = 1000.0
PERSONAS = ("center_coordinator", "sees_all")
PERIODS = {"12 months": 365, "5 years": 5 * 365}


def timed(call: Callable[[], object]) -> tuple[list[float], int]:
    """`call` once to warm up and count its queries, then ROUNDS times: milliseconds each.
    (Counted by a wrapper: a request resets the connection's query log as it starts.)"""
    statements: list[str] = []

    def count(execute: Callable[..., object], sql: str, *args: object) -> object:
        statements.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        call()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, len(statements)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def page(client: Client, url: str) -> object:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return response


def main() -> None:
    dataset, built = ensure()
    override_settings(ALLOWED_HOSTS=["testserver"]).enable()
    print(f"{'Built' if built else 'Found'} the network: {dataset.sizes}.", file=sys.stderr)
    print("| who | patients seen | period | what | queries | p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    slowest = 0.0
    for key in PERSONAS:
        user = User.objects.get(pk=dataset.personas[key])
        seen = visible_patient_count(user)
        zone = viewer_zone(active_memberships_of(user))
        client = login(Client(), user)
        for label, days in PERIODS.items():
            now = timezone.now()
            end = now.astimezone(zone).date()
            start = end - dt.timedelta(days=days)
            cohort = Cohort.for_user(user, Period(start, end, zone), now)
            calls: dict[str, Callable[[], object]] = {
                slug: functools.partial(block_of, slug, cohort) for slug in BLOCKS
            }
            calls["the page"] = functools.partial(page, client, f"/metrics/?start={start}&end={end}")
            for what, call in calls.items():
                samples, queries = timed(call)
                median = statistics.median(samples)
                if what == "the page":
                    slowest = max(slowest, median)
                print(f"| {key} | {seen:,} | {label} | {what} | {queries} | {median:.0f} ms | {p95(samples):.0f} ms |")
    if os.environ.get("BENCH_STRICT") and slowest > GOAL_MS:
        raise SystemExit(f"the page took {slowest:.0f} ms, over {GOAL_MS:.0f} ms")


if __name__ == "__main__":
    main()
