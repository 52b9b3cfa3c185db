"""The code systems, identifiers and mappings of the FHIR export: one place, documented in
docs/operators/fhir.md. Plain data, no database.

carecoord's own codes (a toxicity's kind, a milestone's kind, a referral's state) travel under
`urn:carecoord:…` systems with their labels as displays; where FHIR binds a field to a value set
of its own (a Task's status, an AdverseEvent's outcome) the carecoord value is mapped to it here.
"""

from __future__ import annotations

from carecoord.models.patients import DiseaseArea
from referrals.models import ReferralDocument
from referrals.workflow import State

# Versions of FHIR the export speaks: R4, built and validated with `fhir.resources`' R4B models
# (R4B changed none of the resources exported here).
FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

# Identifiers.
PATIENT_ID_SYSTEM = "urn:carecoord:patient"
SITE_ID_SYSTEM = "urn:carecoord:site"
USER_ID_SYSTEM = "urn:carecoord:user"
REFERRAL_ID_SYSTEM = "urn:carecoord:referral"
MRN_SYSTEM_PREFIX = "urn:carecoord:site:"
MRN_SYSTEM_SUFFIX = ":mrn"


def mrn_system(site_id: int) -> str:
    """The system of a site's medical record numbers: each site numbers its patients itself."""
    return f"{MRN_SYSTEM_PREFIX}{site_id}{MRN_SYSTEM_SUFFIX}"


def site_of_mrn_system(system: str) -> int | None:
    """The site whose MRN system `system` is (`mrn_system` read back), or None."""
    number = system.removeprefix(MRN_SYSTEM_PREFIX).removesuffix(MRN_SYSTEM_SUFFIX)
    if not (system.startswith(MRN_SYSTEM_PREFIX) and system.endswith(MRN_SYSTEM_SUFFIX)) or not number.isdigit():
        return None
    return int(number)


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
DISEASE_AREA = "urn:carecoord:disease-area"
TRANSPLANT_ELIGIBILITY = "urn:carecoord:transplant-eligibility"
TRANSPLANT_KIND = "urn:carecoord:transplant-kind"  # autologous, allogeneic

# Extensions (carecoord's own; no published profile carries these facts).
EXTENSION = "urn:carecoord:fhir:StructureDefinition:"
ONSET_DAY = EXTENSION + "onset-day"  # valueInteger: day +N of the onset from day 0
HIGHEST_GRADE = EXTENSION + "highest-grade"  # valueInteger: the worst grade so far
RESOLVED_ON = EXTENSION + "resolved-date"  # valueDate
MILESTONE_ACTUAL = EXTENSION + "milestone-actual-date"  # valueDate: the day a step was done
# A referral's clinical summary on its ServiceRequest, exported and read back by the intake.
PRIOR_LINES = EXTENSION + "prior-lines-of-therapy"  # valueInteger, 0-20
ECOG = EXTENSION + "ecog-performance-status"  # valueInteger, 0-4
TRANSPLANT = EXTENSION + "transplant-eligibility"  # valueCode: eligible, ineligible, unknown
PRIOR_THERAPIES = EXTENSION + "prior-therapies"  # valueString: regimens, dates and responses
# The lines of therapy sent with a referral (MedicationStatement, Procedure; docs/operators/fhir.md).
LINE_OF_THERAPY = EXTENSION + "line-of-therapy"  # valueInteger, 1-20: the line a drug or transplant was part of
REGIMEN = EXTENSION + "regimen"  # valueString: the regimen's name as the chart writes it, e.g. VRd
BEST_RESPONSE = EXTENSION + "best-response"  # valueCode: candidates.models.BestResponse
REFRACTORY = EXTENSION + "refractory"  # valueBoolean: refractory to the line
PROGRESSION_DATE = EXTENSION + "progression-date"  # valueDate: the relapse or progression on the line

# FHIR's own systems.
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
ICD_10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD_10 = "http://hl7.org/fhir/sid/icd-10"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
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
# A ServiceRequest's priority read back as a referral's urgency: FHIR's `stat` is emergent too.
URGENCY_OF_PRIORITY = {"routine": "routine", "urgent": "urgent", "asap": "emergent", "stat": "emergent"}

# ICD-10 (and ICD-10-CM) categories read as a disease area by the intake: the code or its
# category before the first dot is looked up, the longest first. ALL is left out on purpose:
# C91.0 does not say B or T lineage, and only B-ALL is a CAR-T indication; such a referral
# sends the carecoord code (`urn:carecoord:disease-area|b_all`).
DISEASE_AREA_OF_ICD_10: dict[str, str] = {
    "C83.3": DiseaseArea.LBCL,  # diffuse large B-cell lymphoma
    "C85.2": DiseaseArea.LBCL,  # mediastinal (thymic) large B-cell lymphoma
    "C82": DiseaseArea.FL,  # follicular lymphoma, every grade
    "C83.1": DiseaseArea.MCL,  # mantle cell lymphoma
    "C88.4": DiseaseArea.MZL,  # extranodal marginal zone B-cell lymphoma (MALT)
    "C91.1": DiseaseArea.CLL_SLL,  # chronic lymphocytic leukemia of B-cell type
    "C90.0": DiseaseArea.MULTIPLE_MYELOMA,  # multiple myeloma
}

# LOINC document types read as a checklist item by the intake (beside carecoord's own kinds).
DOCUMENT_KIND_OF_LOINC: dict[str, str] = {
    "11526-1": ReferralDocument.Kind.PATHOLOGY,  # Pathology study
    "18748-4": ReferralDocument.Kind.IMAGING,  # Diagnostic imaging study
    "11502-2": ReferralDocument.Kind.LABS,  # Laboratory report
    "34117-2": ReferralDocument.Kind.HISTORY,  # History and physical note
}


def disease_area_of_icd_10(code: str) -> str | None:
    """The disease area of an ICD-10 code (`C83.38`, `C82.9`, `C90.00`), or None if unmapped."""
    code = code.strip().upper()
    for prefix, area in DISEASE_AREA_OF_ICD_10.items():
        # A category (`C82`) covers its subcodes (`C82.9`); a subcategory (`C83.3`) its own (`C83.38`).
        if code == prefix or code.startswith(prefix if "." in prefix else f"{prefix}."):
            return area
    return None


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

# A stem-cell transplant (Procedure.code) in carecoord's own codes or CPT (38241 autologous,
# 38240 allogeneic hematopoietic progenitor cell transplantation).
TRANSPLANT_OF_CODE: dict[tuple[str, str], str] = {
    (TRANSPLANT_KIND, "autologous"): "autologous",
    (TRANSPLANT_KIND, "allogeneic"): "allogeneic",
    (CPT, "38241"): "autologous",
    (CPT, "38240"): "allogeneic",
}
