"""Membership dates are applied by the scheduled task, run here by a real Celery worker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connections
from django.utils import timezone

from carecoord.access import patients_visible_to
from carecoord.models import SiteMembership
from carecoord.roles import Role
from carecoord.tasks import refresh_membership_access
from config.celery import app as celery_app
from tests.factories import member
from tests.helpers import World, wait_for
from tests.worker import running_worker

pytestmark = pytest.mark.worker


def test_beat_schedules_the_membership_refresh_every_quarter_hour() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-membership-access"]
    assert entry["task"] == refresh_membership_access.name
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert cast(Any, schedule).minute == set(range(0, 60, 15))  # the stubs do not declare the parsed fields


# Committed data for the worker; serialized rollback restores the seeded product catalog after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_withdraws_access_when_a_membership_has_ended(world: World, tmp_path: Path) -> None:
    nurse = member(world.center, Role.NURSE)
    assert world.shared_patient in patients_visible_to(nurse)
    # The membership ended two days ago; only the scheduled pass has not run yet.
    SiteMembership.objects.filter(user=nurse).update(ends_on=timezone.localdate() - dt.timedelta(days=2))
    assert world.shared_patient in patients_visible_to(nurse)

    with running_worker(tmp_path / "worker.log") as worker:
        refresh_membership_access.delay()
        wait_for(
            lambda: not patients_visible_to(nurse).exists(),
            timeout=30,
            describe=lambda: (tmp_path / "worker.log").read_text(),
        )
        assert worker.poll() is None
    assert "refresh_membership_access" in (tmp_path / "worker.log").read_text()
    connections.close_all()
