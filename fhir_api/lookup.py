"""Whose record a resource id belongs to: the one query a read makes before the access check.

An id that names nothing, or names a row of another kind (a Communication id that is not a
comment), finds no patient; the read then answers 404 as for a patient out of scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db.models import Model, QuerySet

from carecoord.models import PointPerson, TimelineEntry
from handoffs.models import Handoff
from referrals.models import Referral, ReferralDocument
from toxicity.models import ToxicityEvent, ToxicityTreatment


def _patient_of(rows: QuerySet[Model], path: str) -> Callable[[int], uuid.UUID | None]:
    def find(pk: int) -> uuid.UUID | None:
        return rows.filter(pk=pk).values_list(path, flat=True).first()

    return find


def _by_int(find: Callable[[int], uuid.UUID | None], prefix: str = "") -> Callable[[str], uuid.UUID | None]:
    """A lookup by a resource id that is a row's number, after `prefix`."""

    def lookup(resource_id: str) -> uuid.UUID | None:
        number = resource_id.removeprefix(prefix)
        if not resource_id.startswith(prefix) or not number.isdigit():
            return None
        return find(int(number))

    return lookup


def _by_uuid(resource_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        return None


def _document(resource_id: str) -> uuid.UUID | None:
    documents = _by_int(_patient_of(ReferralDocument.objects.all(), "referral__patient_id"), "referral-document-")
    handoffs = _by_int(_patient_of(Handoff.objects.all(), "patient_id"), "handoff-")
    return documents(resource_id) or handoffs(resource_id)


_referral = _by_int(_patient_of(Referral.objects.all(), "patient_id"))

# Type -> the patient of a resource id of that type. Organization is not patient data: a site
# is read by anyone signed in, as in the API's site directory.
PATIENT_OF: dict[str, Callable[[str], uuid.UUID | None]] = {
    "Patient": _by_uuid,
    "CareTeam": _by_uuid,
    "Condition": _by_uuid,
    "PractitionerRole": _by_int(_patient_of(PointPerson.objects.all(), "link__patient_id")),
    "ServiceRequest": _referral,
    "Task": _referral,
    "CarePlan": _referral,
    "AdverseEvent": _by_int(_patient_of(ToxicityEvent.objects.all(), "patient_id")),
    "MedicationAdministration": _by_int(_patient_of(ToxicityTreatment.objects.all(), "event__patient_id")),
    "Communication": _by_int(_patient_of(TimelineEntry.objects.filter(kind=TimelineEntry.Kind.COMMENT), "patient_id")),
    "DocumentReference": _document,
    "Provenance": _by_int(_patient_of(TimelineEntry.objects.all(), "patient_id")),
}
