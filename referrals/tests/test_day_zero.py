"""One day 0: every page, API, email, digest, prefill and toxicity count agree on it.

The fixture is an infusion planned for 11 Jan 2027 and done two days late, on 13 Jan: the
actual date is day 0 for everyone, and the dates that follow from it moved with it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from carecoord.models import OutgoingEmail, Patient
from handoffs.models import HandoffTemplate
from handoffs.services import handoff_start
from referrals.day_zero import (
    CourseDay,
    InfusionRow,
    course_day,
    current_infusion,
    day_zero_by_patient,
    day_zero_of,
    day_zero_subquery,
    infusion_by_patient,
)
from referrals.milestones.services import milestone_cancel, milestone_set_infusion
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.helpers import World, accept, api_token_header, draft_referral, infused, login, name_point_persons
from toxicity.models import ToxicityEvent
from toxicity.services import toxicity_record
from workspace.digests.build import build_digest

pytestmark = pytest.mark.django_db

PLANNED, ACTUAL = dt.date(2027, 1, 11), dt.date(2027, 1, 13)
NOW = dt.datetime(2027, 1, 20, 18, 0, tzinfo=dt.UTC)  # noon in Chicago, day +7 from the actual infusion
CRS: dict[str, Any] = {"temperature_c": 38.5}


@pytest.fixture
def late(world: World) -> World:
    with time_machine.travel(NOW, tick=False):
        infused(world, PLANNED, ACTUAL)
    return world


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_four_doors_give_the_actual_date(late: World) -> None:
    patient = late.shared_patient
    loaded = list(Milestone.objects.filter(referral__patient=patient))

    assert day_zero_of(patient) == ACTUAL
    assert day_zero_by_patient([patient.pk]) == {patient.pk: ACTUAL}
    assert Patient.objects.annotate(day=day_zero_subquery("pk")).get(pk=patient.pk).day == ACTUAL
    infusion = current_infusion(loaded)
    assert infusion is not None and infusion.day_zero == ACTUAL


def test_infusion_done_late_moves_every_date_that_follows_from_it(late: World) -> None:
    planned = dict(Milestone.objects.filter(referral__patient=late.shared_patient).values_list("kind", "planned_on"))

    assert planned[MilestoneKind.INFUSION] == PLANNED  # the plan is kept as history
    assert planned[MilestoneKind.NO_DRIVING_END] == ACTUAL + dt.timedelta(days=14)
    assert planned[MilestoneKind.STAY_NEAR_CENTER_END] == ACTUAL + dt.timedelta(days=14)
    assert planned[MilestoneKind.HAND_BACK] == ACTUAL + dt.timedelta(days=21)
    assert planned[MilestoneKind.VISIT_DAY_30] == ACTUAL + dt.timedelta(days=30)
    assert planned[MilestoneKind.VISIT_MONTH_6] == dt.date(2027, 7, 13)
    # Lymphodepletion was never recorded and is before day 0 either way: it moves too.
    assert planned[MilestoneKind.LYMPHODEPLETION_START] == ACTUAL - dt.timedelta(days=5)


def test_timeline_page_and_api_agree(late: World, client: Client) -> None:
    with time_machine.travel(NOW, tick=False):
        login(client, late.community_oncologist)
        page = _text(client.get(reverse("patient-timeline", kwargs={"patient_id": late.shared_patient.pk})))
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=api_token_header(late.community_oncologist))
        timeline = api.get(f"/api/patients/{late.shared_patient.pk}/timeline/").json()
        milestones = api.get("/api/milestones/", {"patient": str(late.shared_patient.pk)}).json()["results"]

    assert "Wed 13 Jan 2027" in page
    assert re.search(r"Today</dt><dd><strong>day \+7</strong>", page)
    assert timeline["infusion_on"] == ACTUAL.isoformat()
    labels = {m["kind"]: m["day_label"] for m in timeline["milestones"]}
    assert labels[MilestoneKind.INFUSION] == "day 0"  # done on 13 Jan, day 0 itself
    assert labels[MilestoneKind.MONITORING_END] == "day +14"
    assert {m["kind"]: m["day_label"] for m in milestones} == labels


def test_toxicity_day_count_prefill_and_digest_agree(late: World) -> None:
    name_point_persons(late)
    with time_machine.travel(NOW, tick=False):
        event = toxicity_record(
            actor=late.center_coordinator,
            patient=late.shared_patient,
            site=late.center,
            kind="crs",
            onset_at=NOW - dt.timedelta(hours=2),
            inputs=CRS,
        )
        transition = HandoffTemplate.objects.get(name="Post-CAR-T transition to community care")
        handoff = handoff_start(
            actor=late.center_coordinator,
            patient=late.shared_patient,
            template=transition,
            from_site=late.center,
            to_site=late.practice,
        )
        digest = build_digest(late.community_oncologist, dt.date(2027, 1, 18), NOW.date())

    assert ToxicityEvent.objects.with_timing().get(pk=event.pk).onset_day == 7
    email = OutgoingEmail.objects.filter(recipient=late.community_oncologist).latest("pk")
    assert "day +7" in email.body_text
    assert handoff.values["treatment.infusion_date"] == ACTUAL.isoformat()
    assert handoff.values["restrictions.driving_until"] == "2027-01-27"
    assert handoff.values["restrictions.proximity_until"] == "2027-01-27"
    assert [p.day for p in digest.patients] == ["day +7"]


def test_the_latest_course_decides_and_a_cancelled_infusion_does_not_count(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        infused(world, PLANNED)
        second = accept(world, draft_referral(world))
        milestone_set_infusion(actor=world.center_coordinator, referral=second, infusion_on=dt.date(2027, 3, 1))
        assert day_zero_of(world.shared_patient) == dt.date(2027, 3, 1)

        infusion = Milestone.objects.get(referral=second, kind=MilestoneKind.INFUSION)
        milestone_cancel(actor=world.center_coordinator, milestone=infusion, reason="Second course called off")

    assert day_zero_of(world.shared_patient) == PLANNED
    assert day_zero_by_patient([world.shared_patient.pk]) == {world.shared_patient.pk: PLANNED}


def test_once_the_infusion_is_done_the_api_says_day_0_is_fixed_and_when(late: World) -> None:
    referral = Milestone.objects.get(referral__patient=late.shared_patient, kind=MilestoneKind.INFUSION).referral
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=api_token_header(late.center_coordinator))
    with time_machine.travel(NOW, tick=False):
        response = api.post(
            f"/api/referrals/{referral.pk}/infusion/", {"infusion_on": "2027-01-25", "reason": "Late"}, format="json"
        )
    assert response.status_code == 400
    assert response.json()["infusion_on"] == ["Day 0 is fixed: the infusion was recorded as done on 13 Jan 2027."]


# Where today stands ("Today: day +N"): only from a recorded infusion.

DONE, PLANNED_ONLY = Milestone.Status.DONE, Milestone.Status.PLANNED


@pytest.mark.parametrize(
    ("status", "actual", "today", "expected"),
    [
        (PLANNED_ONLY, None, dt.date(2027, 1, 8), CourseDay("day -3")),  # counting down to the plan
        (PLANNED_ONLY, None, PLANNED, CourseDay("day 0")),  # the planned day itself
        (PLANNED_ONLY, None, dt.date(2027, 1, 13), CourseDay("", unrecorded_since=PLANNED)),  # no "day +2"
        (DONE, PLANNED, dt.date(2027, 1, 13), CourseDay("day +2")),
        (DONE, ACTUAL, dt.date(2027, 1, 20), CourseDay("day +7")),  # from the day it was done
        (DONE, ACTUAL, PLANNED, CourseDay("day -2")),
    ],
)
def test_day_plus_n_counts_only_from_an_infusion_recorded_as_done(
    status: str, actual: dt.date | None, today: dt.date, expected: CourseDay
) -> None:
    infusion = InfusionRow(1, MilestoneKind.INFUSION, status, PLANNED, actual)
    assert course_day(infusion, today) == expected


def test_no_infusion_gives_no_day() -> None:
    assert course_day(None, PLANNED) == CourseDay("")
    assert course_day(None, PLANNED).text == ""


def test_a_planned_day_passed_unrecorded_is_said_plainly() -> None:
    infusion = InfusionRow(1, MilestoneKind.INFUSION, PLANNED_ONLY, PLANNED, None)
    day = course_day(infusion, dt.date(2027, 1, 13))
    assert day.unrecorded
    assert day.text == "Infusion planned for 11 Jan 2027, not recorded as done"


TWO_DAYS_AFTER_THE_PLAN = dt.datetime(2027, 1, 13, 18, 0, tzinfo=dt.UTC)  # noon in Chicago


def test_header_patient_list_and_digest_agree_on_an_infusion_not_recorded(world: World, client: Client) -> None:
    name_point_persons(world)
    with time_machine.travel(TWO_DAYS_AFTER_THE_PLAN, tick=False):
        infused(world, PLANNED)
        patient = world.shared_patient
        infusion = infusion_by_patient([patient.pk])[patient.pk]
        assert infusion.status == PLANNED_ONLY and infusion.day_zero == PLANNED
        login(client, world.community_oncologist)
        page = _text(client.get(reverse("patient-timeline", kwargs={"patient_id": patient.pk})))
        dashboard = client.get(reverse("dashboard"))
        digest = build_digest(world.community_oncologist, dt.date(2027, 1, 11), TWO_DAYS_AFTER_THE_PLAN.date())

    said = "Infusion planned for 11 Jan 2027, not recorded as done"
    header = page.split('class="tl-head__facts"')[1].split("</dl>")[0]
    assert f'<div class="tl-head__unrecorded"><dt>Infusion (day 0)</dt><dd><strong>{said}</strong></dd></div>' in header
    assert "<dt>Today</dt>" not in header and "day +2" not in header
    row = next(r for r in dashboard.context["rows"] if r.patient == patient)
    assert row.day == said and row.infusion_unrecorded
    results = _text(dashboard).split('id="results"', 1)[1]
    assert f'<span class="flag flag--overdue flag--sentence small">{said}</span>' in results
    assert "day +2" not in results
    assert [p.day for p in digest.patients] == [said]


def test_header_says_a_future_infusion_is_planned_and_counts_down_to_it(world: World, client: Client) -> None:
    with time_machine.travel(dt.datetime(2027, 1, 8, 18, 0, tzinfo=dt.UTC), tick=False):
        infused(world, PLANNED)
        login(client, world.community_oncologist)
        page = _text(client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})))
    header = page.split('class="tl-head__facts"')[1].split("</dl>")[0]
    assert '<dd>Mon 11 Jan 2027 <span class="muted">(planned)</span></dd>' in header
    assert re.search(r"Today</dt><dd><strong>day -3</strong>", header)
    assert "tl-head__unrecorded" not in header
