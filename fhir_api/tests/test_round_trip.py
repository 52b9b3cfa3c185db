"""The round trip: a demo patient's `$everything`, every resource valid FHIR R4, turned into the
referral bundle a practice's system would send (its Patient, ServiceRequest, Condition and
DocumentReferences, the documents downloaded and inlined), posted by the coordinator of a
practice new to carecoord, arrives as the same referral: the same person, diagnosis, center,
clinical summary and documents, byte for byte."""

from __future__ import annotations

import base64
import copy
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from carecoord.models import PatientIdentifier, Site, SiteMembership
from carecoord.roles import Role
from fhir_api import codes
from referrals.models import Referral
from referrals.services import referral_attach_document
from referrals.workflow import State
from tests.factories import SiteFactory, member
from tests.helpers import api_token_header

pytestmark = pytest.mark.django_db

PATHOLOGY = b"%PDF-1.4\n% pathology report of the round trip\n%%EOF\n"
PET = b"%PDF-1.7\n% PET-CT of the round trip\n" + bytes(range(256)) + b"\n%%EOF\n"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def as_sent(
    client: Client, header: str, everything: dict[str, Any], *, source: Site, fresh: Site, physician: Any
) -> dict[str, Any]:
    """What the fresh practice's system sends: the exported Patient, ServiceRequest, Condition and
    referral DocumentReferences, with its own MRN for the patient, its physician as requester,
    references between the entries as urn:uuid fullUrls, and each document's PDF inline."""
    resources = [copy.deepcopy(entry["resource"]) for entry in everything["entry"]]
    (patient,) = [r for r in resources if r["resourceType"] == "Patient"]
    (request,) = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    (condition,) = [r for r in resources if r["resourceType"] == "Condition"]
    documents = [r for r in resources if r["resourceType"] == "DocumentReference" and "referral-document" in r["id"]]
    urls = {
        f"{r['resourceType']}/{r['id']}": f"urn:uuid:00000000-0000-4000-8000-{n:012d}" for n, r in enumerate(resources)
    }
    # The patient's number at the referring practice, taken over by the fresh practice as its own
    # MRN; the export's identifiers (carecoord's id, other sites' MRNs) go along.
    source_mrn = next(i["value"] for i in patient["identifier"] if i["system"] == codes.mrn_system(source.pk))
    patient["identifier"].append({"system": codes.mrn_system(fresh.pk), "value": source_mrn})
    request["subject"] = {"reference": urls[f"Patient/{patient['id']}"]}
    request["reasonReference"] = [{"reference": urls[f"Condition/{condition['id']}"]}]
    request["requester"] = {"identifier": {"system": codes.USER_ID_SYSTEM, "value": str(physician.pk)}}
    request["identifier"] = [{"system": "https://ehr.fresh-practice.example/referrals", "value": "RT-1"}]
    request.pop("supportingInfo", None)
    condition["subject"] = {"reference": urls[f"Patient/{patient['id']}"]}
    for document in documents:
        attachment = document["content"][0]["attachment"]
        download = client.get(attachment.pop("url"), HTTP_AUTHORIZATION=header)
        assert download.status_code == 200
        attachment["data"] = base64.b64encode(download.getvalue()).decode()
        document["subject"] = {"reference": urls[f"Patient/{patient['id']}"]}
        document["context"] = {"related": [{"reference": urls[f"ServiceRequest/{request['id']}"]}]}
    sent = [patient, request, condition, *documents]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": urls[f"{r['resourceType']}/{r['id']}"],
                "resource": {key: value for key, value in r.items() if key != "id"},
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for r in sent
        ],
    }


def test_a_demo_patient_travels_to_a_fresh_practice_as_a_referral(client: Client, tmp_media: Path) -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=StringIO())
    # A demo patient whose referral the center is reviewing (documents go with an open referral).
    referral = (
        Referral.objects.filter(state=State.UNDER_REVIEW)
        .select_related("patient", "from_site")
        .order_by("patient__family_name", "pk")
        .first()
    )
    assert referral is not None
    source = referral.patient
    practice_staff = SiteMembership.objects.filter(site=referral.from_site, role=Role.COORDINATOR).first()
    assert practice_staff is not None
    # The demo's referrals carry no documents: the practice attaches two, as on the referral page.
    for kind, name, content in [("pathology", "pathology.pdf", PATHOLOGY), ("imaging", "pet-ct.pdf", PET)]:
        upload = SimpleUploadedFile(name, content, content_type="application/pdf")
        referral_attach_document(actor=practice_staff.user, referral=referral, kind=kind, upload=upload)

    # The export, read by the referring practice's coordinator with a token: every resource valid.
    source_header = api_token_header(practice_staff.user)
    response = client.get(
        reverse("fhir-everything", kwargs={"patient_id": source.pk}), HTTP_AUTHORIZATION=source_header
    )
    assert response.status_code == 200
    everything = valid(json.loads(response.content))
    for entry in everything["entry"]:
        valid(entry["resource"])

    # A practice new to carecoord, its coordinator and a physician.
    fresh = SiteFactory.create(name="Fresh Meadow Oncology")
    coordinator = member(fresh, Role.COORDINATOR, email="coordinator@freshmeadow.test")
    physician = member(fresh, Role.PHYSICIAN, email="physician@freshmeadow.test")
    bundle = as_sent(client, source_header, everything, source=referral.from_site, fresh=fresh, physician=physician)
    valid(bundle)
    header = api_token_header(coordinator)
    response = client.post(
        reverse("fhir-bundle"), data=json.dumps(bundle), content_type="application/fhir+json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 201, response.content
    again = client.post(
        reverse("fhir-bundle"), data=json.dumps(bundle), content_type="application/fhir+json", HTTP_AUTHORIZATION=header
    )
    assert again.status_code == 200

    arrived = Referral.objects.get(from_site=fresh)
    patient = arrived.patient
    assert patient != source
    assert (patient.given_name, patient.family_name, patient.date_of_birth, patient.sex) == (
        source.given_name,
        source.family_name,
        source.date_of_birth,
        source.sex,
    )
    source_mrn = PatientIdentifier.objects.get(patient=source, site=referral.from_site).mrn
    assert list(patient.identifiers.values_list("site", "mrn")) == [(fresh.pk, source_mrn)]
    assert patient.disease_area == arrived.disease_area == source.disease_area
    assert arrived.to_center == referral.to_center
    assert arrived.referring_physician == physician and arrived.state == "draft"
    summary = ("prior_lines_of_therapy", "performance_status", "transplant_eligibility", "prior_therapies")
    for name in (*summary, "urgency", "reason"):
        assert getattr(arrived, name) == getattr(referral, name), name
    sent = sorted((d.kind, d.original_name, d.file.read()) for d in referral.documents.all())
    received = sorted((d.kind, d.original_name, d.file.read()) for d in arrived.documents.all())
    assert received == sent and len(sent) == 2

    # And back out: the fresh practice's export of the referral says what was sent.
    exported = json.loads(
        client.get(reverse("fhir-everything", kwargs={"patient_id": patient.pk}), HTTP_AUTHORIZATION=header).content
    )
    (request,) = [e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    (original,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    assert request["extension"] == original["extension"]
    assert request["performer"][0]["reference"] == original["performer"][0]["reference"]
    assert request["reasonCode"] == original["reasonCode"]
