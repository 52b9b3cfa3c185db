"""Dates checked against the patient's record: before birth or ahead is refused with the field
named; far before the first referral is kept once confirmed; nothing impossible is alerted.

The shared patient was born on 17 May 1960; their referral is started at NOW (frozen).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from carecoord.clinical_dates import (
    FAR_BEFORE_REFERRAL,
    UNCONFIRMED,
    RecordDates,
    check_happened,
    check_planned,
)
from carecoord.models import Patient, TimelineEntry, calendar
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from referrals.selectors import record_dates
from tests.helpers import CRS_GRADE_3, World, accepted_referral, api, infused, login, name_point_persons
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
BORN = dt.date(1960, 5, 17)
REFERRED = dt.date(2027, 1, 1)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _dates(referred_on: dt.date | None = REFERRED) -> RecordDates:
    return RecordDates(born_on=BORN, referred_on=referred_on, zone=CHICAGO)


def _refusal(check: Any, value: Any, dates: RecordDates, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check("when", value, dates, **kwargs)
    return caught.value


# --- the rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime.min.replace(tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, tzinfo=zoneinfo.ZoneInfo("Pacific/Auckland")),
        dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
        dt.datetime(1960, 5, 16, 12, tzinfo=CHICAGO),
        dt.date(1, 1, 1),
        dt.date(1960, 5, 16),
    ],
    ids=["year 1", "year 1 east", "1900", "the day before birth", "date year 1", "date the day before birth"],
)
def test_nothing_happened_before_birth(value: dt.date | dt.datetime) -> None:
    error = _refusal(check_happened, value, _dates())
    assert error.message_dict == {"when": ["This is before the patient's date of birth (17 May 1960): check the date."]}


@pytest.mark.parametrize(
    "value",
    [
        NOW + dt.timedelta(minutes=6),
        dt.datetime.max.replace(tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, tzinfo=zoneinfo.ZoneInfo("America/Chicago")),
        dt.date(2027, 1, 22),
        dt.date.max,
    ],
    ids=["six minutes ahead", "year 9999", "year 9999 west", "two days ahead", "date year 9999"],
)
def test_nothing_happened_ahead(value: dt.date | dt.datetime) -> None:
    error = _refusal(check_happened, value, _dates())
    assert error.message_dict == {"when": ["This cannot be in the future."]}


def test_a_moment_just_now_and_a_date_tomorrow_are_fine() -> None:
    # A clock a few minutes fast, and tomorrow's date (it is already tomorrow somewhere).
    check_happened("when", NOW + dt.timedelta(minutes=4), _dates())
    check_happened("when", dt.date(2027, 1, 21), _dates())


def test_a_date_far_before_the_referral_is_kept_once_confirmed() -> None:
    slip = REFERRED - FAR_BEFORE_REFERRAL - dt.timedelta(days=1)
    error = _refusal(check_happened, slip, _dates())
    assert error.error_dict["when"][0].code == UNCONFIRMED
    assert error.message_dict["when"] == [
        "This is 31 days before the patient was first referred (01 Jan 2027). "
        "Check the date; if it is right, confirm it."
    ]
    check_happened("when", slip, _dates(), confirmed=True)
    check_happened("when", REFERRED - FAR_BEFORE_REFERRAL, _dates())  # within the margin
    check_happened("when", slip, _dates(referred_on=None))  # no referral: nothing to compare with


def test_a_plan_is_after_birth_within_the_horizon_and_confirmed_far_before_the_referral() -> None:
    assert (
        _refusal(check_planned, BORN - dt.timedelta(days=1), _dates())
        .message_dict["when"][0]
        .startswith("This is before the patient's date of birth")
    )
    assert _refusal(check_planned, dt.date(2049, 1, 1), _dates()).message_dict["when"] == [
        "Plan no later than 20 Jan 2047: check the date."
    ]
    assert _refusal(check_planned, dt.date(2026, 6, 1), _dates()).error_dict["when"][0].code == UNCONFIRMED
    check_planned("when", dt.date(2042, 1, 20), _dates())  # a 15-year follow-up visit
    check_planned("when", dt.date(2026, 6, 1), _dates(), confirmed=True)


def test_the_record_dates_come_from_the_patient_and_the_first_referral(world: World) -> None:
    assert record_dates(world.shared_patient, CHICAGO).referred_on is None
    accepted_referral(world)
    dates = record_dates(world.shared_patient, CHICAGO)
    assert (dates.born_on, dates.referred_on) == (world.shared_patient.date_of_birth, dt.date(2027, 1, 20))


# --- through the API: 400 naming the field, nothing recorded, nobody alerted -------------------


def _onset_payload(world: World, onset: str, **extra: Any) -> dict[str, Any]:
    return {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "kind": "crs",
        "onset_at": onset,
        "assessment": CRS_GRADE_3,
        **extra,
    }


@pytest.mark.parametrize(
    ("onset", "message"),
    [
        ("0001-01-01T00:00:00Z", "before the patient's date of birth"),
        ("0001-01-01T00:00:00+05:00", "out of range"),  # DRF cannot even put it in UTC
        ("1900-01-01T08:00:00Z", "before the patient's date of birth"),
        ("9999-12-31T23:59:59Z", "cannot be in the future"),
        ("2027-01-23T09:00:00Z", "cannot be in the future"),
    ],
)
def test_the_api_refuses_an_impossible_onset_naming_the_field(world: World, onset: str, message: str) -> None:
    name_point_persons(world)
    infused(world, dt.date(2027, 1, 11))
    payload = _onset_payload(world, onset)
    response = api(world.community_oncologist).post("/api/toxicity-events/", payload, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["onset_at"]
    assert message in response.json()["onset_at"][0]
    assert not ToxicityEvent.objects.exists() and not Alert.objects.exists()


def test_the_api_asks_to_confirm_an_onset_far_before_the_referral_then_keeps_it(world: World) -> None:
    name_point_persons(world)
    infused(world, dt.date(2027, 1, 11))
    client = api(world.community_oncologist)
    payload = _onset_payload(world, "2026-10-01T09:00:00Z")
    refused = client.post("/api/toxicity-events/", payload, format="json")
    assert refused.status_code == 400
    assert "111 days before the patient was first referred" in refused.json()["onset_at"][0]
    assert not Alert.objects.exists()
    kept = client.post("/api/toxicity-events/", payload | {"confirm_date": True}, format="json")
    assert kept.status_code == 201, kept.content
    assert Alert.objects.filter(event_id=kept.json()["id"]).exists()


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("assessments", {"assessed_at": "0001-01-01T00:00:00Z", "assessment": CRS_GRADE_3}, "assessed_at"),
        ("treatments", {"given_at": "1950-01-01T00:00:00Z", "kind": "tocilizumab"}, "given_at"),
        ("resolve", {"resolved_on": "0001-01-01", "outcome": "recovered"}, "resolved_on"),
        ("resolve", {"resolved_on": "9999-12-31", "outcome": "recovered"}, "resolved_on"),
    ],
)
def test_the_api_refuses_impossible_dates_on_an_event_and_its_pages_still_answer(
    world: World, action: str, payload: dict[str, Any], field: str
) -> None:
    name_point_persons(world)
    infused(world, dt.date(2027, 1, 11))
    event = toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind="crs",
        onset_at=NOW - dt.timedelta(hours=2),
        inputs={"temperature_c": 38.4},
    )
    alerts = Alert.objects.count()
    client = api(world.community_oncologist)
    response = client.post(
        f"/api/toxicity-events/{event.pk}/{action}/", {"site": world.practice.pk, **payload}, format="json"
    )
    assert response.status_code == 400 and field in response.json(), response.content
    assert Alert.objects.count() == alerts
    # The measured failure: a year-1 assessment made these answer 500 for everyone, for good.
    patient = world.shared_patient.pk
    for url in (f"/api/toxicity-events/{event.pk}/", f"/api/patients/{patient}/timeline/"):
        assert client.get(url).status_code == 200
    browser = login(Client(), world.center_coordinator)
    for url in (reverse("toxicity-event", args=[event.pk]), reverse("patient-timeline", args=[patient])):
        assert browser.get(url).status_code == 200


def test_the_api_refuses_milestone_dates_before_birth_or_beyond_the_horizon(world: World) -> None:
    referral = infused(world, dt.date(2027, 1, 11))
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
    client = api(world.center_coordinator)
    done = client.post(f"/api/milestones/{infusion.pk}/complete/", {"actual_on": "0001-01-01"}, format="json")
    assert done.status_code == 400 and "before the patient's date of birth" in done.json()["actual_on"][0]
    moved = client.post(
        f"/api/referrals/{referral.pk}/infusion/", {"infusion_on": "9999-12-31", "reason": "typo"}, format="json"
    )
    assert moved.status_code == 400 and "Plan no later than" in moved.json()["infusion_on"][0]
    planned = client.post(
        f"/api/referrals/{referral.pk}/milestones/",
        {"kind": "consult", "planned_on": "2025-06-01"},
        format="json",
    )
    assert planned.status_code == 400 and "before the patient was first referred" in planned.json()["planned_on"][0]
    kept = client.post(
        f"/api/referrals/{referral.pk}/milestones/",
        {"kind": "consult", "planned_on": "2025-06-01", "confirm_date": True},
        format="json",
    )
    assert kept.status_code == 201, kept.content
    infusion.refresh_from_db()
    assert (infusion.status, infusion.planned_on) == (Milestone.Status.PLANNED, dt.date(2027, 1, 11))


# --- through the pages: the error next to the field, then the confirmation box -----------------


def test_the_record_page_asks_to_confirm_a_date_far_before_the_referral(world: World) -> None:
    name_point_persons(world)
    infused(world, dt.date(2027, 1, 11))
    browser = login(Client(), world.community_oncologist)
    url = reverse("toxicity-record", args=[world.shared_patient.pk])
    form = {
        "site": world.practice.pk,
        "kind": "crs",
        "onset_at": "2026-10-01T09:00",
        "temperature_c": "38.9",
    }
    refused = browser.post(url, form)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "before the patient was first referred (20 Jan 2027)" in page
    assert 'name="confirm_date"' in page and "The date is right: keep it" in page
    assert not ToxicityEvent.objects.exists()
    kept = browser.post(url, form | {"confirm_date": "on"})
    assert kept.status_code == 302
    event = ToxicityEvent.objects.get()
    assert event.onset_at == dt.datetime(2026, 10, 1, 9, tzinfo=world.practice.zone)
    assert Alert.objects.filter(event=event).exists()


def test_the_record_page_names_the_field_for_an_onset_in_year_1(world: World) -> None:
    infused(world, dt.date(2027, 1, 11))
    browser = login(Client(), world.community_oncologist)
    url = reverse("toxicity-record", args=[world.shared_patient.pk])
    response = browser.post(
        url, {"site": world.practice.pk, "kind": "crs", "onset_at": "0001-01-01T00:00", "temperature_c": "38.9"}
    )
    assert response.status_code == 400
    assert "before the patient&#x27;s date of birth (17 May 1960)" in response.content.decode()
    assert 'name="confirm_date"' not in response.content.decode()  # nothing to confirm: it is refused
    assert not ToxicityEvent.objects.exists()


def test_the_timeline_asks_to_confirm_a_step_done_far_before_the_referral(world: World) -> None:
    referral = infused(world, dt.date(2027, 1, 11))
    authorization = Milestone.objects.filter(referral=referral).exclude(kind=MilestoneKind.INFUSION).first()
    assert authorization is not None
    browser = login(Client(), world.center_coordinator)
    url = reverse("milestone-complete", args=[authorization.pk])
    refused = browser.post(url, {"actual_on": "2026-06-01", "note": ""}, follow=True)
    assert "before the patient was first referred" in refused.content.decode()
    assert f'id="id_complete{authorization.pk}_confirm_date"' in refused.content.decode()
    authorization.refresh_from_db()
    assert authorization.status == Milestone.Status.PLANNED
    browser.post(url, {"actual_on": "2026-06-01", "note": "", "confirm_date": "on"})
    authorization.refresh_from_db()
    assert (authorization.status, authorization.actual_on) == (Milestone.Status.DONE, dt.date(2026, 6, 1))


# --- rows written before the checks ------------------------------------------------------------


def test_the_migration_moves_dates_outside_the_calendar_to_its_ends(world: World) -> None:
    """What `move_into_calendar` does to rows written before the constraints existed."""
    from django.apps import apps

    entry = TimelineEntry.objects.create(patient=world.shared_patient, kind="comment", title="typo")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks before ALTER
        cursor.execute("ALTER TABLE carecoord_patient DROP CONSTRAINT patient_date_of_birth_in_calendar")
        cursor.execute("ALTER TABLE carecoord_timelineentry DROP CONSTRAINT timeline_entry_occurred_at_in_calendar")
        Patient.objects.filter(pk=world.shared_patient.pk).update(date_of_birth=dt.date(1, 1, 1))
        TimelineEntry.objects.filter(pk=entry.pk).update(occurred_at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
        calendar.move_into_calendar("carecoord", "Patient", "TimelineEntry")(apps, None)
        world.shared_patient.refresh_from_db()
        entry.refresh_from_db()
        assert world.shared_patient.date_of_birth == calendar.EARLIEST
        assert entry.occurred_at == calendar.AFTER_LATEST_MOMENT - dt.timedelta(seconds=1)
        transaction.set_rollback(True)
