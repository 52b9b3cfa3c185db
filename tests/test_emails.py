"""The email outbox: one row per message, claimed once, retried on SMTP errors, swept when lost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import override_settings

from carecoord.emails import MAX_ATTEMPTS, email_claim, email_deliver, email_queue, email_sweep
from carecoord.models import OutgoingEmail
from tests.conftest import World
from tests.smtp import Catcher, smtp_catcher
from tests.worker import wait_for

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


def test_only_one_claim_succeeds(world: World) -> None:
    email = _queue(world)
    assert email is not None
    assert email_claim(email.pk) is not None
    assert email_claim(email.pk) is None


def test_an_smtp_refusal_puts_the_row_back_with_the_error_then_fails_for_good(world: World) -> None:
    email = _queue(world)
    assert email is not None
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        catcher.refuse_next = MAX_ATTEMPTS
        for attempt in range(1, MAX_ATTEMPTS + 1):
            claimed = email_claim(email.pk)
            assert claimed is not None and claimed.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                with pytest.raises(Exception, match="451"):
                    email_deliver(claimed)
            else:
                email_deliver(claimed)  # the last attempt gives up without raising
        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.FAILED
        assert "451" in email.last_error
        assert catcher.messages == []


def test_delivery_over_smtp_marks_the_row_sent(world: World) -> None:
    email = _queue(world)
    assert email is not None
    with smtp_catcher() as catcher, override_settings(MAILERS=_smtp(catcher)):
        claimed = email_claim(email.pk)
        assert claimed is not None
        email_deliver(claimed)
        wait_for(lambda: len(catcher.messages) == 1, timeout=5)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.sent_at is not None
    assert catcher.messages[0]["Message-ID"].startswith(f"<carecoord-email-{email.pk}@")


def test_the_sweeper_requeues_lost_and_abandoned_rows_but_not_fresh_ones(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        lost = _queue(world, "lost")
        abandoned = _queue(world, "abandoned")
        assert lost is not None and abandoned is not None
        assert email_claim(abandoned.pk) is not None  # its worker then died
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        fresh = _queue(world, "fresh")
        assert fresh is not None
        assert email_sweep() == []
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert set(email_sweep()) == {lost.pk, fresh.pk}  # the abandoned one is still within its timeout
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        assert set(email_sweep()) == {lost.pk, fresh.pk, abandoned.pk}
        abandoned.refresh_from_db()
        assert abandoned.status == OutgoingEmail.Status.PENDING
