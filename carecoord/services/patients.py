from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carecoord.access import patients_visible_to, require_capability
from carecoord.access.grants import grant_site_on_patient, local_today
from carecoord.audit.context import acting_at
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, Site, SiteMembership, User
from carecoord.roles import ROLES_THAT_REGISTER_PATIENTS, Capability

PATIENT_EDITABLE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "disease_area",
        "phase",
        "caregiver_name",
        "caregiver_relationship",
        "caregiver_phone",
    }
)


def active_membership(user: User, site: Site) -> SiteMembership | None:
    today = local_today(site)
    return SiteMembership.objects.active_on(today).filter(user=user, site=site).order_by("role").first()


def _validate_birth_date(date_of_birth: dt.date) -> None:
    if date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
    if date_of_birth.year < 1900:
        raise ValidationError({"date_of_birth": "Enter a date of birth after 1900."})


def patient_register(*, actor: User, site: Site, mrn: str, **fields: Any) -> Patient:
    """Register a patient at `site` (the actor's own), with the site's MRN, on its care team."""
    membership = active_membership(actor, site)
    if membership is None:
        raise ValidationError({"site": "You can only register patients at a site where you work."})
    if membership.role not in ROLES_THAT_REGISTER_PATIENTS:
        raise PermissionDenied("Your role at this site does not register patients.")
    unknown = set(fields) - PATIENT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if not mrn.strip():
        raise ValidationError({"mrn": "Enter the patient's MRN at your site."})
    if "date_of_birth" in fields:
        _validate_birth_date(fields["date_of_birth"])
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
        CareTeamLink.objects.create(patient=patient, site=site, capacity=capacity, added_by=actor)
        grant_site_on_patient(site=site, patient=patient)
        if not patients_visible_to(actor).filter(pk=patient.pk).exists():
            raise PermissionDenied("The new patient would be outside your access.")
    return patient


def patient_update(*, actor: User, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's details; needs the change capability through an active membership."""
    require_capability(actor, patient, Capability.CHANGE)
    unknown = set(fields) - PATIENT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    if "date_of_birth" in fields:
        _validate_birth_date(fields["date_of_birth"])
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    with transaction.atomic():
        patient.save(update_fields=[*fields, "updated_at"])
    return patient


def patient_set_identifier(*, actor: User, patient: Patient, site: Site, mrn: str) -> PatientIdentifier:
    """Record `site`'s MRN for the patient. Only staff of that site, on its care team, may."""
    require_capability(actor, patient, Capability.CHANGE)
    if active_membership(actor, site) is None:
        raise ValidationError({"site": "You can only record the MRN of a site where you work."})
    if not CareTeamLink.objects.filter(patient=patient, site=site, ended_at__isnull=True).exists():
        raise ValidationError({"site": "This site is not on the patient's care team."})
    if not mrn.strip():
        raise ValidationError({"mrn": "Enter the MRN."})
    try:
        with transaction.atomic():
            identifier, _ = PatientIdentifier.objects.update_or_create(
                patient=patient, site=site, defaults={"mrn": mrn.strip()}
            )
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient at this site already has this MRN."}) from None
    return identifier
