"""What rewrites the cached candidate standings (`candidates.standings`), at once, in the
transaction of the write: connected in `CandidatesConfig.ready`, so that every path that writes
a line or a candidacy (the pages, the API, the FHIR intake, the admin) keeps them right; a
referral submitted takes its patient off the list of whom to refer."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from candidates.standings import refresh_every_standing, refresh_standings
from referrals.workflow import State

SUBMITTED = State.SUBMITTED.value

# What the matching reads of a patient.
PATIENT_FIELDS = frozenset({"disease_area", "date_of_birth"})


def _history_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    refresh_standings([instance.patient_id])


def _patient_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if not created and (update_fields is None or PATIENT_FIELDS & set(update_fields)):
        refresh_standings([instance.pk])


def _referral_moved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created and instance.to_state == SUBMITTED:  # referred: off the list of whom to refer
        refresh_standings([instance.referral.patient_id])


def _rules_changed(sender: Any, **kwargs: Any) -> None:
    if not kwargs.get("raw"):  # not while fixtures load
        refresh_every_standing()


def connect_standing_triggers() -> None:
    for model in ("candidates.TherapyLine", "candidates.TransplantCandidacy", "carecoord.PatientDeath"):
        post_save.connect(_history_changed, sender=model, dispatch_uid=f"standing.saved.{model}")
        post_delete.connect(_history_changed, sender=model, dispatch_uid=f"standing.deleted.{model}")
    post_save.connect(_patient_saved, sender="carecoord.Patient", dispatch_uid="standing.saved.Patient")
    post_save.connect(_referral_moved, sender="referrals.ReferralMove", dispatch_uid="standing.saved.ReferralMove")
    for model in ("candidates.IndicationRule", "carecoord.Product"):
        post_save.connect(_rules_changed, sender=model, dispatch_uid=f"standing.saved.{model}")
        post_delete.connect(_rules_changed, sender=model, dispatch_uid=f"standing.deleted.{model}")
