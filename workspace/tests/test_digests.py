"""The weekly digest: due in each person's local week, sent once, minimal, in fixed queries."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.models import (
    DigestDelivery,
    DigestPreference,
    OutgoingEmail,
    Patient,
    PointPerson,
    TimelineEntry,
    User,
)
from carecoord.services.care_teams import care_team_name_point_person
from carecoord.templatetags.digest_patient import digest_patient
from handoffs.services import handoff_save, handoff_send, handoff_start
from referrals.deaths import death_record
from referrals.milestones.services import milestone_complete, milestone_move, milestone_set_infusion
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from referrals.workflow import Move
from tests.factories import patient_at
from tests.helpers import (
    CRS_GRADE_2,
    CRS_GRADE_3,
    World,
    accepted_referral,
    advance,
    at_once,
    draft_referral,
    login,
    service_values,
    transition,
)
from toxicity.models import ToxicityEvent
from toxicity.services import toxicity_assess, toxicity_record, toxicity_resolve
from workspace.digests.build import Digest, build_digest
from workspace.digests.schedule import due_week
from workspace.digests.services import digest_deliver, digest_for, send_digests_of, send_due_digests

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
MONDAY = dt.date(2027, 1, 18)  # Chicago is UTC-6 in January
MONDAY_0700 = dt.datetime(2027, 1, 18, 13, 0, tzinfo=dt.UTC)
SETUP_AT = dt.datetime(2027, 1, 15, 15, 0, tzinfo=dt.UTC)  # the Friday before


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


# --- due_week (pure) -------------------------------------------------------------------


def test_digest_is_not_due_at_0659_monday_local() -> None:
    assert due_week(_local(MONDAY, 6, 59), CHICAGO, 0, 7) is None


def test_digest_is_due_at_0700_monday_local() -> None:
    assert due_week(_local(MONDAY, 7), CHICAGO, 0, 7) == MONDAY


def test_due_week_uses_local_time_not_utc() -> None:
    # 12:59 UTC is 06:59 in Chicago: not yet, although it is long past 07:00 UTC.
    assert due_week(dt.datetime(2027, 1, 18, 12, 59, tzinfo=dt.UTC), CHICAGO, 0, 7) is None
    assert due_week(dt.datetime(2027, 1, 18, 13, 0, tzinfo=dt.UTC), CHICAGO, 0, 7) == MONDAY


def test_personal_day_and_hour_are_respected() -> None:
    thursday = MONDAY + dt.timedelta(days=3)
    assert due_week(_local(thursday, 15, 59), CHICAGO, 3, 16) is None
    assert due_week(_local(thursday, 16), CHICAGO, 3, 16) == MONDAY
    assert due_week(_local(MONDAY + dt.timedelta(days=2), 23), CHICAGO, 3, 16) is None


def test_a_missed_send_is_caught_up_on_wednesday() -> None:
    assert due_week(_local(MONDAY + dt.timedelta(days=2), 10), CHICAGO, 0, 7) == MONDAY


def test_sunday_night_belongs_to_the_week_that_started_on_monday() -> None:
    sunday = MONDAY + dt.timedelta(days=6)
    assert due_week(_local(sunday, 23, 59), CHICAGO, 0, 7) == MONDAY
    assert due_week(_local(sunday, 23, 59), CHICAGO, 6, 23) == MONDAY


# --- with the database -----------------------------------------------------------------


def _point_person(world: World, patient: Patient | None = None, user: User | None = None) -> User:
    patient = patient or world.shared_patient
    user = user or world.community_oncologist
    link = patient.care_team.get(site=world.practice)
    care_team_name_point_person(actor=world.community_coordinator, link=link, user=user, rank="primary")
    return user


def _infused_shared_patient(world: World) -> None:
    with time_machine.travel(SETUP_AT, tick=False):
        referral = accepted_referral(world)
        milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))


@pytest.mark.django_db
def test_two_beats_at_the_same_moment_send_one_digest(world: World) -> None:
    user = _point_person(world)
    with time_machine.travel(MONDAY_0700, tick=False):
        assert send_due_digests() == 1
        assert send_due_digests() == 0
    assert DigestDelivery.objects.filter(recipient=user).count() == 1
    emails = OutgoingEmail.objects.filter(template="weekly-digest", recipient=user)
    assert emails.count() == 1
    assert emails.get().dedupe_key == f"digest:{user.pk}:{MONDAY}"
    assert DigestDelivery.objects.get(recipient=user).email == emails.get()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_build_and_send_one_digest(world: World) -> None:
    user = _point_person(world)

    def deliver() -> bool:
        return digest_deliver(user=user, week_start=MONDAY, zone=CHICAGO, now=MONDAY_0700)

    with time_machine.travel(MONDAY_0700, tick=False):
        results = at_once(deliver, deliver, deliver)
    assert sorted(results) == [False, False, True]  # the others found the week claimed, nothing raised
    assert DigestDelivery.objects.filter(recipient=user).count() == 1
    assert OutgoingEmail.objects.filter(template="weekly-digest", recipient=user).count() == 1


@pytest.mark.django_db
def test_a_batch_sends_the_others_when_one_digest_fails_and_leaves_that_week_unclaimed(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    sound = _point_person(world)
    broken = _point_person(world, world.shared_patient, world.community_coordinator)
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    _point_person(world, other, sound)
    with time_machine.travel(SETUP_AT, tick=False):
        referral = accepted_referral(world)
    # A step of a kind the code does not know: its label cannot be written, the digest fails.
    Milestone.objects.create(referral=referral, kind="unknown_step", planned_on=MONDAY + dt.timedelta(days=2))
    PointPerson.objects.filter(user=sound, link__patient=world.shared_patient).delete()
    with caplog.at_level(logging.ERROR), time_machine.travel(MONDAY_0700, tick=False):
        sent, failed = send_digests_of([broken.pk, sound.pk], worker="test")
    assert (sent, failed) == (1, [broken.pk])
    assert set(DigestDelivery.objects.values_list("recipient", flat=True)) == {sound.pk}  # the other week unclaimed
    assert OutgoingEmail.objects.get(template="weekly-digest").recipient == sound
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"user {broken.pk} failed" in logged and world.shared_patient.family_name not in logged


@pytest.mark.django_db
def test_nothing_is_sent_before_the_local_send_time(world: World) -> None:
    _point_person(world)
    with time_machine.travel(MONDAY_0700 - dt.timedelta(minutes=1), tick=False):
        assert send_due_digests() == 0
    assert not DigestDelivery.objects.exists()


@pytest.mark.django_db
def test_a_missed_monday_is_caught_up_on_tuesday_and_not_again(world: World) -> None:
    user = _point_person(world)
    tuesday = MONDAY_0700 + dt.timedelta(days=1, hours=3)
    with time_machine.travel(tuesday, tick=False):
        assert send_due_digests() == 1
    with time_machine.travel(tuesday + dt.timedelta(hours=5), tick=False):
        assert send_due_digests() == 0
    assert DigestDelivery.objects.get(recipient=user).week_start == MONDAY
    with time_machine.travel(MONDAY_0700 + dt.timedelta(days=7), tick=False):
        assert send_due_digests() == 1  # the next week is a new digest
    assert OutgoingEmail.objects.filter(template="weekly-digest").count() == 2


@pytest.mark.django_db
def test_personal_preference_moves_the_send_time(world: World) -> None:
    user = _point_person(world)
    DigestPreference.objects.create(user=user, weekday=2, hour=9)
    with time_machine.travel(MONDAY_0700, tick=False):
        assert send_due_digests() == 0
    with time_machine.travel(_local(MONDAY + dt.timedelta(days=2), 9), tick=False):
        assert send_due_digests() == 1


@pytest.mark.django_db
def test_people_who_are_not_point_persons_get_no_digest(world: World) -> None:
    _point_person(world)
    with time_machine.travel(MONDAY_0700, tick=False):
        send_due_digests()
    assert set(DigestDelivery.objects.values_list("recipient", flat=True)) == {world.community_oncologist.pk}


@pytest.mark.django_db
def test_digest_lists_recent_events_and_due_milestones_without_full_names(world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    with time_machine.travel(SETUP_AT, tick=False):
        infusion = Milestone.objects.get(referral__patient=world.shared_patient, kind=MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 11))
    with time_machine.travel(MONDAY_0700, tick=False):
        TimelineEntry.objects.create(
            patient=world.shared_patient, kind=TimelineEntry.Kind.COMMENT, title="Fever checked at clinic"
        )
        TimelineEntry.objects.create(
            patient=world.shared_patient,
            kind=TimelineEntry.Kind.COMMENT,
            title="Too old to list",
            occurred_at=MONDAY_0700 - dt.timedelta(days=9),
        )
        send_due_digests()
    email = OutgoingEmail.objects.get(template="weekly-digest", recipient=user)
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    for body in (email.body_text, email.body_html):
        assert f"MRN {mrn}" in body
        assert "Fever checked at clinic" in body
        assert "Too old to list" not in body
        assert "day +7" in body  # Monday 18 January is day +7 after a day-0 of the 11th
        assert "Monitoring ends" in body  # day +14, the 25th: due within two weeks
        assert "Sharon" not in body and "Sharedcare" not in body
        assert world.shared_patient.full_name not in body
    assert "Sharedcare" not in email.subject
    content = DigestDelivery.objects.get(recipient=user).content
    assert content["patients"][0]["reference"] == f"MRN {mrn}"


@pytest.mark.django_db
def test_digest_with_nothing_to_report_says_so(world: World) -> None:
    user = _point_person(world)
    with time_machine.travel(MONDAY_0700 + dt.timedelta(days=30), tick=False):
        send_due_digests()
    email = OutgoingEmail.objects.get(template="weekly-digest", recipient=user)
    assert "Nothing to report" in email.body_text
    assert "Nothing to report" in email.body_html
    assert "nothing to report" in email.subject


@pytest.mark.django_db
def test_digest_lists_an_overdue_referral_waiting_on_the_center(world: World) -> None:
    with time_machine.travel(SETUP_AT, tick=False):
        advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
        link = world.shared_patient.care_team.get(site=world.center)
        care_team_name_point_person(
            actor=world.center_coordinator, link=link, user=world.center_coordinator, rank="primary"
        )
    with time_machine.travel(MONDAY_0700 + dt.timedelta(days=2), tick=False):  # one business day is long past
        digest = digest_for(world.center_coordinator, MONDAY)
    assert any("Referral waiting on your site" in line for line in digest.patients[0].overdue)


# A Wednesday: hand-offs sent then are past their deadline (one business day) by Monday.
BUSY_SETUP_AT = dt.datetime(2027, 1, 13, 15, 0, tzinfo=dt.UTC)


def _busy_patient(world: World, user: User, *, comments: int, rich: bool) -> Patient:
    """A patient `user` is point person for, with a course of milestones and `comments`
    comments; `rich` adds a done step, a moved visit in conflict, a toxicity with a second
    assessment (unacknowledged alerts to `user`) and a hand-off left unacknowledged."""
    with time_machine.travel(BUSY_SETUP_AT, tick=False):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        _point_person(world, patient, user)
        referral = accepted_referral(world, patient)
        milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
        for n in range(comments):
            TimelineEntry.objects.create(patient=patient, kind=TimelineEntry.Kind.COMMENT, title=f"Event {n}")
        if not rich:
            return patient
        steps = {m.kind: m for m in Milestone.objects.filter(referral=referral)}
        milestone_complete(
            actor=world.center_coordinator,
            milestone=steps[MilestoneKind.LYMPHODEPLETION_START],
            actual_on=dt.date(2027, 1, 6),
        )
        milestone_move(
            actor=world.center_coordinator,
            milestone=steps[MilestoneKind.VISIT_DAY_30],
            planned_on=dt.date(2027, 1, 8),
            reason="Clinic closed",
            confirm_date=True,
        )
        event = toxicity_record(
            actor=world.center_coordinator,
            patient=patient,
            site=world.center,
            kind="crs",
            onset_at=BUSY_SETUP_AT - dt.timedelta(hours=2),
            inputs=CRS_GRADE_2,
            confirm_date=True,
        )
        toxicity_assess(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            assessed_at=BUSY_SETUP_AT - dt.timedelta(hours=1),
            inputs=CRS_GRADE_3,
        )
        handoff = handoff_start(
            actor=world.center_coordinator,
            patient=patient,
            template=transition(),
            from_site=world.center,
            to_site=world.practice,
        )
        handoff_save(actor=world.center_coordinator, handoff=handoff, values=service_values())
        handoff_send(actor=world.center_coordinator, handoff=handoff)
    return patient


def _build_queries(user: User) -> tuple[list[str], Digest]:
    with time_machine.travel(MONDAY_0700, tick=False), CaptureQueriesContext(connection) as queries:
        digest = build_digest(user, MONDAY, MONDAY)
    return [query["sql"] for query in queries], digest


def _reading(queries: list[str], table: str) -> list[str]:
    """The queries whose own rows are of `table` (not a join to it or a subquery of it)."""
    return [sql for sql in queries if f'FROM "{table}" ' in sql and sql.startswith(f'SELECT "{table}".')]


def _lines(digest: Digest, part: str) -> list[str]:
    return [line for patient in digest.patients for line in getattr(patient, part)]


@pytest.mark.django_db
def test_build_digest_query_count_does_not_grow_with_patients_or_what_they_hold(world: World) -> None:
    user = world.community_oncologist
    _busy_patient(world, user, comments=1, rich=False)
    one, digest = _build_queries(user)
    assert len(digest.patients) == 1
    assert _lines(digest, "active") == []
    assert not any("Unacknowledged" in line or "Hand-off" in line for line in _lines(digest, "overdue"))
    # More patients, and each with more of every kind the digest reads: milestones done, moved
    # and in conflict, toxicities and their alerts, hand-offs and comments.
    for n in range(4):
        _busy_patient(world, user, comments=3 + 2 * n, rich=True)
    five, digest = _build_queries(user)
    assert len(digest.patients) == 5
    overdue = _lines(digest, "overdue")
    assert sum("Unacknowledged Cytokine release syndrome (CRS) alert" in line for line in overdue) >= 4
    assert sum(line.startswith("Hand-off not acknowledged") for line in overdue) == 4
    assert sum(line.startswith("Date conflict: Follow-up visit, day 30") for line in overdue) == 4
    assert len(_lines(digest, "due")) > 5 and len(_lines(digest, "recent")) > 1 + 3 + 5 + 7 + 9
    # Active toxicities (none at first, one a rich patient) and each patient's referral steps in one line.
    assert len(_lines(digest, "active")) == 4
    assert sum(line.startswith("Referral: ") for line in _lines(digest, "recent")) == 5
    assert len(one) == len(five), "\n".join(five)
    # The patients' referrals are read once for the three sections that need them (steps of the
    # week, phase and day, waiting on the site), and the person's links come with the heading.
    assert len(_reading(five, "referrals_referral")) == 1, "\n".join(five)
    assert _reading(five, "carecoord_pointperson") == []


@pytest.mark.django_db
def test_dry_run_prints_the_digest_and_writes_nothing(world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    out = StringIO()
    with time_machine.travel(MONDAY_0700, tick=False):
        call_command("send_digests", "--dry-run", "--for", user.email, stdout=out)
    assert "Monitoring ends" in out.getvalue()
    assert "Sharedcare" not in out.getvalue()
    assert not DigestDelivery.objects.exists()
    assert not OutgoingEmail.objects.filter(template="weekly-digest").exists()


@pytest.mark.django_db
def test_command_sends_now_once_per_week(world: World) -> None:
    user = _point_person(world)
    with time_machine.travel(MONDAY_0700 - dt.timedelta(days=2), tick=False):  # Saturday, before any send time
        call_command("send_digests", "--for", user.email, stdout=StringIO())
        call_command("send_digests", "--for", user.email, stdout=StringIO())
    assert DigestDelivery.objects.filter(recipient=user).count() == 1
    assert OutgoingEmail.objects.filter(template="weekly-digest").count() == 1


@pytest.mark.django_db
def test_my_digest_page_shows_the_latest_digest(client: Client, world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    with time_machine.travel(MONDAY_0700, tick=False):
        send_due_digests()
    DigestDelivery.objects.create(
        recipient=user,
        week_start=MONDAY - dt.timedelta(days=7),
        built_at=MONDAY_0700 - dt.timedelta(days=7),
        content={"week_start": "2027-01-11", "is_empty": True, "patients": []},
    )
    response = login(client, user).get(reverse("my-digest"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = response.content.decode()
    assert "Week of 2027-01-18" in html
    assert "Monitoring ends" in html


@pytest.mark.django_db
def test_my_digest_page_without_a_digest_says_so(client: Client, world: World) -> None:
    response = login(client, world.outsider).get(reverse("my-digest"))
    assert response.status_code == 200
    assert "No digest sent yet" in response.content.decode()


@pytest.mark.django_db
def test_my_digest_page_requires_login(client: Client, world: World) -> None:
    response = client.get(reverse("my-digest"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- active toxicities, referral steps, the in-app preview ------------------------------

CRS_GRADE_4: dict[str, Any] = {"temperature_c": 39.2, "vasopressors": 2}


def _crs(world: World, onset_at: dt.datetime, inputs: dict[str, Any]) -> int:
    with time_machine.travel(onset_at + dt.timedelta(hours=1), tick=False):
        event = toxicity_record(
            actor=world.center_coordinator,
            patient=world.shared_patient,
            site=world.center,
            kind="crs",
            onset_at=onset_at,
            inputs=inputs,
            confirm_date=True,
        )
    return event.pk


@pytest.mark.django_db
def test_a_grade_4_crs_still_active_comes_first_though_it_began_weeks_ago(world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    # Day +3 (the 14th, Chicago), more than 7 days before the digest of Monday the 25th.
    _crs(world, dt.datetime(2027, 1, 14, 15, 0, tzinfo=dt.UTC), CRS_GRADE_4)
    resolved = _crs(world, dt.datetime(2027, 1, 13, 15, 0, tzinfo=dt.UTC), CRS_GRADE_2)
    with time_machine.travel(dt.datetime(2027, 1, 14, 18, 0, tzinfo=dt.UTC), tick=False):
        toxicity_resolve(
            actor=world.center_coordinator,
            event=ToxicityEvent.objects.get(pk=resolved),
            site=world.center,
            resolved_on=dt.date(2027, 1, 14),
            outcome="recovered",
        )
    with time_machine.travel(MONDAY_0700 + dt.timedelta(days=7), tick=False):
        send_due_digests()
    active = "Cytokine release syndrome (CRS) grade 4, active since Thu 14 Jan (day +3)"
    content = DigestDelivery.objects.get(recipient=user).content
    assert content["patients"][0]["active"] == [active]  # the resolved one is not active
    email = OutgoingEmail.objects.get(template="weekly-digest", recipient=user)
    for body in (email.body_text, email.body_html):
        assert body.count("Cytokine release syndrome (CRS) grade 4, active since") == 1
        assert body.index("Active toxicities") < body.index("Due in the next 14 days")
    assert f"  Active toxicities:\n  - {active}\n" in email.body_text


@pytest.mark.django_db
def test_a_patients_referral_steps_of_the_week_are_one_line(world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)  # drafted, submitted, received, accepted on Friday
    with time_machine.travel(MONDAY_0700, tick=False):
        digest = digest_for(user, MONDAY)
        send_due_digests()
    recent = digest.patients[0].recent
    steps = [line for line in recent if line.startswith("Referral")]
    assert steps == [
        "Referral: drafted → submitted → received by the center → under review → consult scheduled → accepted (6 steps)"
    ], recent
    email = OutgoingEmail.objects.get(template="weekly-digest", recipient=user)
    for body in (email.body_text, email.body_html):
        assert body.count("Referral: drafted") == 1
        assert "Referral submitted" not in body and "Referral accepted" not in body


@pytest.mark.django_db
def test_the_page_previews_this_weeks_digest_before_the_send_and_writes_nothing(client: Client, world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    _crs(world, dt.datetime(2027, 1, 14, 15, 0, tzinfo=dt.UTC), CRS_GRADE_4)
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    # Sunday: the week's digest is not due yet (Monday 07:00).
    with time_machine.travel(MONDAY_0700 - dt.timedelta(days=1), tick=True):
        response = login(client, user).get(reverse("my-digest"))
        assert response.status_code == 200
        html = response.content.decode()
        preview = html.split('id="preview-heading"')[1].split("</section>")[0]
        assert "Week of 2027-01-11" in preview and f"MRN {mrn}" in preview
        assert preview.index("Active toxicities") < preview.index("Last 7 days")
        assert "Cytokine release syndrome (CRS) grade 4" in preview
        assert "Referral: drafted → submitted" in preview
        assert "Sharedcare" not in html
        assert "No digest sent yet" in html
        assert not DigestDelivery.objects.exists()
        assert not OutgoingEmail.objects.filter(template="weekly-digest").exists()
    # The preview claimed nothing: the week's digest still goes out, once.
    with time_machine.travel(MONDAY_0700 - dt.timedelta(days=1, hours=-20), tick=False):
        assert send_due_digests(ignore_schedule=True) == 1


@pytest.mark.django_db
def test_the_preview_shows_nothing_of_patients_the_reader_does_not_see(client: Client, world: World) -> None:
    _point_person(world)
    _infused_shared_patient(world)
    _crs(world, dt.datetime(2027, 1, 14, 15, 0, tzinfo=dt.UTC), CRS_GRADE_4)
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    with time_machine.travel(MONDAY_0700, tick=False):
        html = login(client, world.outsider).get(reverse("my-digest")).content.decode()
    assert f"MRN {mrn}" not in html and "Cytokine" not in html
    assert "So far this week your digest would be empty" in html


@pytest.mark.django_db
def test_the_page_queries_do_not_grow_with_the_patients(client: Client, world: World) -> None:
    user = world.community_oncologist
    _busy_patient(world, user, comments=1, rich=False)
    with time_machine.travel(MONDAY_0700, tick=False):
        login(client, user)
        client.get(reverse("my-digest"))  # warm the caches
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("my-digest"))
    for n in range(3):
        _busy_patient(world, user, comments=2 + n, rich=True)
    with time_machine.travel(MONDAY_0700, tick=False), CaptureQueriesContext(connection) as many:
        response = client.get(reverse("my-digest"))
    assert len(response.context["preview"]["patients"]) == 4
    assert len(many) == len(few), "\n".join(q["sql"] for q in many)


@pytest.mark.django_db
def test_the_page_with_a_sent_digest_reads_the_grants_once_whatever_the_patients(client: Client, world: World) -> None:
    user = world.community_oncologist
    _busy_patient(world, user, comments=1, rich=False)

    def page_queries() -> tuple[list[str], int]:
        with time_machine.travel(MONDAY_0700, tick=False):
            content = digest_for(user, MONDAY).to_content()
            DigestDelivery.objects.update_or_create(
                recipient=user, week_start=MONDAY, defaults={"built_at": MONDAY_0700, "content": content}
            )
            login(client, user).get(reverse("my-digest"))  # warm the caches
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("my-digest"))
        assert len(response.context["digest"].sections) == len(response.context["preview"]["patients"])
        return [query["sql"] for query in queries], len(response.context["digest"].sections)

    few, shown = page_queries()
    assert shown == 1
    for n in range(3):
        _busy_patient(world, user, comments=2 + n, rich=True)
    many, shown = page_queries()
    assert shown == 4
    assert len(many) == len(few), "\n".join(many)
    # Which sent sections the reader still sees comes from the grants of every patient on the
    # page, read once: the audit of the page's reads finds them read (no patient rows read).
    assert len(_reading(many, "carecoord_patientgroupobjectpermission")) == 1, "\n".join(many)
    assert _reading(many, "carecoord_patient") == []


def test_a_digest_section_is_written_escaped_with_its_parts_in_order() -> None:
    section = {
        "reference": "MRN <1>",
        "site": "A&B",
        "phase": "Monitoring",
        "day": "day +7",
        "active": ["CRS grade 2"],
        "recent": ["Comment"],
        "due": [],
        "overdue": ["Late <step>"],
    }
    assert digest_patient(section) == (
        '\n<section class="card digest-patient">\n  <h3>MRN &lt;1&gt; (A&amp;B): Monitoring, day +7</h3>\n'
        "  <h4>Active toxicities</h4><ul><li><strong>CRS grade 2</strong></li></ul>\n"
        "  <h4>Overdue</h4><ul><li>Late &lt;step&gt;</li></ul>\n"
        "  \n"
        "  <h4>Last 7 days</h4><ul><li>Comment</li></ul>\n"
        "</section>\n"
    )
    # A section stored before a part existed, or with no day, leaves it out.
    assert digest_patient({"reference": "patient AB", "site": "S", "phase": "Referral", "day": None}) == (
        '\n<section class="card digest-patient">\n  <h3>patient AB (S): Referral</h3>\n  \n  \n  \n  \n</section>\n'
    )


@pytest.mark.django_db
def test_a_patient_who_died_is_headed_so_with_nothing_due(world: World) -> None:
    user = _point_person(world)
    _infused_shared_patient(world)
    with time_machine.travel(MONDAY_0700 - dt.timedelta(days=3), tick=False):
        death_record(
            actor=world.community_coordinator,
            patient=world.shared_patient,
            site=world.practice,
            died_on=dt.date(2027, 1, 14),
            cause="infection",
        )
    with time_machine.travel(MONDAY_0700, tick=False):
        digest = digest_for(user, MONDAY)
    (entry,) = digest.patients
    assert entry.phase == "Died Thu 14 Jan 2027" and not entry.day
    assert entry.due == [] and entry.overdue == []
    assert any("Died on 14 Jan 2027" in line for line in entry.recent)
