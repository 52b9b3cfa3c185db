"""What happened: toxicities as AdverseEvents and their treatments as MedicationAdministrations,
the sites' messages as Communications, and every timeline entry as a Provenance (who did what,
when, from which site)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.adverseevent import AdverseEvent
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.provenance import Provenance

from carecoord.models import TimelineEntry
from fhir_api import codes
from fhir_api.build_referrals import REFERRAL_SUBJECT
from fhir_api.record import PatientRecord
from fhir_api.references import concept, person_ref, ref, site_ref
from toxicity.models import ToxicityEvent, ToxicityTreatment


def adverse_event_resource(record: PatientRecord, event: ToxicityEvent) -> AdverseEvent:
    """A toxicity: its kind, its current grade (ASTCT or CTCAE, coded, with FHIR's severity
    beside it), onset, day +N from day 0, and outcome."""
    patient = record.patient
    grade_system = codes.ASTCT_GRADE if event.grading_system == "ASTCT" else codes.CTCAE_GRADE
    grade = f"{event.grading_system} grade {event.grade}"
    coding = [{"system": grade_system, "code": str(event.grade), "display": grade}]
    if (mapped := codes.severity_of(event.grade)) is not None:
        coding.append({"system": codes.ADVERSE_EVENT_SEVERITY, "code": mapped[0], "display": mapped[1]})
    outcome_code, outcome_display = codes.ADVERSE_EVENT_OUTCOMES[event.outcome]
    extensions: list[dict[str, Any]] = [{"url": codes.HIGHEST_GRADE, "valueInteger": event.highest_grade}]
    if (day := event.onset_day) is not None:
        extensions.append({"url": codes.ONSET_DAY, "valueInteger": day})
    if event.resolved_on is not None:
        extensions.append({"url": codes.RESOLVED_ON, "valueDate": event.resolved_on})
    return AdverseEvent.model_validate(
        {
            "id": str(event.pk),
            "extension": extensions,
            "actuality": "actual",
            "event": concept(codes.TOXICITY_KIND, event.kind, event.get_kind_display()),
            "subject": ref("Patient", patient.pk, patient.full_name),
            "date": event.onset_at,
            "detected": event.onset_at,
            "recordedDate": event.created_at,
            "recorder": person_ref(event.reported_by),
            "severity": {"coding": coding, "text": grade},
            "outcome": {
                "coding": [{"system": codes.ADVERSE_EVENT_OUTCOME, "code": outcome_code, "display": outcome_display}],
                "text": event.get_outcome_display(),
            },
            "contributor": [site_ref(event.reporting_site)],
        }
    )


def medication_administration_resource(record: PatientRecord, treatment: ToxicityTreatment) -> MedicationAdministration:
    """A treatment given for a toxicity (tocilizumab, steroids…), pointing at its AdverseEvent."""
    patient = record.patient
    data: dict[str, Any] = {
        "id": str(treatment.pk),
        "status": "completed",
        "medicationCodeableConcept": concept(
            codes.TREATMENT_KIND, treatment.kind, treatment.get_kind_display(), treatment.detail
        ),
        "subject": ref("Patient", patient.pk, patient.full_name),
        "effectiveDateTime": treatment.given_at,
        "performer": [{"actor": person_ref(treatment.recorded_by)}],
        "supportingInformation": [ref("AdverseEvent", treatment.event_id)],
    }
    if treatment.detail:
        data["dosage"] = {"text": treatment.detail}
    return MedicationAdministration.model_validate(data)


def communication_resource(record: PatientRecord, entry: TimelineEntry) -> Communication:
    """A message from one care-team site to the others on the shared timeline."""
    patient = record.patient
    recipients = [site_ref(link.site) for link in record.links if link.is_open and link.site_id != entry.site_id]
    data: dict[str, Any] = {
        "id": str(entry.pk),
        "status": "completed",
        "category": [concept(codes.TIMELINE_KIND, entry.kind, entry.get_kind_display())],
        "subject": ref("Patient", patient.pk, patient.full_name),
        "sent": entry.occurred_at,
        "sender": person_ref(entry.actor),
        "recipient": recipients or None,
        "payload": [{"contentString": entry.body or entry.title}],
    }
    return Communication.model_validate(data)


def provenance_resource(record: PatientRecord, entry: TimelineEntry, plans: dict[int, int]) -> Provenance:
    """One entry of the shared timeline: what it is about (the exported resource, else the
    patient), who did it on behalf of which site, and when. `plans`: milestone id to the id of
    its referral, whose CarePlan holds it."""
    agent: dict[str, Any] = {
        "type": {
            "coding": [{"system": codes.PROVENANCE_PARTICIPANT, "code": "author", "display": "Author"}],
        },
        "who": person_ref(entry.actor),
    }
    if entry.site is not None:
        agent["onBehalfOf"] = site_ref(entry.site)
    activity = concept(codes.TIMELINE_KIND, entry.kind, entry.get_kind_display(), entry.title)
    return Provenance.model_validate(
        {
            "id": str(entry.pk),
            "target": [_target(record, entry, plans)],
            "occurredDateTime": entry.occurred_at,
            "recorded": entry.occurred_at,
            "activity": activity,
            "agent": [agent],
        }
    )


def _target(record: PatientRecord, entry: TimelineEntry, plans: dict[int, int]) -> dict[str, Any]:
    """The resource a timeline entry is about, when the export has one for it."""
    subject = entry.subject_type
    if entry.kind == TimelineEntry.Kind.COMMENT:
        return ref("Communication", entry.pk)
    if subject == REFERRAL_SUBJECT and entry.subject_id is not None:
        return ref("Task", entry.subject_id)
    if subject == "referrals.milestone" and entry.subject_id in plans:
        return ref("CarePlan", plans[entry.subject_id])
    if subject == "toxicity.toxicityevent" and entry.subject_id is not None:
        return ref("AdverseEvent", entry.subject_id)
    if subject == "handoffs.handoff" and entry.subject_id is not None:
        return ref("DocumentReference", f"handoff-{entry.subject_id}")
    return ref("Patient", record.patient.pk)
