"""The FHIR referral intake (`POST /fhir/Bundle`): a practice's transaction Bundle becomes a
draft referral with its documents, through the same services and rules as the referral page;
sent again it finds the same referral; refused, it leaves nothing behind (rows or files) and
names each problem with the element it is in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from audit.models import AuditEntry
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, TimelineEntry
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_end_site
from fhir_api import codes
from fhir_api.models import ReferralIntake
from referrals import services as referral_services
from referrals.models import Referral, ReferralDocument
from referrals.workflow import State
from tests.factories import member
from tests.helpers import PDF_BYTES, World, api_token_header, draft_referral, login, referral_bundle

pytestmark = pytest.mark.django_db

URL = reverse("fhir-bundle")
FHIR_JSON = "application/fhir+json"
OTHER_PDF = b"%PDF-1.7\n% a second document\n%%EOF\n"


def post(client: Client, bundle: dict[str, Any] | str, **headers: Any) -> Any:
    body = bundle if isinstance(bundle, str) else json.dumps(bundle)
    return client.post(URL, data=body, content_type=FHIR_JSON, **headers)


def outcome(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith(FHIR_JSON)
    body: dict[str, Any] = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    assert body["resourceType"] == "OperationOutcome", body
    return body


def expressions(response: Any) -> set[str]:
    return {expression for issue in outcome(response)["issue"] for expression in issue.get("expression", [])}


def bundle_for(world: World, **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mrn_site": world.practice,
        "mrn": "RB-NEW-1",
        "center": world.center,
        "physician": world.community_oncologist,
        "documents": [("pathology", "pathology.pdf", PDF_BYTES), ("imaging", "pet-ct.pdf", OTHER_PDF)],
    }
    return referral_bundle(**(values | kwargs))


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Referral.objects.count(),
        ReferralDocument.objects.count(),
        ReferralIntake.objects.count(),
        TimelineEntry.objects.count(),
    )


def test_a_bundle_makes_a_draft_referral_with_its_documents(client: Client, world: World, tmp_media: Path) -> None:
    header = api_token_header(world.community_coordinator)
    response = post(client, bundle_for(world), HTTP_AUTHORIZATION=header)
    assert response.status_code == 201, response.content
    answer = json.loads(response.content)
    get_fhir_model_class("Bundle").model_validate(answer)
    assert answer["type"] == "transaction-response"

    referral = Referral.objects.get(
        fhir_intakes__system="https://ehr.riverbend.example/referrals", fhir_intakes__value="REF-0001"
    )
    patient = referral.patient
    assert PatientIdentifier.objects.get(patient=patient, site=world.practice).mrn == "RB-NEW-1"
    assert (patient.given_name, patient.family_name, str(patient.date_of_birth), patient.sex) == (
        "Bea",
        "Bundleson",
        "1961-03-14",
        "female",
    )
    assert patient.disease_area == referral.disease_area == "lbcl"  # ICD-10-CM C83.38, as the page's choice
    assert referral.state == State.DRAFT
    assert (referral.from_site, referral.to_center, referral.referring_physician) == (
        world.practice,
        world.center,
        world.community_oncologist,
    )
    assert (referral.prior_lines_of_therapy, referral.performance_status, referral.urgency) == (2, 1, "urgent")
    assert referral.transplant_eligibility == "ineligible"
    assert referral.prior_therapies == "R-CHOP x6; R-ICE x2"
    assert referral.reason == "Primary refractory LBCL, candidate for CAR-T."
    documents = list(referral.documents.order_by("pk"))
    assert [(d.kind, d.original_name, d.content_type) for d in documents] == [
        ("pathology", "pathology.pdf", "application/pdf"),
        ("imaging", "pet-ct.pdf", "application/pdf"),
    ]
    assert [d.file.read() for d in documents] == [PDF_BYTES, OTHER_PDF]

    base = "http://testserver/fhir/"
    assert response["Location"] == f"{base}ServiceRequest/{referral.pk}"
    assert [e["response"] for e in answer["entry"]] == [
        {"status": "201 Created", "location": f"{base}Patient/{patient.pk}"},
        {"status": "201 Created", "location": f"{base}ServiceRequest/{referral.pk}"},
        {"status": "200 OK", "location": f"{base}Condition/{patient.pk}"},
        *[
            {"status": "201 Created", "location": f"{base}DocumentReference/referral-document-{d.pk}"}
            for d in documents
        ],
    ]
    # The locations are what the export serves.
    for entry in answer["entry"]:
        assert client.get(entry["response"]["location"], HTTP_AUTHORIZATION=header).status_code == 200
    # The export names the referral by the practice's identifier too, as the practice assigned it.
    exported = json.loads(client.get(response["Location"], HTTP_AUTHORIZATION=header).content)
    assert exported["identifier"][1] == {
        "system": "https://ehr.riverbend.example/referrals",
        "value": "REF-0001",
        "assigner": {"reference": f"Organization/{world.practice.pk}", "display": world.practice.name},
    }

    # Audited as the page's writes are, by the poster for the practice, the intake itself too.
    written = AuditEntry.objects.filter(patient=patient, action=AuditEntry.Action.CREATE)
    assert {e.object_type for e in written} >= {
        "carecoord.patient",
        "carecoord.patientidentifier",
        "referrals.referral",
        "referrals.referraldocument",
        "fhir_api.referralintake",
    }
    assert {(e.actor_id, e.site_id) for e in written} == {(world.community_coordinator.pk, world.practice.pk)}
    assert TimelineEntry.objects.filter(patient=patient, site=world.practice, title__contains="drafted").exists()


def test_the_same_bundle_again_finds_the_same_referral(client: Client, world: World, tmp_media: Path) -> None:
    login(client, world.community_coordinator)
    first = post(client, bundle_for(world))
    assert first.status_code == 201
    before, files = counts(), stored_files(tmp_media)
    again = post(client, bundle_for(world))
    assert again.status_code == 200, again.content
    assert counts() == before and stored_files(tmp_media) == files
    responses = [e["response"] for e in json.loads(again.content)["entry"]]
    assert [r["location"] for r in responses] == [e["response"]["location"] for e in json.loads(first.content)["entry"]]
    assert {r["status"] for r in responses} == {"200 OK"}
    # Another identifier is another referral: refused while this one is open (the page's rule).
    other = post(client, bundle_for(world, identifier="REF-0002"))
    assert other.status_code == 422
    assert expressions(other) == {"Bundle.entry[1].resource.performer[0]"}
    assert counts() == before


def test_an_existing_patient_is_found_by_the_practice_mrn(client: Client, world: World, tmp_media: Path) -> None:
    patient = world.shared_patient
    mrn = PatientIdentifier.objects.get(patient=patient, site=world.practice).mrn
    bundle = bundle_for(world, mrn=mrn, birth_date=str(patient.date_of_birth))
    login(client, world.community_oncologist)
    response = post(client, bundle)
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(patient=patient)
    assert referral.referring_physician == world.community_oncologist
    patient.refresh_from_db()
    assert patient.family_name == "Sharedcare"  # the record found is kept as it is
    first = json.loads(response.content)["entry"][0]["response"]
    assert first["status"] == "200 OK" and first["location"].endswith(f"/Patient/{patient.pk}")


def test_a_birth_date_that_differs_from_the_mrns_patient_is_refused(
    client: Client, world: World, tmp_media: Path
) -> None:
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    login(client, world.community_coordinator)
    before = counts()
    response = post(client, bundle_for(world, mrn=mrn, birth_date="1901-01-01"))
    assert response.status_code == 422
    assert expressions(response) == {"Bundle.entry[0].resource.birthDate"}
    assert counts() == before


def test_other_sites_identifiers_match_nothing(client: Client, world: World, tmp_media: Path) -> None:
    """Another site's MRN (the center's, or a system carecoord does not know) is not the poster's
    to vouch for: it neither finds a patient nor is stored."""
    center_mrn = PatientIdentifier.objects.create(patient=world.shared_patient, site=world.center, mrn="LK-77")
    bundle = bundle_for(world)
    bundle["entry"][0]["resource"]["identifier"] += [
        {"system": codes.mrn_system(world.center.pk), "value": center_mrn.mrn},
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "000-00-0000"},
    ]
    login(client, world.community_coordinator)
    assert post(client, bundle).status_code == 201
    patient = Referral.objects.get(fhir_intakes__value="REF-0001").patient
    assert patient != world.shared_patient
    assert list(patient.identifiers.values_list("site_id", "mrn")) == [(world.practice.pk, "RB-NEW-1")]


def test_a_malformed_bundle_names_each_problem(client: Client, world: World, tmp_media: Path) -> None:
    bundle = bundle_for(world)
    patient, request, _condition, document, _ = (entry["resource"] for entry in bundle["entry"])
    patient["birthDate"] = "14/03/1961"
    del request["identifier"]
    document["content"][0]["attachment"]["data"] = "not base64!"
    login(client, world.community_coordinator)
    before = counts()
    response = post(client, bundle)
    assert response.status_code == 400
    assert expressions(response) == {
        "Bundle.entry[0].resource.birthDate",
        "Bundle.entry[3].resource.content[0].attachment.data",
    }
    # Once each resource parses, what the referral needs is checked, all at once too.
    bundle = bundle_for(world)
    patient, request, condition, document, _ = (entry["resource"] for entry in bundle["entry"])
    del patient["birthDate"]
    del request["identifier"]
    request["note"] = []
    request["extension"] = request["extension"][2:]
    condition["code"]["coding"][0]["code"] = "C91.00"  # ALL: B or T lineage unsaid
    del document["content"][0]["attachment"]["data"]
    document["content"][0]["attachment"]["url"] = "https://ehr.example/doc/1"
    response = post(client, bundle)
    assert response.status_code == 400
    assert expressions(response) == {
        "Bundle.entry[0].resource.birthDate",
        "Bundle.entry[1].resource.identifier",
        "Bundle.entry[1].resource.note",
        f"Bundle.entry[1].resource.extension('{codes.PRIOR_LINES}')",
        f"Bundle.entry[1].resource.extension('{codes.ECOG}')",
        "Bundle.entry[2].resource.code",
        "Bundle.entry[3].resource.content[0].attachment.data",
    }
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        ("{not json", "Bundle"),
        (json.dumps({"resourceType": "Patient"}), "Bundle"),
        (json.dumps({"resourceType": "Bundle", "type": "transaction"}), "Bundle.entry"),
        (json.dumps({"resourceType": "Bundle", "type": "batch", "entry": [{"resource": {}}]}), "Bundle.type"),
    ],
)
def test_what_is_no_transaction_bundle_is_400(client: Client, world: World, body: str, expression: str) -> None:
    login(client, world.community_coordinator)
    response = post(client, body)
    assert response.status_code == 400
    assert expression in expressions(response)


def test_an_unsupported_resource_or_method_is_422(client: Client, world: World, tmp_media: Path) -> None:
    bundle = bundle_for(world)
    bundle["entry"].append({"resource": {"resourceType": "Observation"}, "request": {"method": "POST", "url": "X"}})
    bundle["entry"][2]["request"]["method"] = "DELETE"
    login(client, world.community_coordinator)
    response = post(client, bundle)
    assert response.status_code == 422
    assert expressions(response) == {"Bundle.entry[5].resource", "Bundle.entry[2].request.method"}


def test_documents_are_pdfs_within_the_size_limit(client: Client, world: World, tmp_media: Path, settings: Any) -> None:
    settings.REFERRAL_DOCUMENT_MAX_MB = 1
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1)
    bundle = bundle_for(
        world, documents=[("labs", "labs.pdf", b"\x89PNG\r\n\x1a\n not a pdf"), ("history", "h.pdf", big)]
    )
    bundle["entry"][3]["resource"]["content"][0]["attachment"]["contentType"] = "image/png"
    login(client, world.community_coordinator)
    before = counts()
    response = post(client, bundle)
    assert response.status_code == 422
    assert expressions(response) == {
        "Bundle.entry[3].resource.content[0].attachment.contentType",
        "Bundle.entry[3].resource.content[0].attachment.data",
        "Bundle.entry[4].resource.content[0].attachment.data",
    }
    assert any("limit is 1 MB" in issue["diagnostics"] for issue in outcome(response)["issue"])
    assert counts() == before and not stored_files(tmp_media)


def test_a_bundle_failing_on_its_last_document_leaves_nothing_behind(
    client: Client, world: World, tmp_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient, the referral and the first document were written (its file stored) when the
    service refuses the last document: all of it goes, the stored file too."""
    real = referral_services.validate_upload
    calls: list[str] = []

    def refuse_the_second(upload: Any) -> str:
        calls.append(upload.name)
        if len(calls) == 2:
            raise ValidationError({"file": "The scanner's file is damaged."})
        return real(upload)

    monkeypatch.setattr(referral_services, "validate_upload", refuse_the_second)
    login(client, world.community_coordinator)
    before = counts()
    audit_before = AuditEntry.objects.count()
    response = post(client, bundle_for(world))
    assert calls == ["pathology.pdf", "pet-ct.pdf"]  # the first was attached before the second failed
    assert response.status_code == 422
    (issue,) = outcome(response)["issue"]
    assert issue["expression"] == ["Bundle.entry[4].resource.content[0].attachment.data"]
    assert "damaged" in issue["diagnostics"]
    assert counts() == before
    assert not PatientIdentifier.objects.filter(mrn="RB-NEW-1").exists()
    assert not stored_files(tmp_media)
    assert AuditEntry.objects.count() == audit_before


def test_who_may_send_a_referral(client: Client, world: World, tmp_media: Path) -> None:
    bundle = bundle_for(world)
    before = counts()
    # Anonymous: 401 whatever is sent.
    response = post(client, bundle)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert outcome(response)["issue"][0]["code"] == "login"
    # The center refers no one: 403 before the body is read.
    response = post(client, "not even json", HTTP_AUTHORIZATION=api_token_header(world.center_coordinator))
    assert response.status_code == 403
    assert outcome(response)["issue"][0]["code"] == "forbidden"
    # Read-only at the practice: the page's rule, no referral.
    reader = member(world.practice, Role.READ_ONLY, email="reader@riverbend.test")
    assert post(client, bundle, HTTP_AUTHORIZATION=api_token_header(reader)).status_code == 403
    # A pharmacist records care but registers no patient: the new patient is refused.
    pharmacist = member(world.practice, Role.PHARMACIST, email="pharmacist@riverbend.test")
    assert post(client, bundle, HTTP_AUTHORIZATION=api_token_header(pharmacist)).status_code == 403
    # The outsider's practice is not the MRN's: their own MRN is asked for, nothing is found.
    response = post(client, bundle, HTTP_AUTHORIZATION=api_token_header(world.outsider))
    assert response.status_code == 422
    assert expressions(response) == {"Bundle.entry[0].resource.identifier"}
    assert codes.mrn_system(world.unrelated_practice.pk) in outcome(response)["issue"][0]["diagnostics"]
    assert world.practice.name not in response.content.decode()
    # ... and with their own MRN of the shared patient's number, a new patient of theirs, never ours.
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    mine = bundle_for(world, mrn_site=world.unrelated_practice, mrn=mrn, physician=None)
    assert post(client, mine, HTTP_AUTHORIZATION=api_token_header(world.outsider)).status_code == 201
    referral = Referral.objects.get(from_site=world.unrelated_practice)
    assert referral.patient != world.shared_patient and referral.referring_physician == world.outsider
    assert counts()[0] == before[0] + 1


def test_the_center_must_be_a_center_and_the_physician_from_the_practice(
    client: Client, world: World, tmp_media: Path
) -> None:
    login(client, world.community_coordinator)
    before = counts()
    wrong: list[tuple[dict[str, Any], str]] = [
        ({"center": world.unrelated_practice}, "Bundle.entry[1].resource.performer[0]"),
        ({"physician": world.outsider}, "Bundle.entry[1].resource.requester"),
    ]
    for kwargs, expression in wrong:
        response = post(client, bundle_for(world, **kwargs))
        assert response.status_code == 422, kwargs
        assert expressions(response) == {expression}
    unknown = bundle_for(world)
    unknown["entry"][1]["resource"]["performer"] = [{"reference": "Organization/999999"}]
    response = post(client, unknown)
    assert response.status_code == 422 and outcome(response)["issue"][0]["code"] == "not-found"
    by_identifier = bundle_for(world)
    by_identifier["entry"][1]["resource"]["performer"] = [
        {"identifier": {"system": codes.SITE_ID_SYSTEM, "value": str(world.center.pk)}}
    ]
    assert counts() == before
    assert post(client, by_identifier).status_code == 201


def test_an_open_referral_to_the_center_is_named(client: Client, world: World, tmp_media: Path) -> None:
    open_one = draft_referral(world)
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    login(client, world.community_coordinator)
    response = post(client, bundle_for(world, mrn=mrn, birth_date=str(world.shared_patient.date_of_birth)))
    assert response.status_code == 422
    assert f"#{open_one.pk}" in outcome(response)["issue"][0]["diagnostics"]


def test_method_media_type_and_size(client: Client, world: World, settings: Any) -> None:
    login(client, world.community_coordinator)
    response = client.get(URL)
    assert response.status_code == 405 and response["Allow"] == "POST"
    outcome(response)
    response = client.post(URL, data="<Bundle/>", content_type="application/fhir+xml")
    assert response.status_code == 415
    settings.REFERRAL_DOCUMENT_MAX_MB = 1
    response = client.post(URL, data="x" * (2 * 1024 * 1024 + 1), content_type=FHIR_JSON)
    assert response.status_code == 413
    assert outcome(response)["issue"][0]["code"] == "too-costly"
    # Plain JSON is taken as FHIR JSON.
    assert client.post(URL, data="{}", content_type="application/json").status_code == 400


def test_the_capability_statement_offers_the_transaction(client: Client) -> None:
    statement = json.loads(client.get(reverse("fhir-metadata")).content)
    assert [i["code"] for i in statement["rest"][0]["interaction"]] == ["transaction"]


def test_icd_10_codes_read_as_disease_areas() -> None:
    read = codes.disease_area_of_icd_10
    assert [read(c) for c in ["C83.38", "C83.3", "c82.90", "C82", "C83.10", "C90.00", "C91.10", "C88.4"]] == [
        "lbcl",
        "lbcl",
        "fl",
        "fl",
        "mcl",
        "multiple_myeloma",
        "cll_sll",
        "mzl",
    ]
    assert [read(c) for c in ["C91.00", "C83", "C820", "C83.8", ""]] == [None, None, None, None, None]
    assert set(codes.URGENCY_OF_PRIORITY.values()) == set(Referral.Urgency.values)
    assert {codes.URGENCY_OF_PRIORITY[p] for p in codes.REFERRAL_PRIORITY.values()} == set(codes.REFERRAL_PRIORITY)


def test_a_patient_the_practice_no_longer_shares_is_not_told_of(client: Client, world: World, tmp_media: Path) -> None:
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    care_team_end_site(actor=world.community_coordinator, link=link)
    login(client, world.community_coordinator)
    before = counts()
    for birth_date in (str(world.shared_patient.date_of_birth), "1901-01-01"):
        response = post(client, bundle_for(world, mrn=mrn, birth_date=birth_date))
        assert response.status_code == 422
        assert expressions(response) == {"Bundle.entry[0].resource.identifier"}
        assert "no longer shares" in outcome(response)["issue"][0]["diagnostics"]
    assert counts() == before


def test_an_unknown_physician_reads_as_one_from_elsewhere(client: Client, world: World, tmp_media: Path) -> None:
    login(client, world.community_coordinator)
    bundle = bundle_for(world)
    bundle["entry"][1]["resource"]["requester"]["identifier"]["value"] = "999999"
    unknown = outcome(post(client, bundle))["issue"]
    elsewhere = outcome(post(client, bundle_for(world, physician=world.center_coordinator)))["issue"]
    assert unknown == elsewhere


def test_a_bundle_larger_than_a_form_may_be_carries_its_documents(
    client: Client, world: World, tmp_media: Path, settings: Any
) -> None:
    """Django holds a form's body in memory up to DATA_UPLOAD_MAX_MEMORY_SIZE; a bundle's limit
    is its own (twice a document's), so a PDF of several megabytes arrives whole."""
    big = b"%PDF-1.4\n" + bytes(range(256)) * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 256 + 1)
    login(client, world.community_coordinator)
    response = post(client, bundle_for(world, documents=[("imaging", "pet-ct.pdf", big)]))
    assert response.status_code == 201, response.content[:300]
    (document,) = Referral.objects.get(fhir_intakes__value="REF-0001").documents.all()
    assert document.size == len(big) and document.file.read() == big
