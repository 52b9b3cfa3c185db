"""Whatever date is stored, every page and API answers: none breaks on a date.

Entry points refuse impossible clinical dates (carecoord/tests/test_clinical_dates.py); the database
holds every date column of the record to the calendar (`carecoord.models.calendar`), whoever
writes it. These tests store the calendar's extremes directly in every date of the record,
in sites on both sides of Greenwich, then walk every route as members of the care team and
build the week's digests; and they show the database refusing what lies beyond.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.test import Client
from django.urls import reverse

from carecoord.models import OutgoingEmail, Patient, TimelineEntry, calendar
from tests.helpers import World, login
from tests.route_rules import app_routes, build_samples
from workspace.digests.services import digest_deliver

pytestmark = pytest.mark.django_db

EARLIEST = (calendar.EARLIEST, calendar.EARLIEST_MOMENT)
LATEST = (calendar.LATEST, calendar.AFTER_LATEST_MOMENT - dt.timedelta(microseconds=1))
# The clinical record: the patient, the timeline and everything of referrals, toxicity and
# hand-offs. Sites, memberships and care-team links decide who may look and are left alone.
RECORD_APPS = ("referrals", "toxicity", "handoffs")


def _record_models() -> list[type[models.Model]]:
    found: list[type[models.Model]] = [Patient, TimelineEntry]
    for label in RECORD_APPS:
        found += list(apps.get_app_config(label).get_models())
    return found


def _date_fields(model: type[models.Model]) -> list[models.DateField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.DateField)]  # DateTimeField too


def store_everywhere(day: dt.date, moment: dt.datetime) -> list[str]:
    """Set every date and datetime column of the record that holds a value to `day`/`moment`."""
    changed = []
    for model in _record_models():
        for field in _date_fields(model):
            value = moment if isinstance(field, models.DateTimeField) else day
            count = model._default_manager.filter(**{f"{field.attname}__isnull": False}).update(
                **{field.attname: value}
            )
            if count:
                changed.append(f"{model.__name__}.{field.name}")
    return changed


@pytest.fixture
def record(world: World, settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    # Zones on both sides of UTC: the earliest moment steps out of the calendar west of
    # Greenwich, the latest east of it.
    world.practice.time_zone = "America/Chicago"
    world.practice.save(update_fields=["time_zone"])
    world.center.time_zone = "Pacific/Auckland"
    world.center.save(update_fields=["time_zone"])
    return build_samples(world)


@pytest.mark.parametrize(("day", "moment"), [EARLIEST, LATEST], ids=["earliest", "latest"])
def test_every_route_answers_whatever_date_is_stored(
    world: World, record: dict[str, Any], day: dt.date, moment: dt.datetime
) -> None:
    changed = store_everywhere(day, moment)
    # The walk means something only if the dates that pages compute with were reached.
    assert {
        "Patient.date_of_birth",
        "Milestone.planned_on",
        "ToxicityEvent.onset_at",
        "ToxicityAssessment.assessed_at",
        "TimelineEntry.occurred_at",
        "Handoff.sent_at",
    } <= set(changed), changed
    failures = []
    for user in (world.community_coordinator, world.center_coordinator):
        client = Client(raise_request_exception=False)
        login(client, user)
        for route in app_routes():
            if route.name.startswith("api:") and "format" in route.kwargs:
                continue  # the same view as the route without the suffix
            kwargs = {name: record.get(name, world.center.pk) for name in route.kwargs}
            url = reverse(route.name, kwargs=kwargs)
            response = client.get(url)
            if response.status_code >= 500:
                failures.append(f"{user.email} GET {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("day", "moment"), [EARLIEST, LATEST], ids=["earliest", "latest"])
def test_the_digest_builds_whatever_date_is_stored(
    world: World, record: dict[str, Any], day: dt.date, moment: dt.datetime
) -> None:
    store_everywhere(day, moment)
    now = dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)
    for user, site in ((world.community_oncologist, world.practice), (world.center_coordinator, world.center)):
        assert digest_deliver(user=user, week_start=dt.date(2026, 11, 30), zone=site.zone, now=now)
        email = OutgoingEmail.objects.get(recipient=user, template="weekly-digest")
        assert email.subject and email.body_text


def test_every_date_column_of_the_record_is_held_to_the_calendar() -> None:
    names = {c.name for model in _record_models() for c in model._meta.constraints}
    missing = [
        f"{model.__name__}.{field.name}"
        for model in _record_models()
        for field in _date_fields(model)
        if not any(name.endswith(f"_{field.name}_in_calendar") for name in names)
    ]
    assert not missing, f"add calendar_checks for {missing}"


@pytest.mark.parametrize(
    ("day", "moment"),
    [
        (dt.date.min, dt.datetime.min.replace(tzinfo=dt.UTC)),
        (calendar.EARLIEST - dt.timedelta(days=1), calendar.EARLIEST_MOMENT - dt.timedelta(microseconds=1)),
        (calendar.LATEST + dt.timedelta(days=1), calendar.AFTER_LATEST_MOMENT),
        (dt.date.max, dt.datetime.max.replace(tzinfo=dt.UTC)),
    ],
    ids=["year 1", "just before", "just after", "year 9999"],
)
def test_the_database_refuses_a_date_beyond_the_calendar(
    world: World, record: dict[str, Any], day: dt.date, moment: dt.datetime
) -> None:
    accepted = []
    for model in _record_models():
        for field in _date_fields(model):
            row = model._default_manager.order_by("pk").first()
            if row is None:
                continue
            value = moment if isinstance(field, models.DateTimeField) else day
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=row.pk).update(**{field.attname: value})
                accepted.append(f"{model.__name__}.{field.name}")
            except IntegrityError:
                pass
    assert not accepted, accepted
