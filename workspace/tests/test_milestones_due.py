"""The milestones-due page: the work queue's short list in full, by window, step and patient
(posted), paged, each row one click from its form, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.milestones.services import milestone_plan
from referrals.models import Milestone
from tests.factories import patient_at
from tests.helpers import World, accepted_referral, login
from workspace.milestones_due import DueRow

DUE = reverse("milestones-due")


def rows(response: Any) -> list[Milestone]:
    due: list[DueRow] = response.context["rows"]
    return [row.milestone for row in due]


def course(world: World) -> list[Milestone]:
    """The shared patient's accepted referral with its preparation planned: the authorization
    three days overdue, apheresis in two days, bridging therapy in ten."""
    today = timezone.localdate(timezone.now(), world.center.zone)
    referral = accepted_referral(world)
    return [
        milestone_plan(
            actor=world.center_coordinator,
            referral=referral,
            kind=kind,
            planned_on=today + dt.timedelta(days=days),
            confirm_date=True,
        )
        for kind, days in (("insurance_authorization", -3), ("apheresis", 2), ("bridging_therapy", 10))
    ]


def test_the_week_window_lists_overdue_first_with_their_forms(client: Client, world: World) -> None:
    overdue, this_week, later = course(world)
    login(client, world.community_oncologist)
    response = client.get(DUE)
    listed = rows(response)
    assert overdue in listed and this_week in listed and later not in listed
    assert listed == sorted(listed, key=lambda m: (m.planned_on, m.pk))
    html = response.content.decode()
    assert "Overdue" in html
    assert reverse("milestone-complete-form", kwargs={"milestone_id": overdue.pk}) in html
    only_overdue = rows(client.get(DUE, {"window": "overdue"}))
    assert overdue in only_overdue and this_week not in only_overdue


def test_filter_by_step_and_search_by_patient(client: Client, world: World) -> None:
    overdue, this_week, *_ = course(world)
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center, family_name="Other")
    accepted_referral(world, other)
    login(client, world.community_oncologist)
    assert rows(client.get(DUE, {"kind": this_week.kind})) == [this_week]
    searched = client.post(DUE, {"q": "Sharedcare", "window": "fortnight"})
    assert set(rows(searched)) >= {overdue, this_week}
    assert all(m.referral.patient_id == world.shared_patient.pk for m in rows(searched))
    # The search words are never read from an address.
    assert client.get(DUE, {"q": "Nobody"}).context["page"].paginator.count >= 2


def test_htmx_pushes_the_window_but_never_the_search(client: Client, world: World) -> None:
    course(world)
    login(client, world.community_oncologist)
    response = client.post(DUE, {"q": "Sharedcare", "window": "overdue"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()
    assert response["HX-Push-Url"] == f"{DUE}?window=overdue"


def test_the_outsider_sees_no_milestone_of_the_patient(client: Client, world: World) -> None:
    course(world)
    login(client, world.outsider)
    response = client.post(DUE, {"q": "Sharedcare", "window": "fortnight"})
    assert rows(response) == []
    assert "Sharon" not in response.content.decode().split('id="results"', 1)[1]


def test_query_count_does_not_grow_with_milestones_or_patients(client: Client, world: World) -> None:
    course(world)
    login(client, world.community_oncologist)
    client.get(DUE, {"window": "fortnight"})
    with CaptureQueriesContext(connection) as few:
        first = client.get(DUE, {"window": "fortnight"})
    today = timezone.localdate(timezone.now(), world.center.zone)
    for index in range(6):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        referral = accepted_referral(world, patient)
        for kind in ("insurance_authorization", "apheresis"):
            milestone_plan(
                actor=world.center_coordinator,
                referral=referral,
                kind=kind,
                planned_on=today + dt.timedelta(days=index % 5),
                confirm_date=True,
            )
    client.get(DUE, {"window": "fortnight"})  # the session's activity stamp, refreshed here, not measured
    with CaptureQueriesContext(connection) as many:
        second = client.get(DUE, {"window": "fortnight"})
    assert len(rows(second)) > len(rows(first))
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
