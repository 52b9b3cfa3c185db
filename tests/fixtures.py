"""Personas shared by every test (STYLE.md): a coordinator at the academic center, a
community oncologist at a linked practice, and an outsider at an unrelated practice."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis.configuration import set_hypothesis_home_dir

from carecoord.accounts.api_tokens import api_token_create
from carecoord.models import Patient, Site, User
from carecoord.roles import Role
from tests.factories import SiteFactory, authenticator, member, patient_at

# The `browser` fixture (Debian's Chromium through Playwright).
pytest_plugins = ["tests.browser"]

# Hypothesis (and Schemathesis, which mines the app's modules for constants while collecting)
# caches what it reads and the examples it found under ./.hypothesis; nothing of a test run
# belongs in the working tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "carecoord-hypothesis")


@dataclass
class World:
    center: Site
    practice: Site
    unrelated_practice: Site
    center_coordinator: User
    community_oncologist: User
    community_coordinator: User
    outsider: User
    shared_patient: Patient
    foreign_patient: Patient


@pytest.fixture(scope="session", autouse=True)
def no_stray_database_sessions(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped, let go of sessions other processes left on it.

    A Celery worker killed on purpose, or the live server's thread, may still hold a
    connection for a moment; the drop would then fail with "being accessed by other users".
    """
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


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


def login(client: Client, user: User) -> Client:
    """Sign `user` in with both factors passed, as after the password and the app's code.

    The sign-in pages themselves (password, throttling, second factor) are tested through
    their forms in tests/test_security_auth.py."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()
    return client


@pytest.fixture
def center_coordinator_client(client: Client, world: World) -> Client:
    return login(client, world.center_coordinator)


@pytest.fixture
def community_oncologist_client(client: Client, world: World) -> Client:
    return login(client, world.community_oncologist)


@pytest.fixture
def outsider_client(client: Client, world: World) -> Client:
    return login(client, world.outsider)


def api_token_header(user: User) -> str:
    """The `Authorization` header value that authenticates `user` to the API with a new token."""
    _token, key = api_token_create(user=user, name="tests")
    return f"Token {key}"
