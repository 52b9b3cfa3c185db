from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carecoord.access import patients_visible_to, require_capability
from carecoord.access.grants import grant_site_on_patient, local_today
from carecoord.audit.context import acting_at
from carecoord.models import (
    CareTeamLink,
    Patient,
    PatientIdentifier,
    PointPerson,
    Site,
    SiteMembership,
    TimelineEntry,
    User,
)
from carecoord.phones import normalize_phone
from carecoord.roles import ROLES_THAT_REGISTER_PATIENTS, Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.services.care_teams import point_person_check
from carecoord.timeline import timeline_record

PATIENT_EDITABLE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "disease_area",
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
    fields = _clean_fields(fields)
    named = {rank: user for rank, user in (point_persons or {}).items() if user is not None}
    for rank, user in named.items():
        point_person_check(site=site, user=user, rank=rank, field=f"{rank}_point_person")
    if len({user.pk for user in named.values()}) < len(named):
        raise ValidationError({"backup_point_person": "Choose someone other than the primary point person."})
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
        link = CareTeamLink.objects.create(patient=patient, site=site, capacity=capacity, added_by=actor)
        grant_site_on_patient(site=site, patient=patient)
        for rank, user in named.items():
            PointPerson.objects.create(link=link, user=user, rank=rank)
        people = "; ".join(f"{PointPerson.Rank(rank).label.lower()}: {user.full_name}" for rank, user in named.items())
        timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.CARE_TEAM,
            actor=actor,
            site=site,
            title=f"Registered at {site}",
            body=f"Point persons at {site}: {people}." if people else f"No point person named at {site} yet.",
        )
        if not patients_visible_to(actor).filter(pk=patient.pk).exists():
            raise PermissionDenied("The new patient would be outside your access.")
    return patient


def patient_update(*, actor: User, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's details; needs the change capability through an active membership."""
    require_capability(actor, patient, Capability.CHANGE)
    unknown = set(fields) - PATIENT_EDITABLE_FIELDS
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
                site=acting_site(actor, patient),
                title="Patient details changed: " + ", ".join(FIELD_LABELS[name] for name in changed),
            )
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


def acting_site(actor: User, patient: Patient) -> Site | None:
    """The first of the actor's sites on the patient's care team, to sign a timeline entry."""
    own = {m.site_id: m.site for m in active_memberships_of(actor)}
    link = (
        CareTeamLink.objects.filter(patient=patient, ended_at__isnull=True, site_id__in=own)
        .order_by("site__name")
        .first()
    )
    return own[link.site_id] if link else None
