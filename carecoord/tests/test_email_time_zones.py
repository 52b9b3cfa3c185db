"""Every email shows its times on its recipient's clock, with the zone named, and its plain-text
part is plain text: never HTML-escaped."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from carecoord.emails import email_queue, render_email
from carecoord.models import OutgoingEmail, Site, User
from carecoord.roles import Role
from carecoord.services.memberships import membership_start
from carecoord.zones import UTC, viewer_zone, zone_of, zones_of
from handoffs.models import Handoff
from tests.helpers import World, grade_2_event, name_point_persons, sent_handoff

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
ONSET = dt.datetime(2026, 12, 1, 20, 5, tzinfo=dt.UTC)  # 14:05 in Chicago, 15:05 in New York


def _practice_in_new_york(world: World) -> None:
    Site.objects.filter(pk=world.practice.pk).update(time_zone="America/New_York")
    world.practice.refresh_from_db()


def _email(recipient_pk: int, template: str) -> OutgoingEmail:
    return OutgoingEmail.objects.get(recipient_id=recipient_pk, template=template)


@pytest.mark.django_db
def test_an_alert_email_shows_each_recipient_their_own_sites_time(world: World) -> None:
    _practice_in_new_york(world)
    with time_machine.travel(ONSET + dt.timedelta(hours=2), tick=False):
        grade_2_event(world)  # recorded at the center, begun two hours before
    center_nurse = User.objects.get(email="nurse@lakeside.test")

    at_center = _email(center_nurse.pk, "toxicity-alert")  # Chicago
    at_practice = _email(world.community_coordinator.pk, "toxicity-alert")  # New York
    assert "Onset: Tue 1 Dec 2026, 14:05 CST." in at_center.body_text
    assert "14:05 CST" in at_center.body_html
    assert "Onset: Tue 1 Dec 2026, 15:05 EST." in at_practice.body_text
    assert "15:05 EST" in at_practice.body_html
    assert "UTC" not in at_center.body_text + at_practice.body_text


@pytest.mark.django_db
def test_a_handoff_email_is_on_the_receivers_clock(world: World) -> None:
    _practice_in_new_york(world)
    name_point_persons(world)
    handoff = sent_handoff(world)
    assert handoff.sent_at is not None
    sent_there = handoff.sent_at.astimezone(NEW_YORK)

    email = _email(world.community_oncologist.pk, "handoff-sent")

    assert f"Sent: {sent_there:%a} {sent_there.day} {sent_there:%b %Y, %H:%M} EST" in email.body_text


@pytest.mark.django_db
def test_a_site_name_with_an_ampersand_is_plain_in_text_and_escaped_in_html(world: World) -> None:
    Site.objects.filter(pk=world.center.pk).update(name="A & B Oncology")
    name_point_persons(world)
    handoff = sent_handoff(world)
    assert Handoff.objects.get(pk=handoff.pk).from_site.name == "A & B Oncology"

    email = _email(world.community_oncologist.pk, "handoff-sent")

    assert email.subject == "carecoord: hand-off from A & B Oncology to acknowledge (patient SS)"
    assert "A & B Oncology sent you a hand-off" in email.body_text
    assert "&amp;" not in email.body_text
    assert "A &amp; B Oncology sent you a hand-off" in email.body_html


@pytest.mark.django_db
def test_render_email_uses_the_zone_given_and_utc_without_one() -> None:
    at = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    context = {"change": "recovery-codes", "at": at}
    _subject, chicago, _html = render_email("second-factor-changed", context, CHICAGO)
    _subject, nowhere, _html = render_email("second-factor-changed", context)
    assert "1 Jul 2026, 07:00 CDT" in chicago
    assert "1 Jul 2026, 12:00 UTC" in nowhere


@pytest.mark.django_db
def test_email_queue_renders_in_the_recipients_primary_site_zone(world: World) -> None:
    _practice_in_new_york(world)
    at = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    for user in (world.center_coordinator, world.community_coordinator):
        email_queue(
            recipient=user,
            template="second-factor-changed",
            context={"change": "recovery-codes", "at": at},
            dedupe_key=f"zone-test:{user.pk}",
            enqueue=False,
        )
    assert "07:00 CDT" in _email(world.center_coordinator.pk, "second-factor-changed").body_text
    assert "08:00 EDT" in _email(world.community_coordinator.pk, "second-factor-changed").body_text


@pytest.mark.django_db
def test_a_persons_zone_is_their_earliest_active_sites_on_every_path(world: World) -> None:
    """Pages (from the loaded memberships) and emails (from the database) agree, for someone
    who works at two sites: the one they joined first (New York, 2019) is their primary one,
    whatever order the memberships come in."""
    _practice_in_new_york(world)
    person = world.center_coordinator  # at the Chicago center since 2020
    membership_start(user=person, site=world.practice, role=Role.PHYSICIAN, starts_on=dt.date(2019, 1, 1))
    memberships = list(person.memberships.select_related("site"))
    assert len(memberships) == 2

    assert viewer_zone(memberships) == NEW_YORK
    assert viewer_zone(list(reversed(memberships))) == NEW_YORK
    assert zone_of(person) == NEW_YORK
    assert zones_of([person.pk, world.community_coordinator.pk, world.outsider.pk]) == {
        person.pk: NEW_YORK,
        world.community_coordinator.pk: NEW_YORK,
        world.outsider.pk: CHICAGO,
    }
    assert viewer_zone([]) == UTC
