"""Benchmark: same-day toxicity alerts from commit to sent, with a real worker, Redis and SMTP.

500 toxicity events over 100 patients; every event alerts the four point persons of the
patient's care team (2,000 alerts; the recorder's own counts as seen, so 1,500 emails).
Reports p50 and p95 from the event's commit to the SMTP catcher receiving the email, and the
numbers of lost and duplicated alerts (both must be 0).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_bench .venv/bin/python -m bench.alerts.run

The database named in DATABASE_URL is dropped and created again. Results are printed as a
Markdown table to paste into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from carecoord.models import OutgoingEmail, Patient, Site, User  # noqa: E402
from carecoord.roles import Role  # noqa: E402
from carecoord.services.care_teams import care_team_name_point_person  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from tests.factories import SiteFactory, member, patient_at  # noqa: E402
from tests.smtp import Catcher, smtp_catcher  # noqa: E402
from toxicity.models import Alert  # noqa: E402
from toxicity.services import toxicity_record  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "500"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100"))
CONCURRENCY = os.environ.get("BENCH_CONCURRENCY", "4")
ROOT = Path(__file__).resolve().parents[2]


def recreate_database() -> None:
    name = connection.settings_dict["NAME"]
    connection.close()
    admin = {**connection.settings_dict, "NAME": "postgres"}
    import psycopg

    with psycopg.connect(
        host=admin["HOST"] or "127.0.0.1",
        port=admin["PORT"] or 5432,
        user=admin["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def build_world() -> tuple[User, Site, list[Patient]]:
    center = SiteFactory.create(name="Bench Center", kind=Site.Kind.ACADEMIC_CENTER)
    practice = SiteFactory.create(name="Bench Practice")
    coordinator = member(practice, Role.COORDINATOR, email="coordinator@practice.bench")
    physician = member(practice, Role.PHYSICIAN, email="physician@practice.bench")
    center_coordinator = member(center, Role.COORDINATOR, email="coordinator@center.bench")
    center_nurse = member(center, Role.NURSE, email="nurse@center.bench")
    patients = []
    for _ in range(PATIENTS):
        patient = patient_at(practice, coordinator, shared_with=center)
        for site, actor, primary, backup in (
            (practice, coordinator, physician, coordinator),
            (center, center_coordinator, center_nurse, center_coordinator),
        ):
            link = patient.care_team.get(site=site)
            care_team_name_point_person(actor=actor, link=link, user=primary, rank="primary")
            care_team_name_point_person(actor=actor, link=link, user=backup, rank="backup")
        patients.append(patient)
    return physician, practice, patients


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    recreate_database()
    physician, practice, patients = build_world()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    alert_queue = f"{queue}-alerts"  # alert emails have a queue of their own
    celery_app.conf.task_default_queue = queue
    override_settings(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_ALERT_QUEUE=alert_queue).enable()
    with smtp_catcher() as catcher, TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            **catcher.env,
            "CELERY_QUEUE": queue,
            "CELERY_ALERT_QUEUE": alert_queue,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
        }
        log = Path(tmp) / "worker.log"
        with log.open("wb") as out:
            worker = _start_worker([queue, alert_queue], env, out)
            time.sleep(5)
            started = time.monotonic()
            committed = _record_events(physician, practice, patients)
            recorded = time.monotonic() - started
            expected = Alert.objects.filter(email__isnull=False).count()  # the recorder gets none
            deadline = time.monotonic() + 600
            while len(catcher.messages) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(5)  # anything arriving late would be a duplicate
            worker.terminate()
            worker.wait(timeout=30)

    _report(catcher, committed, expected, recorded)


def _start_worker(queues: list[str], env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    """A Celery worker on the benchmark's own queues, its output in `out`."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={CONCURRENCY}",
            f"--queues={','.join(queues)}",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _record_events(physician: User, practice: Site, patients: list[Patient]) -> dict[int, float]:
    """Record EVENTS toxicities in turn; returns when each one's transaction committed."""
    committed: dict[int, float] = {}
    for n in range(EVENTS):
        event = toxicity_record(
            actor=physician,
            patient=patients[n % len(patients)],
            site=practice,
            kind="infection",
            onset_at=timezone.now() - dt.timedelta(minutes=5),
            ctcae_grade=2 + n % 3,
        )
        committed[event.pk] = time.time()
    return committed


def _report(catcher: Catcher, committed: dict[int, float], expected: int, recorded: float) -> None:
    """The table of latencies from commit to SMTP; exits 1 if an alert was lost or duplicated."""
    ids = Counter(str(m["Message-ID"]) for m in catcher.messages)
    received_at = {message_id: catcher.received_at[message_id] for message_id in ids}
    latencies = []
    for alert in Alert.objects.filter(email__isnull=False):
        message_id = f"<carecoord-email-{alert.email_id}@{_host()}>"
        if message_id in received_at:
            latencies.append(received_at[message_id] - committed[alert.event_id])
    lost = expected - len(latencies)
    duplicated = sum(count - 1 for count in ids.values() if count > 1)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    sent = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()
    print("| events | alerts | recorded in | p50 commit→SMTP | p95 commit→SMTP | lost | duplicated | rows sent |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {EVENTS} | {expected} | {recorded:.1f} s | {p50:.2f} s | {p95:.2f} s | {lost} | {duplicated} | {sent} |")
    if lost or duplicated:
        sys.exit(1)


def _host() -> str:
    from urllib.parse import urlsplit

    from django.conf import settings

    return str(urlsplit(settings.SITE_URL).hostname)


if __name__ == "__main__":
    main()
