"""Benchmark: build and send every weekly digest at scale, on a real Celery worker.

10,000 patients, 500 point persons and 1,000,000 timeline events (sizes can be lowered with
BENCH_PATIENTS, BENCH_POINT_PERSONS, BENCH_EVENTS). Data is generated in SQL. Then the beat's
pass (`workspace.tasks.send_weekly_digests`) queues the digests in batches, and a Celery
worker whose pool has BENCH_WORKERS (2) processes builds each digest, writes its outbox row
and delivers it over SMTP to a local catcher (aiosmtpd). Reports the wall time until every
digest is built and until every message is received, and the peak memory (VmHWM) of each of
the worker's processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_bench .venv/bin/python -m bench.digests.run

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_bench")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.alerts.run import recreate_database  # noqa: E402
from carecoord.access.grants import grant_site_on_patient, sync_user_access  # noqa: E402
from carecoord.models import DigestDelivery, DigestPreference, Patient, Site, SiteMembership, User  # noqa: E402
from carecoord.roles import Role  # noqa: E402
from tests.smtp import smtp_catcher  # noqa: E402
from tests.worker import running_worker, worker_children  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
POINT_PERSONS = int(os.environ.get("BENCH_POINT_PERSONS", "500"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # processes of the Celery worker's pool
SITES = 10  # 5 centers, 5 practices


def _sites_and_people() -> None:
    """SITES sites, half of them centers, and POINT_PERSONS nurses spread over them in turn."""
    centers = [
        Site.objects.create(name=f"Bench Center {n}", kind=Site.Kind.ACADEMIC_CENTER, phone_24_7="+1 555 010 0000")
        for n in range(SITES // 2)
    ]
    practices = [
        Site.objects.create(name=f"Bench Practice {n}", kind=Site.Kind.COMMUNITY_PRACTICE, phone_24_7="+1 555 010 0001")
        for n in range(SITES // 2)
    ]
    sites = centers + practices
    password = make_password("not-used-bench-password")
    users = User.objects.bulk_create(
        User(email=f"pp{n}@bench.test", full_name=f"Point Person {n}", password=password) for n in range(POINT_PERSONS)
    )
    SiteMembership.objects.bulk_create(
        SiteMembership(user=user, site=sites[n % SITES], role=Role.NURSE, starts_on=dt.date(2024, 1, 1))
        for n, user in enumerate(users)
    )
    for user in users:
        sync_user_access(user)
    # Due from Monday 00:00 in site time: due this week whenever the benchmark runs.
    DigestPreference.objects.bulk_create(DigestPreference(user=user, weekday=0, hour=0) for user in users)


def generate() -> None:
    """Sites, point persons and patients, their care teams and a timeline of EVENTS entries."""
    _sites_and_people()
    Patient.objects.bulk_create(
        Patient(
            given_name="Bench",
            family_name=f"Patient{n}",
            date_of_birth=dt.date(1960, 1, 1),
            sex="female",
            disease_area="lbcl",
            phase="follow_up",
        )
        for n in range(PATIENTS)
    )
    with connection.cursor() as cursor:
        # Patient n is shared by practice n % 5 and center n % 5; its point persons are two
        # people at each site (primary, backup), so each person is point person for ~80 patients.
        cursor.execute(
            """
            WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM carecoord_patient)
            INSERT INTO carecoord_careteamlink (patient_id, site_id, capacity, joined_at)
            SELECT numbered.id, s.id, CASE WHEN s.kind = 'academic_center' THEN 'treating_center'
                                           ELSE 'community_practice' END, now()
            FROM numbered JOIN carecoord_site s
              ON s.name IN ('Bench Center ' || (n % 5), 'Bench Practice ' || (n % 5))
            """
        )
        cursor.execute(
            """
            WITH people AS (
                SELECT m.user_id, m.site_id, row_number() OVER (PARTITION BY m.site_id ORDER BY m.user_id) - 1 AS k,
                       count(*) OVER (PARTITION BY m.site_id) AS per_site
                FROM carecoord_sitemembership m
            ), links AS (
                SELECT l.id, l.site_id, row_number() OVER (PARTITION BY l.site_id ORDER BY l.id) - 1 AS j
                FROM carecoord_careteamlink l
            )
            INSERT INTO carecoord_pointperson (link_id, user_id, rank)
            SELECT links.id, people.user_id, CASE WHEN people.k = (links.j * 2) % people.per_site
                                                  THEN 'primary' ELSE 'backup' END
            FROM links JOIN people ON people.site_id = links.site_id
             AND people.k IN ((links.j * 2) % people.per_site, (links.j * 2 + 1) % people.per_site)
            """
        )
        cursor.execute(
            """
            INSERT INTO carecoord_timelineentry (patient_id, kind, occurred_at, title, body)
            SELECT p.id, 'comment', %s::timestamptz - (g %% 60) * interval '1 day',
                   'Comment from Bench Practice', ''
            FROM carecoord_patient p CROSS JOIN generate_series(1, %s) AS g
            """,
            [timezone.now(), max(1, EVENTS // PATIENTS)],
        )
    for patient in Patient.objects.prefetch_related("care_team__site"):
        for link in patient.care_team.all():
            grant_site_on_patient(site=link.site, patient=patient)
    with connection.cursor() as cursor:
        # Fresh planner statistics, as autovacuum keeps them on a live database.
        cursor.execute("ANALYZE")


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


def measure() -> None:
    """The beat's pass queues the digests; a Celery worker with WORKERS processes builds and
    sends them to the catcher. Times from the pass to the last row built and the last message
    received; peak memory of each of the worker's processes."""
    from workspace.tasks import send_weekly_digests

    with TemporaryDirectory() as tmp, smtp_catcher() as catcher:
        log = Path(tmp) / "worker.log"
        with running_worker(
            log, extra_env=catcher.env, consumes="default", pool="prefork", concurrency=WORKERS, startup_timeout=120
        ) as worker:
            pool = worker_children(worker)
            started = time.monotonic()
            queued = send_weekly_digests()
            built = DigestDelivery.objects.filter(email__isnull=False)
            _wait(lambda: built.count() >= queued, timeout=1800)
            build_seconds = time.monotonic() - started
            _wait(lambda: len(catcher.messages) >= queued, timeout=1800)
            total = time.monotonic() - started
            peaks = [_peak_rss_mib(pid) for pid in [worker.pid, *pool]]
    print(
        "| patients | point persons | timeline events | digests | build (workers) | build + send | "
        "peak memory (max RSS) per process |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {PATIENTS:,} | {POINT_PERSONS} | {EVENTS:,} | {queued} (SMTP received {len(catcher.messages)}) "
        f"| {build_seconds:.1f} s ({WORKERS}) | {total:.1f} s "
        f"| {' / '.join(f'{peak:.0f}' for peak in peaks)} MiB (worker / pool) |"
    )


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    recreate_database()
    started = time.monotonic()
    generate()
    print(f"generated in {time.monotonic() - started:.0f} s", flush=True)
    measure()


if __name__ == "__main__":
    main()
