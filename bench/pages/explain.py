"""Query plans of every page the page benchmark measures, on the network at real size.

For each target of `bench.pages.targets` (as the center coordinator, and the lists as the
person who sees every patient), captures the SQL one request runs (CaptureQueriesContext),
runs EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) on each SELECT on the same database, and prints,
per page: every sequential scan of a table holding more than 10,000 rows, the queries that
took longest, and in them the nodes that cost most (their own time, without their children's),
with the planner's row estimate against the rows found.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_pages_big .venv/bin/python -m bench.pages.explain

Builds the network first when the database does not hold it (as `bench.pages.run` does).
BENCH_EXPLAIN_ONLY="dashboard,API patients" limits it to the targets with these names.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_pages_big")

import django

django.setup()

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.dataset import ensure  # noqa: E402
from bench.pages.run import BENCH_SETTINGS  # noqa: E402
from bench.pages.targets import Personas, Target, ensure_digests, run_once, targets  # noqa: E402

BIG_TABLE = 10_000
SLOWEST_QUERIES = 3
COSTLIEST_NODES = 3


@dataclass(frozen=True)
class Node:
    """One plan node with its own time (children's taken off) over all its loops."""

    kind: str
    relation: str
    index: str
    estimated_rows: float
    actual_rows: float
    loops: int
    own_ms: float

    def describe(self) -> str:
        where = f" on {self.relation}" if self.relation else ""
        index = f" using {self.index}" if self.index else ""
        loops = f" x {self.loops} loops" if self.loops > 1 else ""
        return (
            f"{self.kind}{where}{index}: {self.own_ms:.1f} ms, rows estimated {self.estimated_rows:,.0f} "
            f"/ found {self.actual_rows:,.0f}{loops}"
        )


def nodes(plan: dict[str, Any]) -> Iterator[Node]:
    children = plan.get("Plans", [])
    loops = int(plan.get("Actual Loops", 1) or 1)
    total = float(plan.get("Actual Total Time", 0.0)) * loops
    below = sum(float(c.get("Actual Total Time", 0.0)) * int(c.get("Actual Loops", 1) or 1) for c in children)
    yield Node(
        kind=plan["Node Type"],
        relation=plan.get("Relation Name", ""),
        index=plan.get("Index Name", ""),
        estimated_rows=float(plan.get("Plan Rows", 0)),
        actual_rows=float(plan.get("Actual Rows", 0)) * loops,
        loops=loops,
        own_ms=max(0.0, total - below),
    )
    for child in children:
        yield from nodes(child)


def table_rows() -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return {name: float(rows) for name, rows in cursor.fetchall()}


def explain(sql: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        row = cursor.fetchone()
    assert row is not None
    result = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return dict(result[0])


def captured_selects(personas: Personas, target: Target) -> list[str]:
    run_once(personas, target)  # warm: caches, the session's last-seen time
    with CaptureQueriesContext(connection) as captured:
        run_once(personas, target)
    selects = []
    for query in captured.captured_queries:
        sql = query["sql"]
        head = sql.lstrip().upper()
        if head.startswith(("SELECT", "WITH")) and "FOR UPDATE" not in head:
            selects.append(sql)
    return selects


def report(personas: Personas, target: Target, sizes: dict[str, float]) -> list[str]:
    selects = captured_selects(personas, target)
    request_ms = min(run_once(personas, target)[0] for _ in range(3))
    plans = [(sql, explain(sql)) for sql in selects]
    lines = [f"### {target.name} ({target.persona}{', ' + target.url if target.url else ''})", ""]
    total = sum(plan["Execution Time"] for _sql, plan in plans)
    lines.append(
        f"{len(selects)} SELECTs, {total:.1f} ms executing them in all (EXPLAIN ANALYZE); "
        f"the request takes {request_ms:.0f} ms (fastest of 3)."
    )
    scans = []
    for sql, plan in plans:
        for node in nodes(plan["Plan"]):
            if node.kind in ("Seq Scan", "Parallel Seq Scan") and sizes.get(node.relation, 0) > BIG_TABLE:
                scans.append(
                    f"- **Seq Scan on {node.relation}** ({sizes[node.relation]:,.0f} rows): {node.describe()}"
                    f" — in `{' '.join(sql.split())[:160]}…`"
                )
    lines += ["", "Sequential scans of large tables:" if scans else "No sequential scan of a large table.", *scans]
    slowest = sorted(plans, key=lambda pair: -pair[1]["Execution Time"])[:SLOWEST_QUERIES]
    lines += ["", "Slowest queries and their costliest nodes:"]
    for sql, plan in slowest:
        lines.append(f"- {plan['Execution Time']:.1f} ms: `{' '.join(sql.split())[:200]}…`")
        for node in sorted(nodes(plan["Plan"]), key=lambda n: -n.own_ms)[:COSTLIEST_NODES]:
            lines.append(f"  - {node.describe()}")
    lines.append("")
    return lines


def main() -> None:
    dataset, _built = ensure(rebuild=os.environ.get("BENCH_REBUILD") == "1")
    only = {name.strip() for name in os.environ.get("BENCH_EXPLAIN_ONLY", "").split(",") if name.strip()}
    with override_settings(**BENCH_SETTINGS):
        personas = Personas(dataset)
        ensure_digests(personas)
        sizes = table_rows()
        chosen = [
            t
            for t in targets(personas)
            if t.call is None and (not t.flat or t.persona == "sees_all") and (not only or t.name in only)
        ]
        print(f"# Query plans at {dataset.sizes.patients:,} patients\n")
        for target in chosen:
            print("\n".join(report(personas, target, sizes)), flush=True)


if __name__ == "__main__":
    main()
