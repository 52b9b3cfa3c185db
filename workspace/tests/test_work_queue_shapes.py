"""The work queue keeps each list's query built for each shape of viewer (`built_per_shape`),
and compiled (`read_per_shape`): people of the same roles at the same sites read the same
statement, each their own rows, and what they may see is read when the statement runs, not
when it was built."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client

from carecoord.access import patients_visible_to
from carecoord.models import Patient, User
from carecoord.roles import Role
from carecoord.selectors.sites import active_memberships_of
from carecoord.services.memberships import membership_start
from carecoord.work_queue import QueueScope, built_per_shape, read_per_shape
from tests.factories import member, patient_at
from tests.helpers import World, dashboard_queue, grade_2_event, in_a_request, login
from workspace.work_queue import queue_scope


def test_a_list_is_built_once_a_shape_and_reads_the_grants_as_it_runs(world: World) -> None:
    built: list[int | None] = []

    @built_per_shape()
    def visible(scope: QueueScope) -> QuerySet[Patient]:
        built.append(scope.user.pk)
        return patients_visible_to(scope.user).order_by("family_name")

    def read(user: User) -> list[Patient]:
        return in_a_request(lambda: list(visible(queue_scope(user, active_memberships_of(user)))))

    colleague = member(world.practice, Role.PHYSICIAN)  # the oncologist's role at the same site
    assert read(world.community_oncologist) == [world.shared_patient]
    assert read(colleague) == [world.shared_patient]
    assert built == [world.community_oncologist.pk]
    # Another shape, another statement: the outsider sees their own site's patient alone.
    assert read(world.outsider) == [world.foreign_patient]
    assert built == [world.community_oncologist.pk, world.outsider.pk]
    # A patient registered since is read by the statement already built.
    registered = patient_at(world.practice, world.community_coordinator, family_name="Zuletzt")
    assert read(colleague) == [world.shared_patient, registered]
    assert len(built) == 2
    # A second role at another site changes the shape.
    member_too = member(world.practice, Role.PHYSICIAN)
    membership_start(user=member_too, site=world.unrelated_practice, role=Role.PHYSICIAN, starts_on=dt.date(2020, 1, 1))
    assert set(read(member_too)) == {world.shared_patient, registered, world.foreign_patient}
    assert len(built) == 3


def test_people_of_one_shape_each_see_their_own_alerts(client: Client, world: World) -> None:
    event = grade_2_event(world)  # the practice's point persons are alerted
    colleague = member(world.practice, Role.PHYSICIAN)  # same role and site, not a point person
    login(client, world.community_oncologist)
    assert [alert.event for alert in dashboard_queue(client).context["work_queue"].rows("alerts")] == [event]
    login(client, colleague)
    assert dashboard_queue(client).context["work_queue"].rows("alerts") == []
    login(client, world.community_oncologist)
    assert [alert.event for alert in dashboard_queue(client).context["work_queue"].rows("alerts")] == [event]
    login(client, world.outsider)
    queue = dashboard_queue(client).context["work_queue"]
    assert queue.rows("alerts") == []
    assert queue.rows("handoffs") == []
    assert queue.rows("waiting") == []


def test_a_list_read_as_built_is_compiled_once_and_reads_the_rows_of_now(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    @read_per_shape()
    def visible(scope: QueueScope) -> QuerySet[Patient]:
        return patients_visible_to(scope.user).order_by("family_name")

    compiled: list[object] = []
    as_sql = SQLCompiler.as_sql

    def counted(compiler: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        compiled.append(compiler.query.model)
        return as_sql(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)

    def read(user: User) -> list[Patient]:
        scope = queue_scope(user, active_memberships_of(user))
        compiled.clear()
        return in_a_request(lambda: visible(scope))

    colleague = member(world.practice, Role.PHYSICIAN)
    assert read(world.community_oncologist) == [world.shared_patient]
    assert compiled  # the first read compiles the statement
    registered = patient_at(world.practice, world.community_coordinator, family_name="Zuletzt")
    assert read(colleague) == [world.shared_patient, registered]
    assert compiled == []  # read again with the statement kept, and the rows of now
    assert read(world.outsider) == [world.foreign_patient]
    assert compiled  # another shape, another statement


def test_outside_a_request_a_list_is_built_each_time(world: World) -> None:
    """The shape and the query each read the viewer's groups; only a request reads them once for
    both, so only then is a query kept (outside one, a change of groups in between would file a
    query built for the new groups under the old shape)."""
    built: list[int | None] = []

    @built_per_shape()
    def visible(scope: QueueScope) -> QuerySet[Patient]:
        built.append(scope.user.pk)
        return patients_visible_to(scope.user)

    user = world.community_oncologist
    scope = queue_scope(user, active_memberships_of(user))
    assert list(visible(scope)) == list(visible(scope)) == [world.shared_patient]
    assert built == [user.pk, user.pk]
    in_a_request(lambda: list(visible(scope)))
    in_a_request(lambda: list(visible(scope)))
    assert built == [user.pk, user.pk, user.pk]
