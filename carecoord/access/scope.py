"""Reads of what a user may see, always scoped in SQL through the guardian grant table.

An object outside the user's scope is reported as missing (404), never as forbidden, so
that nobody learns that it exists. A patient the user can see but not change answers 403.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from carecoord.models import Patient, PatientGroupObjectPermission, User
from carecoord.roles import Capability

AnyUser = User | AnonymousUser


def grants_of(user: AnyUser) -> QuerySet[PatientGroupObjectPermission]:
    if not user.is_authenticated or not user.is_active:
        return PatientGroupObjectPermission.objects.none()
    return PatientGroupObjectPermission.objects.filter(
        group__user=user,
        permission__content_type__app_label="carecoord",
        permission__content_type__model="patient",
    )


def patients_visible_to(user: AnyUser, capability: str = Capability.VIEW) -> QuerySet[Patient]:
    """Every patient on whom `user` holds `capability` through an active site membership."""
    granted = grants_of(user).filter(permission__codename=capability).values("content_object_id")
    return Patient.objects.filter(pk__in=granted)


def get_visible_or_404[M: Model](visible: QuerySet[M], pk: object, what: str) -> M:
    """The object `pk` of a queryset already scoped to what the user sees.

    Missing, out of scope and malformed (`"abc"` for a number, a bad UUID) all answer the same
    404 "No such {what}.", so that nobody learns whether an object exists.
    """
    try:
        return visible.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404(f"No such {what}.") from exc


def get_patient_for_user(user: AnyUser, patient_id: uuid.UUID | str, capability: str = Capability.VIEW) -> Patient:
    """The patient, if visible; 404 when not visible, 403 when visible but not `capability`."""
    patient = get_visible_or_404(patients_visible_to(user), patient_id, "patient")
    if capability != Capability.VIEW:
        require_capability(user, patient, capability)
    return patient


def patient_capabilities(user: AnyUser, patient: Patient) -> frozenset[str]:
    codenames = grants_of(user).filter(content_object=patient).values_list("permission__codename", flat=True)
    return frozenset(codenames)


def capabilities_by_patient(user: AnyUser, patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Capabilities for many patients in one query (for lists)."""
    rows = grants_of(user).filter(content_object_id__in=list(patient_ids))
    result: dict[uuid.UUID, set[str]] = defaultdict(set)
    for patient_id, codename in rows.values_list("content_object_id", "permission__codename"):
        result[patient_id].add(codename)
    return result


def require_capability(user: AnyUser, patient: Patient, capability: str) -> None:
    if capability not in patient_capabilities(user, patient):
        raise PermissionDenied(f"Your role does not allow this ({Capability(capability).label.lower()}).")
