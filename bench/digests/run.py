"""Benchmark: build and send every weekly digest at scale, on a real Celery worker.

The network of `bench.dataset` (10,000 patients, about 500 people and 1.2 million rows of the
patient record: milestones planned and done with their moves, toxicities with assessments,
treatments and alerts, hand-offs, comments, referrals; smaller with BENCH_PATIENTS and
BENCH_POINT_PERSONS). Then the beat's pass (`workspace.tasks.send_weekly_digests`) queues the
digests in batches, and a Celery worker whose pool has BENCH_WORKERS (2) processes builds each
digest, writes its outbox row and delivers it over SMTP to a local catcher (aiosmtpd). Reports
the wall time until every digest is built and until every message is received, and the peak
memory (VmHWM) of each of the worker's processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_bench .venv/bin/python -m bench.digests.run

BENCH_WORKER_LOG=<file> keeps the worker's log (each task and how long it took) there.

The database named in DATABASE_URL is built again unless it already holds the same network,
built in the last day (BENCH_REBUILD=1 builds it anyway); the digests of earlier runs are
deleted first.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.dataset import Dataset, Sizes, build, stored  # noqa: E402
from carecoord.models import DigestDelivery, DigestPreference, OutgoingEmail  # noqa: E402
from tests.smtp import smtp_catcher  # noqa: E402
from tests.worker import running_worker, worker_children  # noqa: E402
from workspace.digests.services import TEMPLATE, point_persons  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # processes of the Celery worker's pool
FRESH = dt.timedelta(days=1)  # a stored network older than this is built again: "last week" moves


def network() -> Dataset:
    """The benchmark's network: the stored one if it is the same and fresh, else a new build."""
    sizes = Sizes.from_env()
    dataset = stored()
    if (
        os.environ.get("BENCH_REBUILD") != "1"
        and dataset is not None
        and dataset.sizes == sizes
        and timezone.now() - dataset.now < FRESH
    ):
        call_command("migrate", verbosity=0)  # the code may have moved on since the build
        print(f"network of {dataset.now:%Y-%m-%d %H:%M} UTC reused", flush=True)
        return dataset
    dataset = build(sizes)
    print(f"network built in {dataset.seconds:.0f} s", flush=True)
    return dataset


def reset_digests() -> int:
    """Forget the digests of earlier runs and make every point person's due whenever the
    benchmark runs (Monday 00:00 in site time has always passed this week). Returns how many
    point persons there are."""
    OutgoingEmail.objects.filter(template=TEMPLATE).delete()
    DigestDelivery.objects.all().delete()
    people = point_persons()
    DigestPreference.objects.filter(user__in=people).delete()
    DigestPreference.objects.bulk_create(DigestPreference(user=user, weekday=0, hour=0) for user in people)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE carecoord_digestdelivery, carecoord_outgoingemail, carecoord_digestpreference")
    return len(people)


def _peak_rss_mib(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the digests did not all arrive in time")
        time.sleep(0.1)


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(dataset: Dataset, people: int) -> None:
    """The beat's pass queues the digests; a Celery worker with WORKERS processes builds and
    sends them to the catcher. Times from the pass to the last row built and the last message
    received; peak memory of each of the worker's processes; the CPU time the worker's pool and
    this process (the catcher) used, which other programs loading the machine change less than
    the wall time. (PostgreSQL's share is not counted: Celery closes the connection after
    every task, so the server processes that served the run are gone by its end.)"""
    from workspace.tasks import send_weekly_digests

    with TemporaryDirectory() as tmp, smtp_catcher() as catcher:
        log = Path(tmp) / "worker.log"
        with running_worker(
            log, extra_env=catcher.env, consumes="default", pool="prefork", concurrency=WORKERS, startup_timeout=120
        ) as worker:
            pool = worker_children(worker)
            pool_cpu, own_cpu = sum(_cpu_seconds(pid) for pid in pool), time.process_time()
            started = time.monotonic()
            queued = send_weekly_digests()
            built = DigestDelivery.objects.filter(email__isnull=False)
            _wait(lambda: built.count() >= queued, timeout=1800)
            build_seconds = time.monotonic() - started
            _wait(lambda: len(catcher.messages) >= queued, timeout=1800)
            total = time.monotonic() - started
            pool_cpu = sum(_cpu_seconds(pid) for pid in pool) - pool_cpu
            own_cpu = time.process_time() - own_cpu
            peaks = [_peak_rss_mib(pid) for pid in [worker.pid, *pool]]
        if keep := os.environ.get("BENCH_WORKER_LOG"):
            shutil.copy(log, keep)
    print(
        "| patients | point persons | rows of the patient record | digests | built (all) | built and sent (all) "
        "| CPU: pool / catcher | peak memory (max RSS) per process |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {dataset.sizes.patients:,} | {people} | {dataset.timeline_rows:,} "
        f"| {queued} (SMTP received {len(catcher.messages)}) | {build_seconds:.1f} s | {total:.1f} s "
        f"| {pool_cpu:.1f} / {own_cpu:.1f} s "
        f"| {' / '.join(f'{peak:.0f}' for peak in peaks)} MiB (worker / {WORKERS} pool processes); "
        f"this process {_peak_rss_mib(os.getpid()):.0f} MiB |"
    )
    print(f"load average at the end: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    dataset = network()
    measure(dataset, reset_digests())


if __name__ == "__main__":
    main()
