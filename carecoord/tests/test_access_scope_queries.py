"""The access scope as PostgreSQL sees it: the user's side looked up first, once per request,
then one filter on the grant table's own columns that the planner can estimate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from carecoord.access import patients_visible_to
from carecoord.access.scope import access_key
from carecoord.request_context import request_context
from carecoord.roles import Role
from carecoord.services.memberships import membership_start
from tests.factories import UserFactory
from tests.helpers import World

pytestmark = pytest.mark.django_db


def test_the_scoped_query_filters_the_grant_table_on_its_own_columns(world: World) -> None:
    sql = str(patients_visible_to(world.center_coordinator).query)
    assert "group_id" in sql and "permission_id" in sql
    # No join through the user's groups or the permission's content type in the scoped query.
    for table in ("auth_user_groups", "django_content_type", "auth_permission"):
        assert table not in sql


def test_the_users_side_is_looked_up_once_per_request(world: World) -> None:
    list(patients_visible_to(world.outsider))  # the permission ids, once per process
    with request_context(RequestFactory().get("/")), CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            list(patients_visible_to(world.center_coordinator))
    lookups = [q["sql"] for q in queries.captured_queries if "carecoord_siterolegroup" in q["sql"]]
    assert len(lookups) == 1
    assert len(queries.captured_queries) == 1 + 3  # the user's groups, then the three reads


def test_outside_a_request_each_read_sees_the_groups_of_now(world: World) -> None:
    newcomer = UserFactory.create()
    assert list(patients_visible_to(newcomer)) == []
    membership_start(user=newcomer, site=world.center, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    assert list(patients_visible_to(newcomer)) == [world.shared_patient]


def test_a_change_of_groups_within_a_request_is_seen_by_the_next_read(world: World) -> None:
    newcomer = UserFactory.create()
    with request_context(RequestFactory().get("/")):
        assert list(patients_visible_to(newcomer)) == []
        membership_start(user=newcomer, site=world.center, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
        assert list(patients_visible_to(newcomer)) == [world.shared_patient]


def test_an_inactive_account_has_no_side_to_look_up(world: World) -> None:
    world.center_coordinator.is_active = False
    with CaptureQueriesContext(connection) as queries:
        key = access_key(world.center_coordinator)
        assert list(patients_visible_to(world.center_coordinator)) == []
    assert key.site_of_group == {}
    assert queries.captured_queries == []
