"""Who the record is about and who cares for them: Patient, Organization, PractitionerRole, CareTeam."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitionerrole import PractitionerRole

from carecoord.models import CareTeamLink, PointPerson, Site
from fhir_api import codes
from fhir_api.record import PatientRecord
from fhir_api.references import concept, ref, site_ref

# carecoord's `Patient.Sex` is FHIR's administrative gender, value for value.
GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def patient_resource(record: PatientRecord) -> Patient:
    """The patient, with carecoord's id and each care-team site's MRN as identifiers."""
    patient = record.patient
    identifiers: list[dict[str, Any]] = [
        {"use": "secondary", "system": codes.PATIENT_ID_SYSTEM, "value": str(patient.pk)}
    ]
    identifiers += [
        {
            "use": "usual",
            "type": {"text": "Medical record number"},
            "system": codes.mrn_system(identifier.site_id),
            "value": identifier.mrn,
            "assigner": site_ref(identifier.site),
        }
        for identifier in record.identifiers
    ]
    data: dict[str, Any] = {
        "id": str(patient.pk),
        "identifier": identifiers,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": GENDER[patient.sex],
        "birthDate": patient.date_of_birth,
    }
    if record.died_on is not None:
        data["deceasedDateTime"] = record.died_on.isoformat()
    if patient.caregiver_name:
        contact: dict[str, Any] = {"name": {"text": patient.caregiver_name}}
        if patient.caregiver_relationship:
            contact["relationship"] = [{"text": patient.caregiver_relationship}]
        if patient.caregiver_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.caregiver_phone}]
        data["contact"] = [contact]
    return Patient.model_validate(data)


PROBLEM_LIST_ITEM = {"system": codes.CONDITION_CATEGORY, "code": "problem-list-item", "display": "Problem List Item"}


def condition_resource(record: PatientRecord) -> Condition:
    """The disease the patient is treated for (their disease area), coded in carecoord's system:
    the diagnosis a referral is for, as the intake reads it back. Its id is the patient's."""
    patient = record.patient
    return Condition.model_validate(
        {
            "id": str(patient.pk),
            "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
            "category": [{"coding": [PROBLEM_LIST_ITEM]}],
            "code": concept(codes.DISEASE_AREA, patient.disease_area, patient.get_disease_area_display()),
            "subject": ref("Patient", patient.pk, patient.full_name),
        }
    )


def organization_resource(site: Site) -> Organization:
    """A site: an academic CAR-T center or a community practice, with its 24/7 number."""
    data: dict[str, Any] = {
        "id": str(site.pk),
        "identifier": [{"system": codes.SITE_ID_SYSTEM, "value": str(site.pk)}],
        "active": True,
        "type": [
            {
                "coding": [{"system": codes.ORGANIZATION_TYPE, "code": "prov", "display": "Healthcare Provider"}],
                "text": site.get_kind_display(),
            }
        ],
        "name": site.name,
        "telecom": [{"system": "phone", "value": site.phone_24_7, "use": "work"}],
    }
    if site.address:
        data["address"] = [{"text": site.address}]
    return Organization.model_validate(data)


def practitioner_role_resource(person: PointPerson) -> PractitionerRole:
    """A point person: the person (a contained Practitioner) in their rank at their site."""
    user = person.user
    telecom = [{"system": "email", "value": user.email, "use": "work"}]
    if user.phone:
        telecom.append({"system": "phone", "value": user.phone, "use": "work"})
    practitioner = {
        "resourceType": "Practitioner",
        "id": "practitioner",
        "identifier": [{"system": codes.USER_ID_SYSTEM, "value": str(user.pk)}],
        "name": [{"text": str(user)}],
        "telecom": telecom,
    }
    return PractitionerRole.model_validate(
        {
            "id": str(person.pk),
            "contained": [practitioner],
            "active": person.link.is_open,
            "practitioner": {"reference": "#practitioner", "display": str(user)},
            "organization": site_ref(person.link.site),
            "code": [concept(codes.POINT_PERSON_RANK, person.rank, f"{person.get_rank_display()} point person")],
            "telecom": telecom,
        }
    )


def care_team_resource(record: PatientRecord) -> CareTeam:
    """The patient's care team: each site in its capacity (with when it joined and left), then
    each point person on behalf of their site. Its id is the patient's: one team per patient."""
    patient = record.patient
    participants: list[dict[str, Any]] = [_site_participant(link) for link in record.links]
    participants += [
        {
            "role": [concept(codes.POINT_PERSON_RANK, person.rank, f"{person.get_rank_display()} point person")],
            "member": ref("PractitionerRole", person.pk, str(person.user)),
            "onBehalfOf": site_ref(person.link.site),
        }
        for person in record.point_persons
        if person.link.is_open
    ]
    open_sites = [site_ref(link.site) for link in record.links if link.is_open]
    return CareTeam.model_validate(
        {
            "id": str(patient.pk),
            "status": "active" if open_sites else "inactive",
            "name": f"CAR-T care team of {patient.full_name}",
            "subject": ref("Patient", patient.pk, patient.full_name),
            "participant": participants or None,
            "managingOrganization": open_sites or None,
        }
    )


def _site_participant(link: CareTeamLink) -> dict[str, Any]:
    period: dict[str, Any] = {"start": link.joined_at}
    if link.ended_at is not None:
        period["end"] = link.ended_at
    return {
        "role": [concept(codes.CARE_TEAM_CAPACITY, link.capacity, link.get_capacity_display())],
        "member": site_ref(link.site),
        "period": period,
    }
