"""The code systems, identifiers and mappings of the FHIR export: one place, documented in
docs/operators/fhir.md. Plain data, no database.

carecoord's own codes (a toxicity's kind, a milestone's kind, a referral's state) travel under
`urn:carecoord:…` systems with their labels as displays; where FHIR binds a field to a value set
of its own (a Task's status, an AdverseEvent's outcome) the carecoord value is mapped to it here.
"""

from __future__ import annotations

from referrals.workflow import State

# Versions of FHIR the export speaks: R4, built and validated with `fhir.resources`' R4B models
# (R4B changed none of the resources exported here).
FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

# Identifiers.
PATIENT_ID_SYSTEM = "urn:carecoord:patient"
SITE_ID_SYSTEM = "urn:carecoord:site"
USER_ID_SYSTEM = "urn:carecoord:user"


def mrn_system(site_id: int) -> str:
    """The system of a site's medical record numbers: each site numbers its patients itself."""
    return f"urn:carecoord:site:{site_id}:mrn"


# carecoord's code systems.
TOXICITY_KIND = "urn:carecoord:toxicity-kind"
ASTCT_GRADE = "urn:carecoord:astct-grade"
CTCAE_GRADE = "urn:carecoord:ctcae-grade"
TREATMENT_KIND = "urn:carecoord:toxicity-treatment-kind"
MILESTONE_KIND = "urn:carecoord:milestone-kind"
MILESTONE_STATUS = "urn:carecoord:milestone-status"
REFERRAL_STATE = "urn:carecoord:referral-state"
DOCUMENT_KIND = "urn:carecoord:referral-document-kind"
HANDOFF_TEMPLATE = "urn:carecoord:handoff-template"
CARE_TEAM_CAPACITY = "urn:carecoord:care-team-capacity"
POINT_PERSON_RANK = "urn:carecoord:point-person-rank"
TIMELINE_KIND = "urn:carecoord:timeline-kind"

# Extensions (carecoord's own; no published profile carries these facts).
EXTENSION = "urn:carecoord:fhir:StructureDefinition:"
ONSET_DAY = EXTENSION + "onset-day"  # valueInteger: day +N of the onset from day 0
HIGHEST_GRADE = EXTENSION + "highest-grade"  # valueInteger: the worst grade so far
RESOLVED_ON = EXTENSION + "resolved-date"  # valueDate
MILESTONE_ACTUAL = EXTENSION + "milestone-actual-date"  # valueDate: the day a step was done

# FHIR's own systems.
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
SNOMED = "http://snomed.info/sct"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

# SNOMED CT 3457005 |Patient referral (procedure)|: what every referral asks for.
REFERRAL_CODE = ("3457005", "Patient referral")

# A referral's state as the Task of a closed-loop referral (HL7 360X / BSeR) and as its
# ServiceRequest. The state itself travels as the Task's businessStatus.
TASK_STATUS: dict[State, str] = {
    State.DRAFT: "draft",
    State.SUBMITTED: "requested",
    State.RECEIVED: "received",
    State.UNDER_REVIEW: "in-progress",
    State.CONSULT_SCHEDULED: "in-progress",
    State.ACCEPTED: "accepted",
    State.DECLINED: "rejected",
    State.WITHDRAWN: "cancelled",
}
SERVICE_REQUEST_STATUS: dict[State, str] = {
    State.DRAFT: "draft",
    State.SUBMITTED: "active",
    State.RECEIVED: "active",
    State.UNDER_REVIEW: "active",
    State.CONSULT_SCHEDULED: "active",
    State.ACCEPTED: "active",
    State.DECLINED: "revoked",
    State.WITHDRAWN: "revoked",
}
# The course of care the referral opens: planned while drafted, ended when refused or withdrawn.
CARE_PLAN_STATUS: dict[State, str] = {
    **{state: "active" for state in State},
    State.DRAFT: "draft",
    State.DECLINED: "revoked",
    State.WITHDRAWN: "revoked",
}
REFERRAL_PRIORITY = {"routine": "routine", "urgent": "urgent", "emergent": "asap"}

# A milestone's status as a CarePlan activity's (`scheduled` once it has a planned date).
ACTIVITY_STATUS = {"planned": "not-started", "done": "completed", "cancelled": "cancelled"}

# A toxicity's outcome (ToxicityEvent.Outcome) as FHIR's adverse-event-outcome.
ADVERSE_EVENT_OUTCOMES = {
    "ongoing": ("ongoing", "Ongoing"),
    "recovered": ("resolved", "Resolved"),
    "recovered_with_sequelae": ("resolvedWithSequelae", "Resolved with Sequelae"),
    "fatal": ("fatal", "Fatal"),
    "unknown": ("unknown", "Unknown"),
}


def severity_of(grade: int) -> tuple[str, str] | None:
    """FHIR's three-step severity for an ASTCT or CTCAE grade (1 mild, 2 moderate, 3-5 severe);
    none for grade 0. The grade itself travels beside it, coded in its own system."""
    if grade <= 0:
        return None
    if grade == 1:
        return ("mild", "Mild")
    if grade == 2:
        return ("moderate", "Moderate")
    return ("severe", "Severe")


# Hand-off states as a DocumentReference's docStatus and status.
HANDOFF_DOC_STATUS = {"draft": "preliminary", "sent": "final", "acknowledged": "final", "superseded": "final"}
HANDOFF_STATUS = {"draft": "current", "sent": "current", "acknowledged": "current", "superseded": "superseded"}

# Treatments that are not a medication: an ICU transfer is on the timeline (and so a
# Provenance), never a MedicationAdministration.
NOT_MEDICATION = frozenset({"icu_transfer"})
