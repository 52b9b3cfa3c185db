"""The access scope as PostgreSQL sees it: the user's side looked up first, once per request,
then one filter on the grant table's own columns that the planner can estimate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from carecoord.access import acting_capabilities, patients_visible_to, visible_patient_count, visible_patient_ids
from carecoord.access.acting import first_acting_site_ids
from carecoord.access.grants import grant_site_on_patient, revoke_site_on_patient
from carecoord.access.scope import access_key, capabilities_by_patient, patient_capabilities
from carecoord.request_context import request_context
from carecoord.roles import Capability, Role
from carecoord.services.memberships import membership_start
from tests.factories import UserFactory, member, patient_at
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


def test_the_visible_patients_are_one_subquery_per_request_and_each_reader_has_its_own_copy(world: World) -> None:
    user = world.center_coordinator
    with request_context(RequestFactory().get("/")):
        first, second = visible_patient_ids(user), visible_patient_ids(user)
        assert list(access_key(user).visible) == [Capability.VIEW]  # built once
        assert first is not second and str(first.query) == str(second.query)
        assert list(first.filter(content_object_id=world.foreign_patient.pk)) == []  # narrowing a copy...
        assert list(second.values_list("content_object_id", flat=True)) == [world.shared_patient.pk]  # ...not the rest
        assert str(visible_patient_ids(user, Capability.RECORD_CARE).query) != str(first.query)


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


def _grant_reads(queries: CaptureQueriesContext) -> int:
    return sum('FROM "carecoord_patientgroupobjectpermission"' in q["sql"] for q in queries.captured_queries)


def test_what_a_user_may_do_for_a_patient_is_read_once_per_request(world: World) -> None:
    patient = world.shared_patient.pk
    with request_context(RequestFactory().get("/")), CaptureQueriesContext(connection) as queries:
        by_site = acting_capabilities(world.center_coordinator, [patient])
        assert Capability.RECORD_CARE in patient_capabilities(world.center_coordinator, world.shared_patient)
        assert first_acting_site_ids(world.center_coordinator, [patient]) == {patient: world.center.pk}
        assert acting_capabilities(world.outsider, [patient]) == {}  # another person: read for them
        assert capabilities_by_patient(world.outsider, [patient]) == {}
    assert set(by_site[patient]) == {world.center.pk}
    assert _grant_reads(queries) == 2  # one for each person


def test_grants_written_within_a_request_are_read_again(world: World) -> None:
    with request_context(RequestFactory().get("/")):
        assert acting_capabilities(world.outsider, [world.shared_patient.pk]) == {}
        grant_site_on_patient(site=world.unrelated_practice, patient=world.shared_patient)
        assert set(acting_capabilities(world.outsider, [world.shared_patient.pk])[world.shared_patient.pk]) == {
            world.unrelated_practice.pk
        }
        revoke_site_on_patient(site=world.unrelated_practice, patient=world.shared_patient)
        assert acting_capabilities(world.outsider, [world.shared_patient.pk]) == {}


def test_the_count_of_visible_patients_counts_each_patient_once(world: World) -> None:
    """`visible_patient_count` reads the grants alone: a patient granted through two of the
    person's sites (both on the care team) is one patient, as `patients_visible_to` counts."""
    both = member(world.center)
    membership_start(user=both, site=world.practice, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    patient_at(world.center, world.center_coordinator)
    seen = patients_visible_to(both).count()
    assert seen >= 3
    assert visible_patient_count(both) == seen
    assert visible_patient_count(world.outsider) == patients_visible_to(world.outsider).count()
