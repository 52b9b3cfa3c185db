"""Alerts survive faults: a broker outage delays them, a killed worker does not lose or
duplicate them. Real Redis (a private server the test stops), real workers, real SMTP."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from carecoord.models import OutgoingEmail
from carecoord.tasks import sweep_emails
from tests.broker import broker_at, private_redis
from tests.conftest import World
from tests.smtp import Catcher, smtp_catcher
from tests.test_toxicity import CRS_GRADE_3, _name_point_persons
from tests.worker import running_worker, wait_for
from toxicity.models import Alert
from toxicity.services import toxicity_record

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FAST_SWEEP = {"EMAIL_PENDING_GRACE_SECONDS": "1", "EMAIL_SENDING_TIMEOUT_SECONDS": "3"}


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
    time.sleep(3)
    assert sorted(str(m["To"]) for m in catcher.messages) == expected
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}


def _sweep_until(condition: Callable[[], bool], timeout: float) -> None:
    """Run the sweeper (as beat would, every minute; here every two seconds) until `condition`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        with contextlib.suppress(Exception):  # the broker may still be coming back
            sweep_emails.delay()
        time.sleep(2)
    raise AssertionError("condition not met while sweeping")


def test_alerts_recorded_while_redis_is_down_arrive_once_when_it_is_back(world: World, tmp_path: Path) -> None:
    _name_point_persons(world)
    with private_redis(tmp_path) as redis, broker_at(redis.url), smtp_catcher() as catcher:
        env = {**catcher.env, **FAST_SWEEP, "REDIS_URL": redis.url}
        with running_worker(tmp_path / "worker.log", extra_env=env):
            redis.stop()
            _record(world)  # committed; queuing the emails fails and is left to the sweeper
            assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count() == 3
            assert catcher.messages == []
            redis.start()
            _sweep_until(lambda: len(catcher.messages) >= 3, timeout=90)
            _delivered_once_each(catcher)


def test_a_worker_killed_while_sending_loses_and_duplicates_nothing(world: World, tmp_path: Path) -> None:
    _name_point_persons(world)
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
            _sweep_until(lambda: len(catcher.messages) >= 3, timeout=90)
            _delivered_once_each(catcher)
    assert OutgoingEmail.objects.filter(attempts=2).count() == 1
