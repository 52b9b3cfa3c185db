"""Each referral as the closed-loop referral pair (ServiceRequest + Task, after HL7 360X and
BSeR), its course as a CarePlan of milestones, and the documents that travel with it and with
the hand-offs as DocumentReferences pointing at the existing downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from fhir_api import codes
from fhir_api.record import PatientRecord
from fhir_api.references import concept, person_ref, ref, site_ref
from handoffs.models import Handoff
from referrals.milestones.kinds import milestone_label_or_kind
from referrals.models import Milestone, Referral, ReferralDocument
from referrals.workflow import STATE_LABELS, State

# Turns a path of this site into the absolute URL a client downloads from.
AbsoluteUrl = Callable[[str], str]

REFERRAL_SUBJECT = "referrals.referral"


def referral_document_id(document: ReferralDocument) -> str:
    return f"referral-document-{document.pk}"


def handoff_document_id(handoff: Handoff) -> str:
    return f"handoff-{handoff.pk}"


def service_request_resource(record: PatientRecord, referral: Referral) -> ServiceRequest:
    """What the practice asks of the center: evaluation for CAR-T, with the clinical summary."""
    state = State(referral.state)
    patient = record.patient
    extensions: list[dict[str, Any]] = [
        {"url": codes.PRIOR_LINES, "valueInteger": referral.prior_lines_of_therapy},
        {"url": codes.ECOG, "valueInteger": referral.performance_status},
        {"url": codes.TRANSPLANT, "valueCode": referral.transplant_eligibility},
    ]
    if referral.prior_therapies:
        extensions.append({"url": codes.PRIOR_THERAPIES, "valueString": referral.prior_therapies})
    data: dict[str, Any] = {
        "id": str(referral.pk),
        "extension": extensions,
        # carecoord's id, then the identifier the practice's system sent it under (FHIR intake).
        "identifier": [
            {"system": codes.REFERRAL_ID_SYSTEM, "value": str(referral.pk)},
            *[
                {"system": intake.system, "value": intake.value, "assigner": site_ref(intake.site)}
                for intake in record.intakes
                if intake.referral_id == referral.pk
            ],
        ],
        "status": codes.SERVICE_REQUEST_STATUS[state],
        "intent": "order",
        "priority": codes.REFERRAL_PRIORITY[referral.urgency],
        "code": {
            "coding": [{"system": codes.SNOMED, "code": codes.REFERRAL_CODE[0], "display": codes.REFERRAL_CODE[1]}],
            "text": "Referral for CAR-T cell therapy evaluation",
        },
        "subject": ref("Patient", patient.pk, patient.full_name),
        "authoredOn": referral.submitted_at or referral.created_at,
        "requester": person_ref(referral.referring_physician),
        "performer": [site_ref(referral.to_center)],
        "reasonCode": [concept(codes.DISEASE_AREA, referral.disease_area, referral.get_disease_area_display())],
        "reasonReference": [ref("Condition", patient.pk)],
        "note": [{"text": referral.reason}],
        "supportingInfo": [
            ref("DocumentReference", referral_document_id(document), document.get_kind_display())
            for document in record.documents
            if document.referral_id == referral.pk
        ]
        or None,
    }
    details = [
        f"Prior lines of therapy: {referral.prior_lines_of_therapy}",
        f"ECOG performance status: {referral.performance_status}",
        referral.get_transplant_eligibility_display(),
    ]
    if referral.prior_therapies:
        details.append(f"Prior therapies: {referral.prior_therapies}")
    data["orderDetail"] = [{"text": detail} for detail in details]
    return ServiceRequest.model_validate(data)


def task_resource(record: PatientRecord, referral: Referral) -> Task:
    """The referral's workflow: its state mapped to Task.status (codes.TASK_STATUS), the state
    itself as businessStatus, and each move as a Provenance in relevantHistory."""
    state = State(referral.state)
    patient = record.patient
    moves = [
        entry for entry in record.timeline if entry.subject_type == REFERRAL_SUBJECT and entry.subject_id == referral.pk
    ]
    data: dict[str, Any] = {
        "id": str(referral.pk),
        "status": codes.TASK_STATUS[state],
        "businessStatus": concept(codes.REFERRAL_STATE, state.value, STATE_LABELS[state]),
        "intent": "order",
        "priority": codes.REFERRAL_PRIORITY[referral.urgency],
        "code": {"text": "Fulfill the referral"},
        "focus": ref("ServiceRequest", referral.pk),
        "for": ref("Patient", patient.pk, patient.full_name),
        "authoredOn": referral.created_at,
        "lastModified": moves[-1].occurred_at if moves else referral.created_at,
        "requester": site_ref(referral.from_site),
        "owner": site_ref(referral.to_center),
        "relevantHistory": [ref("Provenance", entry.pk, entry.title) for entry in moves] or None,
    }
    if state == State.DECLINED and referral.decline_reason:
        data["statusReason"] = {"text": referral.decline_reason}
    return Task.model_validate(data)


def care_plan_resource(record: PatientRecord, referral: Referral) -> CarePlan:
    """The course the referral opened: one activity per milestone, with its planned date (the
    scheduled period) and the day it was done (an extension, and a progress note)."""
    patient = record.patient
    return CarePlan.model_validate(
        {
            "id": str(referral.pk),
            "status": codes.CARE_PLAN_STATUS[State(referral.state)],
            "intent": "plan",
            "title": f"CAR-T course after referral #{referral.pk}",
            "subject": ref("Patient", patient.pk, patient.full_name),
            "basedOn": [ref("ServiceRequest", referral.pk)],
            "created": referral.created_at,
            "author": site_ref(referral.to_center),
            "activity": [
                _activity(milestone) for milestone in record.milestones if milestone.referral_id == referral.pk
            ]
            or None,
        }
    )


def _activity(milestone: Milestone) -> dict[str, Any]:
    label = milestone_label_or_kind(milestone.kind)
    status = codes.ACTIVITY_STATUS[milestone.status]
    if status == "not-started" and milestone.planned_on is not None:
        status = "scheduled"
    detail: dict[str, Any] = {
        "code": concept(codes.MILESTONE_KIND, milestone.kind, label),
        "status": status,
        "statusReason": concept(codes.MILESTONE_STATUS, milestone.status, milestone.get_status_display()),
    }
    if milestone.planned_on is not None:
        detail["scheduledPeriod"] = {"start": milestone.planned_on, "end": milestone.planned_on}
    if milestone.given_at is not None:
        detail["performer"] = [site_ref(milestone.given_at)]
    if milestone.note:
        detail["description"] = milestone.note
    activity: dict[str, Any] = {"detail": detail}
    if milestone.actual_on is not None:
        detail["extension"] = [{"url": codes.MILESTONE_ACTUAL, "valueDate": milestone.actual_on}]
        # The note written when it was done (the plan's is the description).
        done = f"{label}: done. {milestone.done_note}" if milestone.done_note else f"{label}: done"
        activity["progress"] = [{"time": milestone.actual_on, "text": done}]
    return activity


def referral_document_resource(
    record: PatientRecord, document: ReferralDocument, absolute: AbsoluteUrl
) -> DocumentReference:
    """A document of the referral's checklist; its content is the API's download, not inline."""
    patient = record.patient
    url = absolute(reverse("api:document-download", kwargs={"document_id": document.pk}))
    return DocumentReference.model_validate(
        {
            "id": referral_document_id(document),
            "status": "current",
            "docStatus": "final",
            "type": concept(codes.DOCUMENT_KIND, document.kind, document.get_kind_display()),
            "subject": ref("Patient", patient.pk, patient.full_name),
            "date": document.uploaded_at,
            "author": [person_ref(document.uploaded_by)],
            "description": document.original_name,
            "content": [
                {
                    "attachment": {
                        "contentType": document.content_type,
                        "url": url,
                        "size": document.size,
                        "title": document.original_name,
                        "creation": document.uploaded_at,
                    }
                }
            ],
            "context": {"related": [ref("ServiceRequest", document.referral_id)]},
        }
    )


def handoff_document_resource(record: PatientRecord, handoff: Handoff, absolute: AbsoluteUrl) -> DocumentReference:
    """A hand-off between two sites; its content is the hand-off's PDF from the API (made when
    downloaded; a token works there, as for a referral document)."""
    patient = record.patient
    template = handoff.version.template
    url = absolute(reverse("api:handoff-pdf", kwargs={"handoff_id": handoff.pk}))
    # A newer hand-off of the same template between the same sites replaces the older ones.
    relates = [
        {"code": "replaces", "target": ref("DocumentReference", handoff_document_id(older))}
        for older in record.handoffs
        if older.superseded_by_id == handoff.pk
    ]
    return DocumentReference.model_validate(
        {
            "id": handoff_document_id(handoff),
            "status": codes.HANDOFF_STATUS[handoff.state],
            "docStatus": codes.HANDOFF_DOC_STATUS[handoff.state],
            "type": concept(codes.HANDOFF_TEMPLATE, str(template.pk), template.name),
            "category": [{"text": f"Hand-off ({handoff.get_state_display()})"}],
            "subject": ref("Patient", patient.pk, patient.full_name),
            "date": handoff.sent_at or handoff.created_at,
            "author": [person_ref(handoff.sent_by or handoff.created_by), site_ref(handoff.from_site)],
            "custodian": site_ref(handoff.from_site),
            "description": f"{template.name}, from {handoff.from_site} to {handoff.to_site}",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "url": url,
                        "title": f"{template.name} (version {handoff.version.number})",
                        "creation": handoff.sent_at or handoff.created_at,
                    }
                }
            ],
            "relatesTo": relates or None,
        }
    )


def subjects_by_milestone(record: PatientRecord) -> dict[int, int]:
    """Milestone id to its referral's id: a milestone's timeline entries are about its CarePlan."""
    return {milestone.pk: milestone.referral_id for milestone in record.milestones}
