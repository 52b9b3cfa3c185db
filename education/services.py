"""Writes of the education app: materials and their versions (site administrators), and
education given to a patient, their caregiver or a community clinician (with its timeline entry)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from audit.services import audited_atomic
from carecoord.access import require_acting_site
from carecoord.clinical_dates import check_happened
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.models.patients import Phase
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from education.models import Audience, EducationGiven, EducationMaterial, EducationMaterialVersion
from referrals.selectors import record_dates

NAME_MAX_LENGTH = EducationMaterial._meta.get_field("name").max_length or 120
TITLE_MAX_LENGTH = EducationMaterialVersion._meta.get_field("title").max_length or 200
BODY_MAX_LENGTH = 20_000


def require_material_editor(actor: User) -> None:
    """Education material is shared by every site: site administrators (staff) edit it."""
    if not actor.is_staff:
        raise PermissionDenied("Only site administrators edit education material.")


def _checked_content(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ValidationError({"title": f"Give the material a title of up to {TITLE_MAX_LENGTH} characters."})
    if not body:
        raise ValidationError({"body": "Write the material's text."})
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError({"body": f"Keep the text under {BODY_MAX_LENGTH} characters."})
    return title, body


def material_create(
    *, actor: User, name: str, phase: str, audience: str, title: str, body: str
) -> EducationMaterialVersion:
    """A new material with its first version."""
    require_material_editor(actor)
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Give the material a name of up to {NAME_MAX_LENGTH} characters."})
    if phase not in Phase.values:
        raise ValidationError({"phase": "Choose the phase the material is for."})
    if audience not in Audience.values:
        raise ValidationError({"audience": "Choose who the material is for."})
    title, body = _checked_content(title, body)
    if EducationMaterial.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "A material of that name already exists; edit it instead."})
    try:
        with transaction.atomic():
            material = EducationMaterial.objects.create(name=name, phase=phase, audience=audience)
            return EducationMaterialVersion.objects.create(
                material=material, number=1, title=title, body=body, created_by=actor
            )
    except IntegrityError:
        raise ValidationError({"name": "A material of that name already exists; edit it instead."}) from None


def material_revise(*, actor: User, material: EducationMaterial, title: str, body: str) -> EducationMaterialVersion:
    """Save the material's next version: the one taught from now on. Earlier versions never change."""
    require_material_editor(actor)
    title, body = _checked_content(title, body)
    with transaction.atomic():
        # Locked, so two editors saving at once make two numbered versions, never a clash.
        EducationMaterial.objects.select_for_update().get(pk=material.pk)
        latest = material.versions.order_by("-number").first()
        if latest is not None and latest.title == title and latest.body == body:
            raise ValidationError({"body": "Nothing changed: edit the title or the text to save a new version."})
        number = (material.versions.aggregate(Max("number"))["number__max"] or 0) + 1
        return EducationMaterialVersion.objects.create(
            material=material, number=number, title=title, body=body, created_by=actor
        )


def education_record(
    *,
    actor: User,
    patient: Patient,
    site: Site,
    version: EducationMaterialVersion,
    recipient: str,
    given_at: dt.datetime,
    confirm_date: bool = False,
) -> EducationGiven:
    """Record that a material version was taught, to whom, by the actor for `site`, and when;
    the entry appears on the shared timeline."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    if recipient not in Audience.values:
        raise ValidationError({"recipient": "Choose who was taught."})
    check_happened("given_at", given_at, record_dates(patient, site.zone), confirmed=confirm_date)
    with audited_atomic():
        repeat = EducationGiven.objects.filter(
            patient=patient, version=version, recipient=recipient, given_at=given_at, site=site
        ).first()
        if repeat is not None:
            return repeat
        given = EducationGiven.objects.create(
            patient=patient, version=version, recipient=recipient, given_at=given_at, given_by=actor, site=site
        )
        timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.EDUCATION,
            actor=actor,
            site=site,
            occurred_at=given_at,
            title=f"Education given to the {given.get_recipient_display().lower()}: {version.title}"[:200],
            body=f"{version.material.name}, version {version.number}",
            subject=given,
        )
    return given
