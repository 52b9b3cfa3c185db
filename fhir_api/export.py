"""The resource types the export serves, in the order `$everything` lists them, each built from
a `PatientRecord` without further queries."""

from __future__ import annotations

from collections.abc import Callable

from fhir.resources.R4B.resource import Resource

from carecoord.models import TimelineEntry
from fhir_api.build_events import (
    adverse_event_resource,
    communication_resource,
    medication_administration_resource,
    provenance_resource,
)
from fhir_api.build_people import (
    care_team_resource,
    condition_resource,
    organization_resource,
    patient_resource,
    practitioner_role_resource,
)
from fhir_api.build_referrals import (
    AbsoluteUrl,
    care_plan_resource,
    handoff_document_resource,
    referral_document_resource,
    service_request_resource,
    task_resource,
)
from fhir_api.codes import NOT_MEDICATION
from fhir_api.record import PatientRecord


def _documents(record: PatientRecord, absolute: AbsoluteUrl) -> list[Resource]:
    documents: list[Resource] = [referral_document_resource(record, d, absolute) for d in record.documents]
    return documents + [handoff_document_resource(record, handoff, absolute) for handoff in record.handoffs]


def _provenances(record: PatientRecord, absolute: AbsoluteUrl) -> list[Resource]:
    plans = {milestone.pk: milestone.referral_id for milestone in record.milestones}
    return [provenance_resource(record, entry, plans) for entry in record.timeline]


# Type name -> the resources of that type in a record.
BUILDERS: dict[str, Callable[[PatientRecord, AbsoluteUrl], list[Resource]]] = {
    "Patient": lambda record, _: [patient_resource(record)],
    "Organization": lambda record, _: [organization_resource(site) for site in record.sites],
    "PractitionerRole": lambda record, _: [practitioner_role_resource(person) for person in record.point_persons],
    "CareTeam": lambda record, _: [care_team_resource(record)],
    "Condition": lambda record, _: [condition_resource(record)],
    "ServiceRequest": lambda record, _: [service_request_resource(record, r) for r in record.referrals],
    "Task": lambda record, _: [task_resource(record, r) for r in record.referrals],
    "CarePlan": lambda record, _: [care_plan_resource(record, r) for r in record.referrals],
    "AdverseEvent": lambda record, _: [adverse_event_resource(record, event) for event in record.events],
    "MedicationAdministration": lambda record, _: [
        medication_administration_resource(record, treatment)
        for treatment in record.treatments
        if treatment.kind not in NOT_MEDICATION
    ],
    "Communication": lambda record, _: [
        communication_resource(record, entry) for entry in record.timeline if entry.kind == TimelineEntry.Kind.COMMENT
    ],
    "DocumentReference": _documents,
    "Provenance": _provenances,
}
RESOURCE_TYPES = tuple(BUILDERS)


def resources_of(
    record: PatientRecord, absolute: AbsoluteUrl, types: tuple[str, ...] = RESOURCE_TYPES
) -> list[Resource]:
    """The record's resources of `types` (default: every type), in the order of `BUILDERS`."""
    return [resource for name in types for resource in BUILDERS[name](record, absolute)]
