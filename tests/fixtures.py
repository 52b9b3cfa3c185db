"""The fixtures shared by every test (docs/architecture.md#tests): personas, a coordinator at
the academic center, a community oncologist at a linked practice, and an outsider at an
unrelated practice.

Registered as a plugin by the root conftest.py, so that the tests of every app see them."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from calendars.throttle import forget_wrong_keys
from carecoord.models import Site
from carecoord.roles import Role
from carecoord.web.choice_cache import forget_all_choices
from tests.factories import SiteFactory, member, patient_at
from tests.helpers import World, login, wait_for

# Hypothesis (and Schemathesis, which mines the app's modules for constants while collecting)
# caches what it reads and the examples it found under ./.hypothesis; nothing of a test run
# belongs in the working tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "carecoord-hypothesis")


@pytest.fixture(scope="session", autouse=True)
def no_stray_database_sessions(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, let go of sessions other processes left on it.

    A Celery worker killed on purpose, or the live server's thread, may still hold a
    connection for a moment; the drop would then fail with "being accessed by other users".
    """
    yield
    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test of this run used the database: none was made, nobody to let go of
    with django_db_blocker.unblock(), connection.cursor() as cursor:

        def others() -> int:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(cursor.fetchone()[0])

        with contextlib.suppress(AssertionError):
            wait_for(lambda: others() == 0, timeout=5, interval=0.1)
            return
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def no_choices_kept_from_earlier_tests() -> None:
    """The filter choices a list keeps per viewer (`carecoord.web.choice_cache`) are keyed by the
    user's id, which a new test database gives out again: nothing kept before a test is read."""
    forget_all_choices()


@pytest.fixture(autouse=True)
def no_wrong_feed_keys_counted() -> None:
    """Wrong calendar-feed keys are counted per address for an hour, in Redis, which outlives a
    test: those an earlier test tried from the test client's address are not held against it."""
    forget_wrong_keys("127.0.0.1")


@pytest.fixture
def world(db: None) -> World:
    center = SiteFactory.create(
        name="Lakeside CAR-T Center", kind=Site.Kind.ACADEMIC_CENTER, phone_24_7="+1 555 100 2400"
    )
    practice = SiteFactory.create(name="Riverbend Oncology")
    unrelated = SiteFactory.create(name="Prairie Hematology")
    center_coordinator = member(center, Role.COORDINATOR, email="coordinator@lakeside.test", full_name="Cora Center")
    community_oncologist = member(
        practice, Role.PHYSICIAN, email="oncologist@riverbend.test", full_name="Olive Oncologist"
    )
    community_coordinator = member(
        practice, Role.COORDINATOR, email="coordinator@riverbend.test", full_name="Rita Riverbend"
    )
    outsider = member(unrelated, Role.COORDINATOR, email="coordinator@prairie.test", full_name="Otto Outsider")
    shared = patient_at(
        practice, community_coordinator, shared_with=center, given_name="Sharon", family_name="Sharedcare"
    )
    foreign = patient_at(unrelated, outsider, given_name="Frank", family_name="Foreignsite")
    return World(
        center=center,
        practice=practice,
        unrelated_practice=unrelated,
        center_coordinator=center_coordinator,
        community_oncologist=community_oncologist,
        community_coordinator=community_coordinator,
        outsider=outsider,
        shared_patient=shared,
        foreign_patient=foreign,
    )


@pytest.fixture
def center_coordinator_client(client: Client, world: World) -> Client:
    return login(client, world.center_coordinator)


@pytest.fixture
def community_oncologist_client(client: Client, world: World) -> Client:
    return login(client, world.community_oncologist)


@pytest.fixture
def community_coordinator_client(client: Client, world: World) -> Client:
    return login(client, world.community_coordinator)


@pytest.fixture
def outsider_client(client: Client, world: World) -> Client:
    return login(client, world.outsider)


@pytest.fixture
def tmp_media(settings: Any, tmp_path: Path) -> Path:
    """Uploads of the test go to a folder of its own, removed with it."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path
