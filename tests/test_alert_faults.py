"""Alerts survive faults: a broker outage or a relay outage delays them, a killed worker does
not lose or duplicate them, racing requests do not double them, and a digest run does not hold
them up. Real Redis (a private server the test stops), real workers, real SMTP (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from carecoord.models import OutgoingEmail
from carecoord.tasks import sweep_emails
from tests.broker import broker_at, private_redis
from tests.factories import UserFactory
from tests.helpers import CRS_GRADE_3, World, at_once, grade_2_event, holds_for, login, name_point_persons, wait_for
from tests.smtp import Catcher, listening, relay_down, smtp_catcher
from tests.worker import FAST_SWEEP, running_worker, sweep_until, worker_children
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_assess, toxicity_record
from workspace.digests.services import digest_deliver

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _record(world: World) -> None:
    toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=1),
        inputs=CRS_GRADE_3,
    )


def _delivered_once_each(catcher: Catcher) -> None:
    """Every alert email arrived, and nothing more arrives a moment later (the recorder, whose
    own site's alert counts as seen, gets none)."""
    expected = sorted(Alert.objects.filter(email__isnull=False).values_list("recipient__email", flat=True))
    assert len(expected) == 3
    wait_for(lambda: len(catcher.messages) >= len(expected), timeout=90)
    holds_for(lambda: len(catcher.messages) == len(expected), seconds=3, describe=lambda: str(len(catcher.messages)))
    assert sorted(str(m["To"]) for m in catcher.messages) == expected
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}


def test_alerts_recorded_while_redis_is_down_arrive_once_when_it_is_back(world: World, tmp_path: Path) -> None:
    name_point_persons(world)
    with private_redis(tmp_path) as redis, broker_at(redis.url), smtp_catcher() as catcher:
        env = {**catcher.env, **FAST_SWEEP, "REDIS_URL": redis.url}
        with running_worker(tmp_path / "worker.log", extra_env=env):
            redis.stop()
            _record(world)  # committed; queuing the emails fails and is left to the sweeper
            assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count() == 3
            assert catcher.messages == []
            redis.start()
            sweep_until(lambda: len(catcher.messages) >= 3, timeout=90)
            _delivered_once_each(catcher)


def test_a_worker_killed_while_sending_loses_and_duplicates_nothing(world: World, tmp_path: Path) -> None:
    name_point_persons(world)
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with private_redis(tmp_path) as redis, broker_at(redis.url), smtp_catcher() as catcher:
        catcher.stall_first_greeting_seconds = 30
        env = {**catcher.env, **FAST_SWEEP, "REDIS_URL": redis.url}
        with running_worker(tmp_path / "first.log", extra_env=env, queue=queue) as first:
            _record(world)
            wait_for(catcher.stalled.is_set, timeout=60, describe=lambda: (tmp_path / "first.log").read_text())
            first.kill()  # SIGKILL in the middle of an SMTP conversation
            first.wait(timeout=10)
        stuck = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENDING)
        assert stuck.count() == 1 and catcher.messages == []
        with running_worker(tmp_path / "second.log", extra_env=env, queue=queue):
            sweep_until(lambda: len(catcher.messages) >= 3, timeout=90)
            _delivered_once_each(catcher)
    assert OutgoingEmail.objects.filter(attempts=2).count() == 1


# The outbox used to give up after five attempts spent in 35-68 s; the relay stays down longer.
OLD_ATTEMPTS = 5
QUICK_RETRIES = {"EMAIL_RETRY_FIRST_SECONDS": "1", "EMAIL_RETRY_LONGEST_SECONDS": "4"}


def test_alerts_written_while_the_relay_is_down_arrive_once_when_it_is_back(world: World, tmp_path: Path) -> None:
    name_point_persons(world)
    catcher = relay_down()
    env = {**catcher.env, **FAST_SWEEP, **QUICK_RETRIES, "EMAIL_UNDELIVERED_WARNING_MINUTES": "1"}
    page = login(Client(), world.community_coordinator)
    patient_page = reverse("patient-detail", args=[world.shared_patient.pk])
    with running_worker(tmp_path / "worker.log", extra_env=env), override_settings(EMAIL_UNDELIVERED_WARNING_MINUTES=1):
        _record(world)
        alerts = OutgoingEmail.objects.filter(urgent=True)
        # Past the old window, and long enough for the sites to be shown what waits.
        wait_for(
            lambda: alerts.filter(attempts__gt=OLD_ATTEMPTS).count() == 3,
            timeout=60,
            describe=lambda: str(list(alerts.values_list("attempts", "status", "last_error"))),
        )
        wait_for(lambda: "not delivered since" in page.get(patient_page).content.decode(), timeout=90)
        assert set(alerts.values_list("status", flat=True)) <= {"pending", "sending"}  # none given up
        assert all("ConnectionRefusedError" in e for e in alerts.values_list("last_error", flat=True))
        with listening(catcher):
            _delivered_once_each(catcher)
            assert "not delivered since" not in page.get(patient_page).content.decode()
            # The beat's sweep then tells the coordinators of both sites that alerts were late.
            sweep_emails.delay()

            def late() -> list[str]:
                return sorted(str(m["To"]) for m in catcher.messages if "delivered late" in str(m["Subject"]))

            # One email per coordinator, sent one after the other: wait for both, not the first.
            wait_for(lambda: len(late()) >= 2, timeout=30, describe=lambda: str(late()))
            assert late() == sorted([world.center_coordinator.email, world.community_coordinator.email])


def test_a_task_whose_pool_process_died_mid_send_takes_the_email_over_at_once(world: World, tmp_path: Path) -> None:
    """No sweeper here: the worker hands the lost task back, and its claim waits for the dead
    process's lease (seconds) instead of refusing the row."""
    name_point_persons(world)
    with smtp_catcher() as catcher:
        catcher.stall_first_greeting_seconds = 60
        env = {**catcher.env, **FAST_SWEEP}
        with running_worker(tmp_path / "worker.log", extra_env=env, pool="prefork") as worker:
            _record(world)
            wait_for(catcher.stalled.is_set, timeout=60, describe=lambda: (tmp_path / "worker.log").read_text())
            for pid in worker_children(worker):
                os.kill(pid, signal.SIGKILL)  # the pool process, in the middle of an SMTP conversation
            wait_for(
                lambda: len(catcher.messages) >= 3, timeout=90, describe=lambda: (tmp_path / "worker.log").read_text()
            )
            _delivered_once_each(catcher)
    assert OutgoingEmail.objects.filter(attempts=2).count() == 1


def test_two_clinicians_raising_the_grade_at_once_send_one_email_each(world: World, tmp_path: Path) -> None:
    event = grade_2_event(world)
    now = timezone.now()

    def raise_grade(user: object, site: object, minutes: int) -> Callable[[], object]:
        return lambda: toxicity_assess(
            actor=user,  # type: ignore[arg-type]
            event=ToxicityEvent.objects.get(pk=event.pk),
            site=site,  # type: ignore[arg-type]
            assessed_at=now - dt.timedelta(minutes=minutes),
            inputs=CRS_GRADE_3,
        )

    with smtp_catcher() as catcher, running_worker(tmp_path / "worker.log", extra_env=catcher.env):
        at_once(
            raise_grade(world.community_oncologist, world.practice, 3),
            raise_grade(world.center_coordinator, world.center, 4),
        )
        rose = OutgoingEmail.objects.filter(alert__reason=Alert.Reason.GRADE_ROSE)
        wait_for(lambda: rose.filter(status="sent").count() == rose.count() > 0, timeout=60)
        subjects = [str(m["Subject"]) for m in catcher.messages if "grade 3" in str(m["Subject"]).lower()]
        recipients = [str(m["To"]) for m in catcher.messages if "grade 3" in str(m["Subject"]).lower()]
        assert len(subjects) == rose.count() and len(set(recipients)) == len(recipients)


def test_an_alert_during_a_digest_run_does_not_wait_for_it(world: World, tmp_path: Path) -> None:
    """Digests on the default queue, alerts on their own with a worker of their own."""
    name_point_persons(world)
    readers = UserFactory.create_batch(30)
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with smtp_catcher() as catcher:
        catcher.data_delay_seconds = 0.5  # a relay taking half a second a message: a 15 s run
        env = catcher.env
        with (
            running_worker(tmp_path / "digests.log", extra_env=env, queue=queue, consumes="default"),
            running_worker(tmp_path / "alerts.log", extra_env=env, queue=queue, consumes="alerts"),
        ):
            week = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
            for reader in readers:
                digest_deliver(user=reader, week_start=week, zone=world.center.zone, now=timezone.now())

            def digests() -> int:
                return sum("alert" not in str(m["Subject"]).lower() for m in catcher.messages)

            wait_for(lambda: digests() >= 1, timeout=60)  # the run has begun
            _record(world)
            wait_for(lambda: len(catcher.messages) - digests() >= 3, timeout=60)
            assert digests() < len(readers)  # the alerts went out while the run went on
            wait_for(lambda: digests() == len(readers), timeout=120)
