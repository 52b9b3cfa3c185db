"""Benchmark: build and send every weekly digest at scale.

10,000 patients, 500 point persons and 1,000,000 timeline events (sizes can be lowered with
BENCH_PATIENTS, BENCH_POINT_PERSONS, BENCH_EVENTS). Data is generated in SQL; then
`send_due_digests` builds every digest and writes its outbox row, and every row is delivered
over SMTP to a local catcher (aiosmtpd). Reports wall time of build + send and the process's peak memory (max RSS).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carecoord_bench .venv/bin/python -m bench.digests.run

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import resource
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carecoord_bench")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402

from bench.alerts.run import recreate_database  # noqa: E402
from carecoord.access.grants import grant_site_on_patient, sync_user_access  # noqa: E402
from carecoord.emails import email_claim, email_deliver  # noqa: E402
from carecoord.models import OutgoingEmail, Patient, Site, SiteMembership, User  # noqa: E402
from carecoord.roles import Role  # noqa: E402
from tests.smtp import smtp_catcher  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
POINT_PERSONS = int(os.environ.get("BENCH_POINT_PERSONS", "500"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
SITES = 10  # 5 centers, 5 practices
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # a Monday, after 07:00 in every US zone


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
            [NOW, max(1, EVENTS // PATIENTS)],
        )
    for patient in Patient.objects.prefetch_related("care_team__site"):
        for link in patient.care_team.all():
            grant_site_on_patient(site=link.site, patient=patient)
    with connection.cursor() as cursor:
        # Fresh planner statistics, as autovacuum keeps them on a live database.
        cursor.execute("ANALYZE")


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    recreate_database()
    started = time.monotonic()
    generate()
    print(f"generated in {time.monotonic() - started:.0f} s", flush=True)

    import time_machine

    from workspace.digests.services import send_due_digests

    with (
        smtp_catcher() as catcher,
        override_settings(
            MAILERS={
                "default": {
                    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                    "OPTIONS": {"host": catcher.host, "port": catcher.port, "timeout": 10},
                }
            }
        ),
        time_machine.travel(NOW, tick=True),
    ):
        started = time.monotonic()
        built = send_due_digests()
        build_seconds = time.monotonic() - started
        for email_id in OutgoingEmail.objects.filter(status="pending").values_list("pk", flat=True):
            email = email_claim(email_id).email
            if email is not None:
                email_deliver(email)
        total = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| patients | point persons | timeline events | digests | build | build + send | peak memory (max RSS) |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {PATIENTS:,} | {POINT_PERSONS} | {EVENTS:,} | {built} (SMTP received {len(catcher.messages)}) "
        f"| {build_seconds:.1f} s | {total:.1f} s | {rss:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
