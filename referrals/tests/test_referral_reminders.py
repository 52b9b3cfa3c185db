"""The acknowledgement deadline: flagged, and the center's coordinators reminded once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from carecoord.emails import email_claim, email_deliver
from carecoord.models import OutgoingEmail, TimelineEntry
from carecoord.roles import Role
from referrals.models import Referral
from referrals.reminders import remind_overdue_referrals
from referrals.services import referral_move
from referrals.tasks import remind_unacknowledged_referrals
from referrals.workflow import Move
from tests.factories import death_on_file, member
from tests.helpers import World, draft_referral, wait_for
from tests.smtp import smtp_catcher, text_and_html
from tests.worker import running_worker

MONDAY_NOON_CHICAGO = dt.datetime(2026, 11, 16, 18, 0, tzinfo=dt.UTC)
# The reminders, not the emails announcing the referral when it was submitted.
REMINDERS = OutgoingEmail.objects.filter(template="referral-acknowledgement-overdue")


def _submitted(world: World) -> None:
    with time_machine.travel(MONDAY_NOON_CHICAGO, tick=False):
        referral_move(actor=world.community_coordinator, referral=draft_referral(world), move=Move.SUBMIT)


@pytest.mark.django_db
def test_a_referral_is_overdue_only_after_one_business_day(world: World) -> None:
    _submitted(world)
    assert not Referral.objects.acknowledgement_overdue(MONDAY_NOON_CHICAGO + dt.timedelta(hours=23)).exists()
    assert Referral.objects.acknowledgement_overdue(MONDAY_NOON_CHICAGO + dt.timedelta(hours=24, minutes=1)).exists()


@pytest.mark.django_db
def test_coordinators_of_the_center_are_reminded_once(world: World) -> None:
    second_coordinator = member(world.center, Role.COORDINATOR)
    member(world.center, Role.NURSE)  # not a coordinator: not reminded
    _submitted(world)
    later = MONDAY_NOON_CHICAGO + dt.timedelta(days=2)
    assert remind_overdue_referrals(later) == 1
    assert remind_overdue_referrals(later + dt.timedelta(hours=1)) == 0
    recipients = set(REMINDERS.values_list("recipient", flat=True))
    assert recipients == {world.center_coordinator.pk, second_coordinator.pk}
    assert TimelineEntry.objects.filter(title__startswith="Acknowledgement overdue").count() == 1


@pytest.mark.django_db
def test_the_reminder_gives_the_deadline_on_the_coordinators_clock(world: World) -> None:
    _submitted(world)
    assert remind_overdue_referrals(MONDAY_NOON_CHICAGO + dt.timedelta(days=2)) == 1
    email = REMINDERS.get(recipient=world.center_coordinator)
    # One business day after Monday noon in Chicago, named as Chicago time (not 18:00 UTC).
    assert "Acknowledgement was due: Tue 17 Nov 2026, 12:00 CST" in email.body_text
    assert "Tue 17 Nov 2026, 12:00 CST" in email.body_html


@pytest.mark.django_db
def test_an_acknowledged_referral_is_not_reminded(world: World) -> None:
    _submitted(world)
    referral = world.shared_patient.referrals.get()
    referral_move(actor=world.center_coordinator, referral=referral, move=Move.ACKNOWLEDGE)
    assert remind_overdue_referrals(MONDAY_NOON_CHICAGO + dt.timedelta(days=3)) == 0


@pytest.mark.django_db
def test_the_reminder_email_carries_initials_not_the_name(world: World) -> None:
    _submitted(world)
    remind_overdue_referrals(MONDAY_NOON_CHICAGO + dt.timedelta(days=2))
    email = REMINDERS.get()
    claimed = email_claim(email.pk).email
    assert claimed is not None and email_claim(email.pk).email is None  # a second claim gets nothing
    email_deliver(claimed)
    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    body, html = message.body, message.alternatives[0][0]
    for part in (message.subject, body, str(html)):
        assert "Sharedcare" not in part and "Sharon" not in part
    assert "SS" in body and "SS" in str(html)
    assert f"/patients/{world.shared_patient.pk}/" in body
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_the_reminder_over_smtp_once_even_after_a_refusal(world: World, tmp_path: Path) -> None:
    _submitted(world)
    with smtp_catcher() as catcher:
        catcher.refuse_next = 1  # the first delivery gets a 451 and must be retried
        # The worker runs on the real clock, days after the frozen Monday submission.
        with running_worker(tmp_path / "worker.log", extra_env=catcher.env):
            remind_unacknowledged_referrals.delay()
            wait_for(
                lambda: len(catcher.to(world.center_coordinator.email)) == 1,
                timeout=60,
                describe=lambda: (tmp_path / "worker.log").read_text(),
            )
        (message,) = catcher.to(world.center_coordinator.email)
        text, html = text_and_html(message)
        assert "awaits acknowledgement" in message["Subject"]
        assert "Sharedcare" not in text + html
    email = REMINDERS.get()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 2)
    assert "451" in (tmp_path / "worker.log").read_text()


@pytest.mark.django_db
def test_the_referral_of_a_patient_who_died_is_not_reminded(world: World) -> None:
    _submitted(world)
    death_on_file(world.shared_patient, world.practice, world.community_coordinator, dt.date(2026, 11, 16))
    assert remind_overdue_referrals(MONDAY_NOON_CHICAGO + dt.timedelta(days=3)) == 0
    assert not REMINDERS.exists()
