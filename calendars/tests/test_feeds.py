"""Calendar feeds: what a calendar app reads at a private address, parsed back with the same
library, and who stops seeing what when their access changes."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import icalendar
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from calendars.ics import milestone_uid
from calendars.models import CalendarFeed
from calendars.services import feed_create, feed_revoke
from calendars.throttle import WRONG_KEYS_PER_HOUR, forget_wrong_keys
from calendars.views import feed_url
from carecoord.models import CareTeamLink, PatientIdentifier, PointPerson, SiteMembership, User
from carecoord.services.care_teams import care_team_end_site, care_team_name_point_person
from carecoord.services.memberships import membership_revoke_now, user_deactivate
from referrals.milestones.services import milestone_cancel, milestone_complete, milestone_plan, milestone_set_infusion
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.factories import patient_at
from tests.helpers import (
    World,
    accepted_referral,
    another_record,
    grow_record,
    infused,
    login,
    name_point_persons,
    queries_of_get,
    small_record,
)

pytestmark = pytest.mark.django_db


def feed_path(user: User) -> str:
    _feed, key = feed_create(user=user, name="Phone")
    return reverse("calendar-feed", kwargs={"feed_key": key})


def read_feed(path: str) -> icalendar.Calendar:
    """The feed as a calendar app reads it: no session."""
    response = Client().get(path)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events_of(calendar: icalendar.Calendar) -> dict[str, icalendar.Component]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def course(world: World) -> list[Milestone]:
    """The shared patient's course with day 0 planned, apheresis done earlier than planned and
    one step cancelled; the point persons named (the community oncologist is the practice's
    primary)."""
    name_point_persons(world)
    today = timezone.localdate(timezone=world.center.zone)
    referral = infused(world, today + dt.timedelta(days=20))
    apheresis = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=today + dt.timedelta(days=2)
    )
    milestone_complete(actor=world.center_coordinator, milestone=apheresis, actual_on=today)
    driving = Milestone.objects.get(referral=referral, kind=MilestoneKind.NO_DRIVING_END)
    milestone_cancel(actor=world.center_coordinator, milestone=driving, reason="Does not drive")
    return list(Milestone.objects.filter(referral=referral))


def test_the_feed_parses_back_with_every_dated_milestone_and_no_name_or_diagnosis(
    world: World, course: list[Milestone]
) -> None:
    patient = world.shared_patient
    mrn = PatientIdentifier.objects.get(patient=patient, site=world.practice).mrn
    response = Client().get(feed_path(world.community_oncologist))
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)
    events = events_of(calendar)
    dated = [m for m in course if m.planned_on or m.actual_on]
    assert len(dated) > 20  # the whole course, not a few steps
    assert events.keys() == {milestone_uid(m.pk) for m in dated}
    for milestone in dated:
        event = events[milestone_uid(milestone.pk)]
        start = event.decoded("DTSTART")
        assert type(start) is dt.date  # a whole day: no time, no zone
        done = milestone.status == Milestone.Status.DONE
        assert start == (milestone.actual_on if done else milestone.planned_on)
        assert event.decoded("DTEND") == start + dt.timedelta(days=1)
        assert str(event["SUMMARY"]).endswith(f" · MRN {mrn}")
        assert str(event["STATUS"]) == ("CANCELLED" if milestone.status == Milestone.Status.CANCELLED else "CONFIRMED")
        timeline = reverse("patient-timeline", kwargs={"patient_id": patient.pk})
        assert f"{timeline}#milestone-{milestone.pk}" in str(event["DESCRIPTION"])
        assert event.decoded("LAST-MODIFIED") == milestone.updated_at.replace(microsecond=0)
        assert event.decoded("DTSTAMP") == milestone.updated_at.replace(microsecond=0)
    visit = next(m for m in dated if m.kind == MilestoneKind.VISIT_DAY_30)
    assert str(events[milestone_uid(visit.pk)]["SUMMARY"]) == f"Follow-up visit, day 30 · MRN {mrn}"
    apheresis = next(m for m in dated if m.kind == "apheresis")
    assert "Done on" in str(events[milestone_uid(apheresis.pk)]["DESCRIPTION"])
    assert apheresis.actual_on != apheresis.planned_on
    body = response.content.decode()
    for secret in (patient.given_name, patient.family_name, patient.get_disease_area_display(), patient.disease_area):
        assert secret.lower() not in body.lower(), secret


def test_a_moved_milestone_keeps_its_uid_so_calendars_update_it(world: World, course: list[Milestone]) -> None:
    path = feed_path(world.community_oncologist)
    hand_back = next(m for m in course if m.kind == MilestoneKind.HAND_BACK)
    assert hand_back.planned_on is not None
    everything = events_of(read_feed(path))
    before = everything[milestone_uid(hand_back.pk)]
    Milestone.objects.filter(pk=hand_back.pk).update(planned_on=hand_back.planned_on + dt.timedelta(days=2))
    after = events_of(read_feed(path))
    assert after.keys() == everything.keys()
    assert after[milestone_uid(hand_back.pk)].decoded("DTSTART") == before.decoded("DTSTART") + dt.timedelta(days=2)


def test_a_point_person_of_a_site_without_an_mrn_sees_initials(world: World, course: list[Milestone]) -> None:
    PatientIdentifier.objects.filter(patient=world.shared_patient, site=world.center).delete()
    events = events_of(read_feed(feed_path(world.center_coordinator)))  # backup at the center
    assert events
    assert all(str(event["SUMMARY"]).endswith(" · SS") for event in events.values())  # Sharon Sharedcare


def test_another_persons_patients_never_appear(world: World, course: list[Milestone]) -> None:
    """A second patient of the same two sites, whose practice point person is the coordinator:
    in the coordinator's feed, never in the oncologist's; nothing of either in the outsider's."""
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    link = CareTeamLink.objects.get(patient=other, site=world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_coordinator, rank=PointPerson.Rank.PRIMARY
    )
    referral = accepted_referral(world, patient=other)
    milestone_set_infusion(
        actor=world.center_coordinator, referral=referral, infusion_on=timezone.localdate() + dt.timedelta(days=30)
    )
    shared = {milestone_uid(m.pk) for m in course if m.planned_on or m.actual_on}
    others = {milestone_uid(pk) for pk in Milestone.objects.filter(referral=referral).values_list("pk", flat=True)}
    assert others
    assert events_of(read_feed(feed_path(world.community_oncologist))).keys() == shared
    assert events_of(read_feed(feed_path(world.community_coordinator))).keys() == shared | others  # backup, primary
    foreign_link = world.foreign_patient.care_team.open().get()
    care_team_name_point_person(
        actor=world.outsider, link=foreign_link, user=world.outsider, rank=PointPerson.Rank.PRIMARY
    )
    assert events_of(read_feed(feed_path(world.outsider))) == {}


def test_no_longer_point_person_no_longer_in_the_feed(world: World, course: list[Milestone]) -> None:
    path = feed_path(world.community_oncologist)
    assert events_of(read_feed(path))
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_coordinator, rank=PointPerson.Rank.PRIMARY
    )
    assert events_of(read_feed(path)) == {}


def test_a_site_leaving_the_care_team_takes_its_point_persons_patients_out(
    world: World, course: list[Milestone]
) -> None:
    path = feed_path(world.center_coordinator)
    assert events_of(read_feed(path))
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    care_team_end_site(actor=world.center_coordinator, link=link)
    assert events_of(read_feed(path)) == {}


def test_a_membership_ended_now_empties_the_feed(world: World, course: list[Milestone]) -> None:
    path = feed_path(world.community_oncologist)
    assert events_of(read_feed(path))
    membership_revoke_now(membership=SiteMembership.objects.get(user=world.community_oncologist))
    assert events_of(read_feed(path)) == {}


def test_revoked_wrong_and_deactivated_feeds_answer_404(world: World, course: list[Milestone]) -> None:
    feed, key = feed_create(user=world.community_oncologist, name="Phone")
    path = reverse("calendar-feed", kwargs={"feed_key": key})
    assert Client().get(path).status_code == 200
    assert Client().get(path.replace(key, key[:-1] + ("A" if key[-1] != "A" else "B"))).status_code == 404
    feed_revoke(feed=feed)
    assert Client().get(path).status_code == 404
    other = feed_path(world.community_coordinator)
    assert Client().get(other).status_code == 200
    user_deactivate(user=world.community_coordinator)
    assert Client().get(other).status_code == 404


def test_a_feed_takes_no_other_method(world: World) -> None:
    path = feed_path(world.community_oncologist)
    assert Client().post(path).status_code == 405
    assert Client().head(path).status_code == 200


def test_reading_a_feed_is_audited_as_its_owner_once_per_patient(world: World, course: list[Milestone]) -> None:
    path = feed_path(world.community_oncologist)
    before = AuditEntry.objects.count()
    read_feed(path)
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.actor_id, e.action, e.patient_id, e.what, e.site_id) for e in entries] == [
        (
            world.community_oncologist.pk,
            AuditEntry.Action.DOWNLOAD,
            world.shared_patient.pk,
            "read calendar feed",
            world.practice.pk,
        )
    ]
    assert CalendarFeed.objects.get(user=world.community_oncologist).last_read_at is not None
    # A wrong key reads nothing, and records nothing.
    count = AuditEntry.objects.count()
    assert Client().get(path[:-6] + "xx.ics").status_code == 404
    assert AuditEntry.objects.count() == count


def test_wrong_keys_from_one_address_are_refused_for_an_hour(world: World) -> None:
    path = feed_path(world.community_oncologist)
    client = Client()
    for _ in range(WRONG_KEYS_PER_HOUR):
        assert client.get(reverse("calendar-feed", kwargs={"feed_key": "cal_guess"})).status_code == 404
    # Even the right key: a refusal must not tell a guess from a key.
    assert client.get(path).status_code == 429
    forget_wrong_keys("127.0.0.1")
    assert client.get(path).status_code == 200


def _feed_queries(path: str) -> int:
    client = Client()
    client.get(path)  # the permission ids, read once per process
    return queries_of_get(client, path)


def test_the_feed_asks_a_fixed_number_of_queries_whatever_the_rows(world: World, tmp_media: Path) -> None:
    record = small_record(world)  # the community oncologist is the practice's primary
    path = feed_path(world.community_oncologist)
    small = _feed_queries(path)
    events_before = len(events_of(read_feed(path)))
    grow_record(record)
    another_record(world)  # a second patient, same point persons
    assert len(events_of(read_feed(path))) > events_before + 20
    assert _feed_queries(path) == small


def test_the_account_page_makes_shows_once_and_revokes_a_feed(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    account = reverse("account-security")
    response = client.post(reverse("calendar-feed-create"), {"feed-name": "Work phone"})
    assert response.status_code == 302
    page = client.get(account).content.decode()
    feed = CalendarFeed.objects.get(user=world.community_oncologist)
    start = page.index('id="new-feed-url">') + len('id="new-feed-url">')
    url = page[start : page.index("<", start)]
    assert url.startswith(settings.SITE_URL + "/calendar/feeds/cal_") and url.endswith(".ics")
    assert url == feed_url(url.rsplit("/", 1)[1].removesuffix(".ics"))
    assert "webcal://" in page
    # Only its hash is kept, and the address is not shown again.
    assert feed.key_hash not in page and feed.key_hint in url
    assert url not in client.get(account).content.decode()
    path = url.removeprefix(url.split("/calendar/")[0])
    assert Client().get(path).status_code == 200
    # Someone else cannot revoke it; its owner can, and it stops answering at once.
    assert (
        login(Client(), world.community_coordinator)
        .post(reverse("calendar-feed-revoke", kwargs={"feed_id": feed.pk}))
        .status_code
        == 404
    )
    assert Client().get(path).status_code == 200
    assert client.post(reverse("calendar-feed-revoke", kwargs={"feed_id": feed.pk})).status_code == 302
    assert Client().get(path).status_code == 404
    assert "Revoked" in client.get(account).content.decode()


def test_a_feed_needs_a_name(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.post(reverse("calendar-feed-create"), {"feed-name": "  "}, follow=True)
    assert "Calendar feed not made" in response.content.decode()
    assert not CalendarFeed.objects.exists()


def test_reading_feeds_logs_no_patient_data(
    world: World, course: list[Milestone], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = feed_path(world.community_oncologist)
    read_feed(path)
    Client().get(path.replace("cal_", "cal_x"))  # refused: Django logs its path
    logged = "\n".join(record.getMessage() for record in caplog.records)
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    for secret in (mrn, world.shared_patient.family_name, world.shared_patient.given_name):
        assert secret not in logged
