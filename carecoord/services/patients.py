from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carecoord.access import acting_site_for, membership_at, patients_visible_to, require_acting_site
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, Site, TimelineEntry, User
from carecoord.phones import normalize_phone
from carecoord.request_context import acting_at
from carecoord.roles import ROLES_THAT_REGISTER_PATIENTS, Capability
from carecoord.services.care_teams import care_team_join
from carecoord.timeline import timeline_record

# What a patient's record lets people change, in the order the forms show it.
PATIENT_EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "disease_area",
    "caregiver_name",
    "caregiver_relationship",
    "caregiver_phone",
)


def _validate_birth_date(date_of_birth: dt.date) -> None:
    if date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
    if date_of_birth.year < 1900:
        raise ValidationError({"date_of_birth": "Enter a date of birth after 1900."})


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The details as stored: a birth date that can be, a caregiver phone that can be dialled."""
    if "date_of_birth" in fields:
        _validate_birth_date(fields["date_of_birth"])
    if "caregiver_phone" in fields:
        fields = fields | {"caregiver_phone": normalize_phone(fields["caregiver_phone"] or "", field="caregiver_phone")}
    return fields


FIELD_LABELS = {
    "given_name": "given name",
    "family_name": "family name",
    "date_of_birth": "date of birth",
    "sex": "sex",
    "disease_area": "disease area",
    "caregiver_name": "caregiver's name",
    "caregiver_relationship": "caregiver's relationship",
    "caregiver_phone": "caregiver's phone",
}


def patient_register(
    *,
    actor: User,
    site: Site,
    mrn: str,
    point_persons: Mapping[str, User | None] | None = None,
    **fields: Any,
) -> Patient:
    """Register a patient at `site` (the actor's own), with the site's MRN, on its care team.

    `point_persons` ({"primary": user, "backup": user}) names whom the site's alerts about the
    patient go to from the start; whoever registers may name them (later changes are the
    site's coordinators' move).
    """
    membership = membership_at(actor, site)
    if membership is None:
        raise ValidationError({"site": "You can only register patients at a site where you work."})
    if membership.role not in ROLES_THAT_REGISTER_PATIENTS:
        raise PermissionDenied("Your role at this site does not register patients.")
    unknown = set(fields).difference(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if not mrn.strip():
        raise ValidationError({"mrn": "Enter the patient's MRN at your site."})
    fields = _clean_fields(fields)
    patient = Patient(**fields)
    patient.full_clean()
    capacity = (
        CareTeamLink.Capacity.TREATING_CENTER if site.is_academic_center else CareTeamLink.Capacity.COMMUNITY_PRACTICE
    )
    with transaction.atomic(), acting_at(site.pk):
        patient.save()
        try:
            with transaction.atomic():
                PatientIdentifier.objects.create(patient=patient, site=site, mrn=mrn.strip())
        except IntegrityError:
            raise ValidationError({"mrn": "Another patient at this site already has this MRN."}) from None
        care_team_join(
            actor=actor,
            patient=patient,
            site=site,
            capacity=capacity,
            point_persons=point_persons,
            title=f"Registered at {site}",
        )
        if not patients_visible_to(actor).filter(pk=patient.pk).exists():
            raise PermissionDenied("The new patient would be outside your access.")
    return patient


def patient_update(*, actor: User, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's details; needs the change capability through an active membership."""
    acting = acting_site_for(actor, patient, Capability.CHANGE)
    unknown = set(fields).difference(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    fields = _clean_fields(fields)
    changed = [name for name, value in fields.items() if getattr(patient, name) != value]
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    with transaction.atomic():
        patient.save(update_fields=[*fields, "updated_at"])
        if changed:
            # Which details changed, not their values: the audit trail keeps those.
            timeline_record(
                patient=patient,
                kind=TimelineEntry.Kind.CARE_TEAM,
                actor=actor,
                site=acting.site,
                title="Patient details changed: " + ", ".join(FIELD_LABELS[name] for name in changed),
            )
    return patient


def patient_set_identifier(*, actor: User, patient: Patient, site: Site, mrn: str) -> PatientIdentifier:
    """Record `site`'s MRN for the patient. Only staff of that site, on its care team, may."""
    require_acting_site(actor, patient, site, Capability.CHANGE)
    if not mrn.strip():
        raise ValidationError({"mrn": "Enter the MRN."})
    try:
        with transaction.atomic():
            identifier, created = PatientIdentifier.objects.update_or_create(
                patient=patient, site=site, defaults={"mrn": mrn.strip()}
            )
            timeline_record(
                patient=patient,
                kind=TimelineEntry.Kind.CARE_TEAM,
                actor=actor,
                site=site,
                title=f"MRN at {site} {'recorded' if created else 'changed'}",
            )
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient at this site already has this MRN."}) from None
    return identifier
