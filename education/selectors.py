"""Reads of education material (no patient data: any signed-in person) and of education given
(scoped through the patient's access path)."""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from education.models import EducationGiven, EducationMaterial, EducationMaterialVersion


def current_versions() -> QuerySet[EducationMaterialVersion]:
    """The version taught now of every material: its highest number (one query)."""
    newer = EducationMaterialVersion.objects.filter(material=OuterRef("material"), number__gt=OuterRef("number"))
    return (
        EducationMaterialVersion.objects.filter(~Exists(newer))
        .select_related("material")
        .order_by("material__phase", "material__audience", "material__name")
    )


def materials_with_versions() -> QuerySet[EducationMaterial]:
    """Every material with its versions, newest first (two queries)."""
    versions = EducationMaterialVersion.objects.select_related("created_by").order_by("-number")
    return EducationMaterial.objects.prefetch_related(Prefetch("versions", queryset=versions))


def get_material(user: AnyUser, material_id: int | str) -> EducationMaterial:
    """A material with its versions; every signed-in person may read it (no patient data)."""
    return get_visible_or_404(materials_with_versions(), material_id, "material")


def get_material_version(user: AnyUser, version_id: int | str) -> EducationMaterialVersion:
    """One version of a material; every signed-in person may read it (no patient data)."""
    versions = EducationMaterialVersion.objects.select_related("material", "created_by")
    return get_visible_or_404(versions, version_id, "material version")


def education_given_visible_to(user: AnyUser) -> QuerySet[EducationGiven]:
    """Education given to the user's patients, newest first."""
    return EducationGiven.objects.filter(patient_id__in=visible_patient_ids(user)).select_related(
        "version__material", "given_by", "site"
    )


def get_education_given_for_user(user: AnyUser, given_id: int | str) -> EducationGiven:
    return get_visible_or_404(education_given_visible_to(user), given_id, "education record")


def education_given_to(patient_id: uuid.UUID) -> QuerySet[EducationGiven]:
    """The education given about one patient already loaded through the access path, newest first."""
    return EducationGiven.objects.filter(patient_id=patient_id).select_related("version__material", "given_by", "site")
