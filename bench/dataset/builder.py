"""Build the network's database: sites and groups through the app, everything else with COPY."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from bench.dataset.derived import write_alert_emails, write_grants
from bench.dataset.people import PERSONAS, build_network, practice_sizes
from bench.dataset.sizes import Sizes
from bench.dataset.stories import Stories, center_index, practice_index
from bench.dataset.tables import Loader, connect
from candidates.standings import refresh_every_standing
from carecoord.models import Product
from handoffs.models import HandoffTemplate, HandoffTemplateVersion
from tests.helpers import complete_values  # a value for every field, as the tests fill them

logger = logging.getLogger(__name__)
BATCH = 1000  # patients whose rows are copied together while the next ones are written
VERSION = 5  # of the dataset's shapes: a database built by another version is built again


@dataclass(frozen=True)
class Dataset:
    """What a build made: its sizes, the moment it was built for, the personas and row counts."""

    sizes: Sizes
    now: dt.datetime
    personas: dict[str, int]  # persona key (bench.dataset.people.PERSONAS) -> user id
    emails: dict[str, str]  # persona key -> email (the sign-in name)
    showcase_patient: str  # the patient whose timeline holds TIMELINE_SHOWCASE entries
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written by COPY
    seconds: float = 0.0
    version: int = VERSION

    @property
    def timeline_rows(self) -> int:
        """Rows of the patient record a timeline or a list shows (the "1.15 million")."""
        record = (
            "carecoord_timelineentry",
            "referrals_milestone",
            "referrals_referralmove",
            "referrals_referral",
            "referrals_referraldocument",
            "toxicity_toxicityevent",
            "toxicity_toxicityassessment",
            "toxicity_toxicitytreatment",
            "toxicity_alert",
            "handoffs_handoff",
            "handoffs_handoffquestion",
        )
        return sum(self.rows.get(name, 0) for name in record)

    def to_json(self) -> str:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Dataset:
        data = json.loads(text)
        data["sizes"] = Sizes(**data["sizes"])
        data["now"] = dt.datetime.fromisoformat(data["now"])
        return cls(**data)


def _versions() -> dict[str, tuple[int, str, int, dict[str, Any]]]:
    """The latest published version of each shared template, with a value for every field."""
    if not HandoffTemplateVersion.objects.filter(status="published", template__owner_site=None).exists():
        # A test database flushed by a transactional test has lost the shipped templates.
        importlib.import_module("handoffs.migrations.0002_shipped_templates").ship(apps, None)
    versions = {}
    for template in HandoffTemplate.objects.filter(owner_site=None):
        version = template.versions.filter(status="published").order_by("-number").first()
        if version is None:
            continue
        versions[template.name] = (version.pk, template.name, version.number, complete_values(template))
    return versions


def _loads(patients: int) -> dict[str, int]:
    """Patients per site, to staff each site in proportion."""
    small, medium = practice_sizes(patients)
    loads: Counter[str] = Counter()
    for i in range(patients):
        loads[f"P{practice_index(i, small, medium)}"] += 1
        loads[f"C{center_index(i)}"] += 1
    return dict(loads)


def generate(sizes: Sizes, now: dt.datetime, *, fast: bool) -> Dataset:
    """Write the network into the current database, in one transaction. `fast` leaves the
    foreign-key triggers out while loading (a new database of our own: every key is made here)."""
    started = time.monotonic()
    with transaction.atomic():
        if fast:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        network = build_network(
            now=now, people=sizes.people, loads=_loads(sizes.patients), rng=random.Random(sizes.seed)
        )
        products = [(p.pk, p.brand_name, list(p.disease_areas)) for p in Product.objects.filter(is_active=True)]
        stories = Stories(network=network, sizes=sizes, now=now, products=products, versions=_versions())
        first_link, first_alert = stories.tables["links"].next_id, stories.tables["alerts"].next_id
        tables = list(stories.tables.values())
        loader = Loader() if fast else None
        for i in range(sizes.patients):
            stories.patient(i)
            if loader is not None and (i + 1) % BATCH == 0:
                loader.submit([table.spool() for table in tables])
        stories.busy_practice()
        logger.info("stories written in %.1f s", time.monotonic() - started)
        if loader is not None:
            loader.submit([table.spool() for table in tables])
            loader.finish()
            for table in tables:
                table.move_sequence()
        else:
            for table in tables:
                table.load()
        logger.info("stories loaded in %.1f s", time.monotonic() - started)
        rows = {"carecoord_user": len(network.people), **{table.name: table.count for table in tables}}
        loading = time.monotonic()
        rows["carecoord_patientgroupobjectpermission"] = write_grants(network, first_link_id=first_link)
        rows["carecoord_outgoingemail"] = write_alert_emails(first_alert_id=first_alert)
        logger.info("grants and alert emails written in %.1f s", time.monotonic() - loading)
        rows["candidates_candidatestanding"] = refresh_every_standing(now)
        logger.info("candidate standings written in %.1f s", time.monotonic() - loading)
        dataset = Dataset(
            sizes=sizes,
            now=now,
            personas=network.personas,
            emails={persona.key: persona.email for persona in PERSONAS},
            showcase_patient=str(stories.showcase_id),
            rows=rows,
            seconds=0.0,
        )
    return dataset


def recreate_database() -> None:
    """Drop the database named in the settings, create it again and migrate it."""
    name = connection.settings_dict["NAME"]
    connection.close()
    with connect("postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def stored() -> Dataset | None:
    """The dataset the current database was built with (kept as the database's comment)."""
    name = connection.settings_dict["NAME"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
            row = cursor.fetchone()
    except Exception:  # no such database yet
        connection.close()
        return None
    if not row or not row[0]:
        return None
    try:
        return Dataset.from_json(row[0])
    except (ValueError, TypeError, KeyError):
        return None


def build(sizes: Sizes | None = None, *, now: dt.datetime | None = None, recreate: bool = True) -> Dataset:
    """Build the network at `sizes` (default: from the environment), dated up to `now`.

    `recreate` (the benchmarks): drop and create the database named in the settings, migrate it,
    load it without foreign-key triggers, VACUUM ANALYZE it and note the dataset in the
    database's comment (`stored()` reads it back). Without (tests): write into the current
    database and transaction, with every constraint checked, and ANALYZE nothing.
    """
    sizes = sizes or Sizes.from_env()
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    started = time.monotonic()
    if recreate:
        recreate_database()
        logger.info("database created and migrated in %.1f s", time.monotonic() - started)
    dataset = generate(sizes, now, fast=recreate)
    if recreate:
        vacuum = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        logger.info("VACUUM ANALYZE in %.1f s", time.monotonic() - vacuum)
    seconds = time.monotonic() - started
    dataset = Dataset(**{**asdict(dataset), "sizes": sizes, "seconds": round(seconds, 1)})
    if recreate:
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            cursor.execute(f'COMMENT ON DATABASE "{name}" IS %s', [dataset.to_json()])
    return dataset


def ensure(sizes: Sizes | None = None, *, rebuild: bool = False) -> tuple[Dataset, bool]:
    """The network of `sizes` (default: from the environment) in the database named in the
    settings: the one already there if it was built at these sizes by this version of the
    shapes, else built now (`rebuild` always builds). Returns it and whether it was built."""
    sizes = sizes or Sizes.from_env()
    found = stored()
    if found is not None and found.sizes == sizes and found.version == VERSION and not rebuild:
        return found, False
    return build(sizes), True
