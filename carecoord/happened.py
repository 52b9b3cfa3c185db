"""The dates of what happened to a patient, per kind of record, registered by the app that owns
each record: what a recorded death is checked against (nothing happened after it).

Each app registers its records in its `AppConfig.ready` (`register_happened`); the death's
check (`referrals.deaths`) asks `latest_after` for the first kind of record dated after the day
of death, one query per kind.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Max
from django.utils import timezone


@dataclass(frozen=True)
class Happened:
    """A kind of record and the date (or moment) it happened: `field`, reached from the patient
    by `patient` ("patient", "referral__patient")."""

    label: str  # "A toxicity's onset": the start of the sentence that refuses the death's date
    model: str  # "app.Model"
    field: str
    patient: str = "patient"


_registry: dict[str, Happened] = {}


def register_happened(label: str, model: str, field: str, *, patient: str = "patient") -> Happened:
    entry = Happened(label, model, field, patient)
    _registry[f"{model}.{field}"] = entry
    return entry


@dataclass(frozen=True)
class Later:
    """A record dated after a day: what it is and the day it happened."""

    label: str
    on: dt.date


def latest_after(patient_id: uuid.UUID, day: dt.date, zone: zoneinfo.ZoneInfo) -> Later | None:
    """The first registered kind of record of the patient dated after `day` (a moment read in
    `zone`, with a day's grace: it may have been recorded at a site a day ahead), or None."""
    for entry in _registry.values():
        model = apps.get_model(entry.model)
        latest = model._default_manager.filter(**{entry.patient: patient_id}).aggregate(latest=Max(entry.field))
        value = latest["latest"]
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            on = timezone.localdate(value, zone)
            if on > day + dt.timedelta(days=1):
                return Later(entry.label, on)
        elif value > day:
            return Later(entry.label, value)
    return None
