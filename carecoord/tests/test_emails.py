"""The email outbox: one row per message, claimed once, retried on SMTP errors, swept when lost."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from carecoord.emails import (
    Claim,
    email_claim,
    email_deliver,
    email_queue,
    email_send_all,
    email_send_here,
    email_sweep,
    retry_delay,
)
from carecoord.models import OutgoingEmail
from tests.helpers import World, wait_for
from tests.smtp import Catcher, smtp_catcher

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)


def _queue(world: World, key: str = "k1") -> OutgoingEmail | None:
    from referrals.models import Referral

    referral = Referral(pk=7, from_site=world.practice, to_center=world.center, urgency="urgent")
    return email_queue(
        recipient=world.center_coordinator,
        template="referral-acknowledgement-overdue",
        context={"referral": referral, "initials": "SS", "link": "/x/", "due": NOW},
        dedupe_key=key,
    )


def _smtp(catcher: Catcher) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": catcher.host, "port": catcher.port, "timeout": 5},
        }
    }


def test_the_same_message_is_queued_only_once(world: World) -> None:
    assert _queue(world) is not None
    assert _queue(world) is None
    assert OutgoingEmail.objects.count() == 1


def test_only_one_claim_succeeds_and_the_other_is_told_when_to_look_again(world: World) -> None:
    email = _queue(world)
    assert email is not None
    with time_machine.travel(NOW, tick=False):
        assert email_claim(email.pk, worker="a").email is not None
        second = email_claim(email.pk, worker="b")
    assert second.email is None and second.retry_in == settings.EMAIL_LEASE_SECONDS + 1


@pytest.mark.parametrize(("attempts", "delay"), [(1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (200, 300)])
def test_retries_back_off_to_every_five_minutes(attempts: int, delay: float) -> None:
    assert retry_delay(attempts) == delay


def test_an_smtp_refusal_is_retried_with_backoff_until_the_window_closes_then_fails(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        email = _queue(world)
    assert email is not None and email.give_up_at == NOW + dt.timedelta(hours=settings.EMAIL_RETRY_HOURS)
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        catcher.refuse_next = 1000
        with time_machine.travel(NOW, tick=False):
            claimed = email_claim(email.pk).email
            assert claimed is not None
            assert email_deliver(claimed) == 5
            email.refresh_from_db()
            assert (email.status, email.next_attempt_at) == (OutgoingEmail.Status.PENDING, NOW + dt.timedelta(0, 5))
            assert "451" in email.last_error
            # Not due yet: a second delivery of the task is told to come back in time.
            assert email_claim(email.pk).retry_in == 6
        # Hours of outage later, still retried: nothing is failed before the window closes.
        with time_machine.travel(NOW + dt.timedelta(hours=23), tick=False):
            claimed = email_claim(email.pk).email
            assert claimed is not None and email_deliver(claimed) == 10
        with time_machine.travel(NOW + dt.timedelta(hours=24, seconds=1), tick=False):
            claimed = email_claim(email.pk).email
            assert claimed is not None and email_deliver(claimed) is None
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 3)
        assert catcher.messages == []


def test_a_retry_that_goes_through_releases_the_others_waiting_out_their_backoff(world: World) -> None:
    """The relay is back: the emails waiting minutes for their next attempt go at once."""
    with time_machine.travel(NOW, tick=False):
        first, waiting, fresh = _queue(world, "first"), _queue(world, "waiting"), _queue(world, "fresh")
        assert first is not None and waiting is not None and fresh is not None
    OutgoingEmail.objects.filter(pk__in=[first.pk, waiting.pk]).update(
        attempts=4, next_attempt_at=NOW + dt.timedelta(seconds=40), last_error="ConnectionRefusedError"
    )
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        with time_machine.travel(NOW + dt.timedelta(seconds=40), tick=False):
            claimed = email_claim(first.pk).email
            assert claimed is not None and email_deliver(claimed) is None  # the relay takes it
        waiting.refresh_from_db()
        assert waiting.next_attempt_at is not None and waiting.next_attempt_at <= timezone.now()
        assert email_claim(waiting.pk).email is not None  # due now, not in up to five minutes
        # A first attempt going through says nothing about an outage: nothing to release.
        OutgoingEmail.objects.filter(pk=waiting.pk).update(
            status="pending", next_attempt_at=NOW + dt.timedelta(hours=1)
        )
        claimed = email_claim(fresh.pk).email
        assert claimed is not None and email_deliver(claimed) is None
        waiting.refresh_from_db()
        assert waiting.next_attempt_at == NOW + dt.timedelta(hours=1)


def test_delivery_over_smtp_marks_the_row_sent(world: World) -> None:
    email = _queue(world)
    assert email is not None
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        claimed = email_claim(email.pk).email
        assert claimed is not None
        assert email_deliver(claimed) is None
        wait_for(lambda: len(catcher.messages) == 1, timeout=5)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.sent_at is not None
    assert catcher.messages[0]["Message-ID"].startswith(f"<carecoord-email-{email.pk}@")
    assert email_claim(email.pk) == Claim()  # nothing left to do


def _queued(world: World, count: int) -> list[int]:
    emails = [_queue(world, f"together-{n}") for n in range(count)]
    return [email.pk for email in emails if email is not None]


def test_emails_sent_together_go_through_one_smtp_session(world: World) -> None:
    ids = _queued(world, 3)
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        assert email_send_all(ids, worker="w") == {}
        wait_for(lambda: len(catcher.messages) == 3, timeout=5)
    assert catcher.greetings == 1
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}


def test_a_refused_email_of_several_comes_back_alone_and_the_others_go(world: World) -> None:
    ids = _queued(world, 3)
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        catcher.refuse_next = 1
        assert email_send_all(ids, worker="w") == {ids[0]: 5}
        wait_for(lambda: len(catcher.messages) == 2, timeout=5)
    assert catcher.greetings == 2  # the refusing session is not reused
    statuses = dict(OutgoingEmail.objects.values_list("pk", "status"))
    assert statuses == {ids[0]: "pending", ids[1]: "sent", ids[2]: "sent"}


def test_a_batch_is_sent_here_in_one_conversation_and_a_refused_row_is_left_to_retry(world: World) -> None:
    emails = [_queue(world, key=f"batch-{n}") for n in range(4)]
    ids = [email.pk for email in emails if email is not None]
    assert len(ids) == 4
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        catcher.refuse_next = 1  # the first is refused: the others go on in a new conversation
        email_send_here(ids, worker="batch")
        assert len(catcher.messages) == 3
        assert catcher.greetings == 2
    rows = {row.pk: row for row in OutgoingEmail.objects.filter(pk__in=ids)}
    refused = rows[ids[0]]
    assert (refused.status, refused.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert "451" in refused.last_error and refused.next_attempt_at is not None
    assert {rows[pk].status for pk in ids[1:]} == {OutgoingEmail.Status.SENT}
    assert {rows[pk].claimed_by for pk in ids} == {"batch"}


def test_a_row_whose_worker_died_is_taken_over_once_its_lease_runs_out(world: World) -> None:
    email = _queue(world)
    assert email is not None
    with time_machine.travel(NOW, tick=False):
        assert email_claim(email.pk, worker="dead").email is not None
    lease = settings.EMAIL_LEASE_SECONDS
    with time_machine.travel(NOW + dt.timedelta(seconds=lease - 1), tick=False):
        assert email_claim(email.pk, worker="redelivered").retry_in == 2
    with time_machine.travel(NOW + dt.timedelta(seconds=lease + 1), tick=False):
        taken = email_claim(email.pk, worker="redelivered").email
    assert taken is not None and (taken.claimed_by, taken.attempts) == ("redelivered", 2)


def test_the_sweeper_requeues_lost_late_and_abandoned_rows_but_not_fresh_ones(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        lost = _queue(world, "lost")
        abandoned = _queue(world, "abandoned")
        assert lost is not None and abandoned is not None
        assert email_claim(abandoned.pk).email is not None  # its worker then died
    with time_machine.travel(NOW + dt.timedelta(seconds=20), tick=False):
        fresh = _queue(world, "fresh")
        assert fresh is not None
        assert email_sweep() == []
    with time_machine.travel(NOW + dt.timedelta(seconds=settings.EMAIL_LEASE_SECONDS + 1), tick=False):
        assert {e.pk for e in email_sweep()} == {abandoned.pk}
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert {e.pk for e in email_sweep()} == {lost.pk, fresh.pk, abandoned.pk}


def test_requeueing_a_failed_email_gives_it_a_new_window(world: World) -> None:
    email = _queue(world)
    assert email is not None
    OutgoingEmail.objects.filter(pk=email.pk).update(status=OutgoingEmail.Status.FAILED, attempts=9)
    out = StringIO()
    call_command("outbox", stdout=out)
    assert (
        f"#{email.pk} referral-acknowledgement-overdue to coordinator@lakeside.test: failed, 9 attempts"
        in out.getvalue()
    )
    call_command("outbox", "--requeue-failed", stdout=out)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.PENDING and email.give_up_at is not None
    assert email.give_up_at > timezone.now() + dt.timedelta(hours=settings.EMAIL_RETRY_HOURS - 1)
    assert "Queued again: 1 email." in out.getvalue()
