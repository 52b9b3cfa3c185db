"""Benchmark: signed-in people at work on gunicorn, measured from outside with locust.

Starts gunicorn (production settings, WhiteNoise, sync workers sized for a small machine) and a
Celery worker pool, or several of each (`--instances 2`: two gunicorn instances on two ports,
the users split between them, and two pools on the same queues, against the same PostgreSQL
and Redis); then locust, headless and bounded, runs `--users` people of the database (bench/
load/plan.py) through a coordinator's day (bench/load/locustfile.py): every user signs in with
the password and a code from their authenticator, everyone works through a warm-up, then
`--measure` seconds are measured. Prints p50/p95/p99 per route and overall, requests/s,
errors, the CPU each part used (machine, gunicorn, PostgreSQL, Celery, locust: sampled from
/proc) and the emails the writes' background tasks sent. Exits 1 on any error.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_pages_big \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python -m bench.load.run [--instances 2]

The database is used as it is (built by `python -m bench.pages.build`, or any database with
coordinators and nurses who see patients); the run adds comments, acknowledgements and
toxicity events to it, and gives an authenticator to each person who signs in without one.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
if "DATABASE_URL" not in os.environ:  # the run writes to it: never a default one
    raise SystemExit("Set DATABASE_URL to the database to load (see this module's docstring).")

import django

django.setup()

import json  # noqa: E402

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.load import report, servers  # noqa: E402
from bench.load.cpu import Sampler, process_tree, rss_mib  # noqa: E402
from bench.load.plan import build_plan  # noqa: E402
from carecoord.models import OutgoingEmail  # noqa: E402
from tests.smtp import smtp_catcher  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5, help="users started per second")
    parser.add_argument("--wait", default="2,8", help="min,max seconds a person pauses between actions")
    parser.add_argument("--warmup", type=float, default=30, help="seconds of work before measuring")
    parser.add_argument("--measure", type=float, default=60, help="seconds measured")
    parser.add_argument("--instances", type=int, default=1, help="gunicorn instances and Celery pools")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per instance")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (above 1: gthread)")
    parser.add_argument("--password", default=None, help="the people's password (default: the dataset's)")
    parser.add_argument("--logs", type=Path, default=None, help="keep the servers' and locust's logs here")
    return parser.parse_args()


def dataset_people() -> tuple[str, tuple[str, ...]]:
    """The dataset's password and its named personas' emails; on a database the dataset did not
    build (`manage.py seed_demo`'s, for trying the run out), the demo's password."""
    from bench.dataset import PASSWORD, PERSONAS, stored
    from carecoord.demo import DEMO_PASSWORD

    if stored() is None:
        return DEMO_PASSWORD, ()
    return PASSWORD, tuple(p.email for p in PERSONAS)


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    args = arguments()
    wait_min, wait_max = (float(x) for x in args.wait.split(","))
    password, personas = dataset_people()
    plan = build_plan(args.users, password=args.password or password, first=personas)
    layout = servers.Layout(instances=args.instances, workers=args.workers, threads=args.threads)
    with TemporaryDirectory() as tmp, smtp_catcher() as catcher:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        plan_file = logs / "plan.json"
        plan_file.write_text(json.dumps(plan))
        env = servers.production_env(
            database_url=os.environ["DATABASE_URL"],
            redis_url=settings.REDIS_URL,
            queue=f"load-{uuid.uuid4().hex[:8]}",
            extra={**catcher.env, "SITE_URL": "http://127.0.0.1"},
        )
        servers.collect_static(env)
        started_at = timezone.now()
        with servers.started(layout, env, logs) as (webs, pools):
            locust_env = {
                **os.environ,
                "PYTHONPATH": str(servers.ROOT),  # the locustfile imports bench.load.routes
                "LOAD_PLAN": str(plan_file),
                "LOAD_HOSTS": ",".join(web.url for web in webs),
                "LOAD_USERS": str(args.users),
                "LOAD_WAIT": f"{wait_min},{wait_max}",
                "LOAD_WARMUP": str(args.warmup),
                "LOAD_MEASURE": str(args.measure),
                "LOAD_PHASES": str(logs / "phases.json"),
            }
            limit = 300 + args.warmup + args.measure + 60  # sign-in patience, warm-up, measure, slack
            command = [
                str(servers.BIN / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{limit:.0f}s",
                "--csv",
                str(logs / "locust"),
                "--only-summary",
                "--logfile",
                str(logs / "locust.log"),
                "--loglevel",
                "WARNING",
            ]
            print(f"{layout.describe()} at {', '.join(w.url for w in webs)}; {args.users} users", file=sys.stderr)
            locust_pid: list[int] = []
            groups = {
                "web": lambda: [pid for web in webs for pid in process_tree(web.process.pid)],
                "workers": lambda: [pid for pool in pools for pid in process_tree(pool)],
                "database": database_backends(connection.settings_dict["NAME"]),
                "locust": lambda: [pid for root in locust_pid for pid in process_tree(root)],
            }
            with Sampler(groups) as sampler, (logs / "locust.out").open("wb") as out:
                locust = subprocess.Popen(
                    command, cwd=servers.ROOT, env=locust_env, stdout=out, stderr=subprocess.STDOUT
                )
                locust_pid.append(locust.pid)
                locust.wait()
            web_rss = [rss_mib(pid) for web in webs for pid in process_tree(web.process.pid)[1:]]
            emails = drain_emails(started_at)
        phases = json.loads((logs / "phases.json").read_text())
        if "measure_end" not in phases:
            for name in ("locust.out", "web-0.log", "worker-0.log"):
                servers.show_tail(logs / name, sys.stderr)
            raise SystemExit("locust stopped before the measured phase ended")
        window = sampler.window(phases["measure_start"], phases["measure_end"])
        routes, total = report.read_routes(logs / "locust")
        failures = report.read_failures(logs / "locust")
        lines = [
            *report.summary(
                layout=layout.describe(),
                users=args.users,
                wait=(wait_min, wait_max),
                total=total,
                window=window,
                sign_in=phases,
                emails=emails,
                web_rss=web_rss,
            ),
            "",
            *report.route_table(
                routes,
                total,
                window.seconds,
                report.server_times(sorted(logs.glob("access-*.log")), phases["measure_start"], phases["measure_end"]),
            ),
            *report.failure_lines(failures),
        ]
    print("\n".join(lines))
    if total.failures or phases["refused"] or emails["pending"]:
        sys.exit(1)


def database_backends(name: str) -> Callable[[], list[int]]:
    """A function giving the ids of the PostgreSQL backends serving clients of database `name`
    and their parallel workers (autovacuum left out, and the sampler's own connection)."""
    db = connection.settings_dict
    conn: list[psycopg.Connection[tuple[int]]] = []

    def backends() -> list[int]:
        if not conn:
            conn.append(
                psycopg.connect(
                    host=db["HOST"] or "127.0.0.1",
                    port=db["PORT"] or 5432,
                    user=db["USER"],
                    password=db["PASSWORD"] or None,
                    dbname="postgres",
                    autocommit=True,
                )
            )
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type IN ('client backend', 'parallel worker') "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in conn[0].execute(query, [name]).fetchall()]

    return backends


def drain_emails(since: object, patience: float = 60.0) -> dict[str, object]:
    """Wait for the emails written during the run to be sent; their count and latency."""
    written = OutgoingEmail.objects.filter(created_at__gte=since)
    deadline = time.monotonic() + patience
    while written.exclude(status=OutgoingEmail.Status.SENT).exists() and time.monotonic() < deadline:
        time.sleep(1)
    latencies = sorted(
        (sent_at - created_at).total_seconds()
        for created_at, sent_at in written.filter(status=OutgoingEmail.Status.SENT).values_list("created_at", "sent_at")
        if sent_at is not None
    )
    return {
        "written": written.count(),
        "sent": len(latencies),
        "pending": written.exclude(status=OutgoingEmail.Status.SENT).count(),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }


if __name__ == "__main__":
    main()
