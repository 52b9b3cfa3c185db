"""Benchmark: every main page and API list or detail at a real network's size, in one process.

Builds the network once (`bench.dataset`: 10,000 patients, 12 sites, ~500 people, ~1.2
million rows of the patient record; BENCH_PATIENTS etc. for less), unless the database already
holds a build of the same sizes (BENCH_REBUILD=1 builds it again). Then, signed in as the
personas, it requests every target (`bench.pages.targets`) BENCH_ROUNDS times, round robin,
each right after the bare view (every middleware, then one indexed query), and prints medians,
95th percentiles and each median's ratio to the bare view's, as Markdown; then the flatness
table: the dashboard and each list for people who see 50, 500 and every patient.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_pages_big .venv/bin/python -m bench.pages.run

Goals (ratios to the bare view, same run): every page ≤ 12x, every API list or detail ≤ 6x,
lists flat (≤ 1.2x from 50 patients to all). BENCH_STRICT=1 exits non-zero when one is missed.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_pages_big")

import django

django.setup()

import statistics  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.dataset import ensure  # noqa: E402
from bench.pages.targets import (  # noqa: E402
    API,
    BARE_TARGET,
    FLAT,
    PAGE,
    Personas,
    Target,
    ensure_digests,
    run_once,
    targets,
)
from carecoord.access import patients_visible_to  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
GOALS = {PAGE: 12.0, API: 6.0}
FLAT_GOAL = 1.2
BENCH_SETTINGS = {"ALLOWED_HOSTS": ["testserver"], "ROOT_URLCONF": "bench.pages.urls"}


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


Timings = dict[Target, list[float]]


@dataclass(frozen=True)
class Shape:
    """What a target's answer costs apart from time: its queries and its size."""

    queries: int
    size: int  # bytes


def measure(personas: Personas, found: list[Target]) -> tuple[list[float], Timings, dict[Target, Shape]]:
    """Warm every target up (and count its queries), then time them round robin after the bare view,
    every other round in the reverse order: the three people's requests for a flat list come one
    after the other (`targets`), and reversing cancels the machine's drift between them (on a
    slowed machine the ratios of a forward-only order moved by up to 0.25 between runs)."""
    shapes: dict[Target, Shape] = {}
    for target in [BARE_TARGET, *found]:
        _ms, status, _size = run_once(personas, target)
        if status != 200:
            raise SystemExit(f"{target.name} ({target.url}) answered {status}")
        with CaptureQueriesContext(connection) as captured:
            _ms, _status, size = run_once(personas, target)
        shapes[target] = Shape(len(captured.captured_queries), size)
    bare: list[float] = []
    times: dict[Target, list[float]] = defaultdict(list)
    for round_number in range(ROUNDS):
        for target in found if round_number % 2 == 0 else found[::-1]:
            bare.append(run_once(personas, BARE_TARGET)[0])
            times[target].append(run_once(personas, target)[0])
    return bare, times, shapes


def main() -> None:
    dataset, built = ensure(rebuild=os.environ.get("BENCH_REBUILD") == "1")
    if built:
        print(f"built the network in {dataset.seconds:.0f} s", flush=True)
    with override_settings(**BENCH_SETTINGS):
        personas = Personas(dataset)
        ensure_digests(personas)
        visible = {key: patients_visible_to(user).count() for key, user in personas.users.items()}
        found = targets(personas)
        load = os.getloadavg()
        bare, times, shapes = measure(personas, found)
        load_after = os.getloadavg()
    base = statistics.median(bare)
    missed: list[str] = []
    print(
        f"\n{dataset.sizes.patients:,} patients, {dataset.timeline_rows:,} rows of the patient record, "
        f"{ROUNDS} rounds; load average {load[0]:.1f} before, {load_after[0]:.1f} after; "
        f"the center coordinator sees {visible['center_coordinator']:,} patients\n"
    )
    print("| request | kind | median | p95 | x bare view | goal | queries |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {BARE_TARGET.name} | | {base:.1f} ms | {p95(bare):.1f} ms | 1.0 | | {shapes[BARE_TARGET].queries} |")
    for target in found:
        if target.flat:
            continue
        median = statistics.median(times[target])
        ratio = median / base
        goal = GOALS.get(target.kind)
        verdict = ""
        if goal is not None:
            verdict = f"≤ {goal:.0f}x {'met' if ratio <= goal else 'missed'}"
            if ratio > goal:
                missed.append(f"{target.name}: {ratio:.1f}x (goal {goal:.0f}x)")
        kind = target.kind
        print(
            f"| {target.name} | {kind} | {median:.1f} ms | {p95(times[target]):.1f} ms | {ratio:.1f} | {verdict} "
            f"| {shapes[target].queries} |"
        )
    print(
        f"\nFlatness: medians for people who see {visible['sees_50']:,}, {visible['sees_500']:,} and "
        f"{visible['sees_all']:,} patients (queries and the answer's size in brackets: a list that shows more rows "
        f"costs more to write, whatever the patients behind it); goal ≤ {FLAT_GOAL}x from the first to the last.\n"
    )
    print(
        f"| list | {visible['sees_50']:,} patients | {visible['sees_500']:,} | {visible['sees_all']:,} | ratio | goal |"
    )
    print("|---|---|---|---|---|---|")
    by_name = {(t.name, t.persona): t for t in found}
    for name in FLAT:
        cells = []
        medians = []
        for persona in ("sees_50", "sees_500", "sees_all"):
            target = by_name[(name, persona)]
            median = statistics.median(times[target])
            medians.append(median)
            shape = shapes[target]
            cells.append(f"{median:.1f} ms ({shape.queries}, {shape.size / 1024:.0f} KB)")
        ratio = medians[-1] / medians[0]
        if ratio > FLAT_GOAL:
            missed.append(f"{name}: {ratio:.2f}x from 50 patients to all (goal {FLAT_GOAL}x)")
        print(f"| {name} | {' | '.join(cells)} | {ratio:.2f} | {'met' if ratio <= FLAT_GOAL else 'missed'} |")
    if missed:
        print("\nGoals missed:\n" + "\n".join(f"- {line}" for line in missed))
        if os.environ.get("BENCH_STRICT") == "1":
            sys.exit(1)


if __name__ == "__main__":
    main()
