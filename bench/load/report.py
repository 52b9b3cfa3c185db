"""The load run's figures as Markdown: per route and overall from locust's CSV, the sign-in
phase, CPU per group and per request, and the background work's emails."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load.cpu import CORES, Window
from bench.load.routes import route_of

GOAL_P95_MS = 250


@dataclass(frozen=True)
class Route:
    method: str
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    mean: float

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Route:
        return cls(
            method=row["Type"],
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            p50=_number(row["50%"]),
            p95=_number(row["95%"]),
            p99=_number(row["99%"]),
            mean=float(row["Average Response Time"] or 0),
        )


def _number(text: str) -> float:
    return 0.0 if text in ("", "N/A") else float(text)


def read_routes(prefix: Path) -> tuple[list[Route], Route]:
    """Each route's figures, and the overall ones (locust's "Aggregated" row)."""
    with Path(f"{prefix}_stats.csv").open() as rows:
        routes = [Route.from_row(row) for row in csv.DictReader(rows)]
    total = next(r for r in routes if r.name == "Aggregated")
    return sorted((r for r in routes if r.name != "Aggregated"), key=lambda r: -r.requests), total


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as rows:
        return list(csv.DictReader(rows))


def server_times(logs: list[Path], start: float, end: float) -> dict[tuple[str, str], list[float]]:
    """Milliseconds gunicorn spent on each request answered in [start, end], by (method,
    route), from the access logs (servers.ACCESS_LOG_FORMAT); ("", "") holds them all."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for log in logs:
        for line in log.read_text().splitlines():
            at, method, path, _status, micros = line.split("|")
            when = dt.datetime.strptime(at, "[%d/%b/%Y:%H:%M:%S %z]").timestamp()
            if start - 1 < when <= end:  # the log's times are whole seconds
                ms = int(micros) / 1000
                times[(method, route_of(path))].append(ms)
                times[("", "")].append(ms)
    return times


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def route_table(
    routes: list[Route], total: Route, seconds: float, server: dict[tuple[str, str], list[float]]
) -> list[str]:
    lines = [
        "| route | requests | errors | req/s | p50 | p95 | p99 | in gunicorn p50 | in gunicorn p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [*(r for r in routes if r.requests), total]:
        name = "**all**" if r is total else f"{'' if r.method == 'GET' else r.method + ' '}{r.name}"
        own = server.get(("", "") if r is total else (r.method, r.name), [])
        lines.append(
            f"| {name} | {r.requests:,} | {r.failures} | {r.requests / seconds:.1f} "
            f"| {r.p50:.0f} ms | {r.p95:.0f} ms | {r.p99:.0f} ms "
            f"| {_percentile(own, 0.5):.0f} ms | {_percentile(own, 0.95):.0f} ms |"
        )
    return lines


def summary(
    *,
    layout: str,
    users: int,
    wait: tuple[float, float],
    total: Route,
    window: Window,
    sign_in: dict[str, Any],
    emails: dict[str, Any],
    web_rss: list[float],
) -> list[str]:
    """The run in a few lines: throughput, errors, the goal, and where the CPU went."""
    rps = total.requests / window.seconds
    met = total.p95 <= GOAL_P95_MS and total.failures == 0 and not sign_in["refused"]
    web, database = window.groups["web"], window.groups["database"]
    per_request = 1000 / max(1, total.requests)
    sign_in_code = next((s for s in sign_in["sign_in"] if s["name"] == "sign-in: code"), {"p50": 0, "p95": 0})
    sign_in_password = next((s for s in sign_in["sign_in"] if s["name"] == "sign-in: password"), {"p50": 0, "p95": 0})
    return [
        f"- {layout}; {users} users, {wait[0]:g}-{wait[1]:g} s between actions; "
        f"measured {window.seconds:.0f} s after everyone signed in and a warm-up",
        f"- **{rps:.1f} requests/s**, p50 {total.p50:.0f} ms, **p95 {total.p95:.0f} ms**, p99 {total.p99:.0f} ms, "
        f"**{total.failures} errors** (goal p95 ≤ {GOAL_P95_MS} ms, 0 errors: {'met' if met else 'NOT met'})",
        f"- signing in: {sign_in['signed_in']} of {users} people in {sign_in['sign_in_seconds']:.0f} s "
        f"(password p50 {sign_in_password['p50']:.0f} ms, p95 {sign_in_password['p95']:.0f} ms; "
        f"code p50 {sign_in_code['p50']:.0f} ms; {sign_in['late_codes']} codes typed again after waiting too long)"
        + (f"; refused: {'; '.join(sign_in['refused'][:3])}" if sign_in["refused"] else ""),
        f"- CPU: machine {100 * window.machine_busy:.0f} % busy of {CORES} cores (everyone's); "
        f"gunicorn {window.cores('web'):.2f} cores, PostgreSQL (this database) {window.cores('database'):.2f}, "
        f"Celery {window.cores('workers'):.2f}, locust {window.cores('locust'):.2f}",
        f"- CPU per request: {web * per_request:.1f} ms in gunicorn + {database * per_request:.1f} ms in PostgreSQL; "
        f"memory: {len(web_rss)} gunicorn workers of {min(web_rss, default=0):.0f}-{max(web_rss, default=0):.0f} MiB",
        f"- background work: {emails['written']} emails written during the run, {emails['sent']} sent "
        f"by the workers (commit→sent p95 {emails['p95']:.2f} s), {emails['pending']} still pending",
    ]


def failure_lines(failures: list[dict[str, str]]) -> list[str]:
    if not failures:
        return []
    lines = ["", "| errors | route | what |", "|---|---|---|"]
    for row in sorted(failures, key=lambda r: -int(r["Occurrences"]))[:15]:
        lines.append(f"| {row['Occurrences']} | {row['Method']} {row['Name']} | {row['Error'][:160]} |")
    return lines
