"""The FHIR export of one patient: every resource type, each valid R4 (re-parsed with the
`fhir.resources` R4B models), the access rule and audit of the pages, and a fixed number of
queries whatever the size of the record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from audit.models import AuditEntry
from carecoord.models import TimelineEntry
from fhir_api import codes
from fhir_api.export import RESOURCE_TYPES
from referrals.models import Milestone
from referrals.workflow import State
from tests.factories import death_on_file
from tests.helpers import (
    World,
    another_record,
    api_token_header,
    draft_handoff,
    grow_record,
    login,
    queries_of_get,
    small_record,
)
from toxicity.models import ToxicityEvent, ToxicityTreatment

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


def everything_url(world: World) -> str:
    return reverse("fhir-everything", kwargs={"patient_id": world.shared_patient.pk})


def parsed(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
    body: dict[str, Any] = json.loads(response.content)
    return body


def revalidated(resource: dict[str, Any]) -> Any:
    """The resource parsed back with its R4B model: raises if it is not valid FHIR."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle.get("entry", []):
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def test_everything_holds_every_type_and_each_resource_is_valid(client: Client, world: World, tmp_media: Path) -> None:
    record = small_record(world)
    authorization = Milestone.objects.filter(referral__patient=world.shared_patient, kind="insurance_authorization")
    authorization.update(note="Ask for the expedited review", done_note="Approved by phone")
    login(client, world.community_oncologist)
    response = client.get(everything_url(world))
    assert response.status_code == 200
    bundle = parsed(response)
    revalidated(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle["entry"])
    found = by_type(bundle)
    assert set(found) == set(RESOURCE_TYPES)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        revalidated(resource)
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")

    (patient,) = found["Patient"]
    mrns = {i["system"]: i["value"] for i in patient["identifier"] if i["system"].endswith(":mrn")}
    expected = {f"urn:carecoord:site:{i.site_id}:mrn": i.mrn for i in world.shared_patient.identifiers.all()}
    assert mrns == expected and expected
    assert {o["name"] for o in found["Organization"]} >= {world.center.name, world.practice.name}

    (task,) = found["Task"]
    assert task["status"] == "accepted"
    assert task["businessStatus"]["coding"][0]["code"] == "accepted"
    history = {ref["reference"] for ref in task["relevantHistory"]}
    provenances = {f"Provenance/{p['id']}" for p in found["Provenance"]}
    assert history and history <= provenances
    (request,) = found["ServiceRequest"]
    assert request["status"] == "active"
    assert request["performer"][0]["reference"] == f"Organization/{world.center.pk}"

    (plan,) = found["CarePlan"]
    activities = {a["detail"]["code"]["coding"][0]["code"]: a for a in plan["activity"]}
    done = activities["insurance_authorization"]
    assert done["detail"]["status"] == "completed"
    assert done["detail"]["extension"][0]["valueDate"]
    # Both notes: the plan's as the description, the one written when it was done with its progress.
    assert done["detail"]["description"] == "Ask for the expedited review"
    assert done["progress"][0]["text"].endswith(": done. Approved by phone")
    assert activities["manufacturing_release"]["detail"]["status"] == "scheduled"
    assert activities["manufacturing_release"]["detail"]["scheduledPeriod"]["start"]

    event = ToxicityEvent.objects.get(patient=world.shared_patient)
    (adverse,) = found["AdverseEvent"]
    assert adverse["event"]["coding"][0]["code"] == "crs"
    grades = {c["system"]: c["code"] for c in adverse["severity"]["coding"]}
    assert grades["urn:carecoord:astct-grade"] == str(event.grade) == "3"
    assert grades["http://terminology.hl7.org/CodeSystem/adverse-event-severity"] == "severe"
    assert adverse["outcome"]["coding"][0]["code"] == "ongoing"
    (medication,) = found["MedicationAdministration"]
    assert medication["medicationCodeableConcept"]["coding"][0]["code"] == "tocilizumab"
    assert medication["supportingInformation"][0]["reference"] == f"AdverseEvent/{event.pk}"

    (message,) = found["Communication"]
    assert message["payload"][0]["contentString"] == "Message 0"
    documents = {d["id"]: d for d in found["DocumentReference"]}
    referral_document = record.referral.documents.get()
    download = documents[f"referral-document-{referral_document.pk}"]["content"][0]["attachment"]["url"]
    assert download.endswith(reverse("api:document-download", kwargs={"document_id": referral_document.pk}))
    assert "data" not in documents[f"referral-document-{referral_document.pk}"]["content"][0]["attachment"]
    assert any(d.startswith("handoff-") for d in documents)
    assert {r["organization"]["reference"] for r in found["PractitionerRole"]} >= {f"Organization/{world.practice.pk}"}
    (team,) = found["CareTeam"]
    assert {p["member"]["reference"] for p in team["participant"]} >= {
        f"Organization/{world.center.pk}",
        f"Organization/{world.practice.pk}",
    }
    # Every timeline entry, with who did it on behalf of which site.
    assert len(found["Provenance"]) == TimelineEntry.objects.filter(patient=world.shared_patient).count()
    comment = TimelineEntry.objects.get(patient=world.shared_patient, kind="comment")
    (of_comment,) = [p for p in found["Provenance"] if p["id"] == str(comment.pk)]
    assert of_comment["target"][0]["reference"] == f"Communication/{comment.pk}"
    assert of_comment["agent"][0]["onBehalfOf"]["reference"] == f"Organization/{comment.site_id}"


def test_everything_is_audited_as_a_read_naming_fhir(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    login(client, world.center_coordinator)
    before = AuditEntry.objects.count()
    assert client.get(everything_url(world)).status_code == 200
    (entry,) = AuditEntry.objects.order_by("-pk")[: AuditEntry.objects.count() - before]
    assert entry.action == AuditEntry.Action.VIEW
    assert entry.patient_id == world.shared_patient.pk
    assert entry.actor == world.center_coordinator
    assert "FHIR" in entry.what


def test_a_token_reads_as_the_api_does(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    response = client.get(everything_url(world), HTTP_AUTHORIZATION=api_token_header(world.center_coordinator))
    assert response.status_code == 200
    assert parsed(response)["total"] > 10
    assert AuditEntry.objects.filter(actor=world.center_coordinator, what__contains="FHIR").exists()


def test_anonymous_gets_401_outcome(client: Client, world: World) -> None:
    response = client.get(everything_url(world))
    assert response.status_code == 401
    assert parsed(response)["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"] == "Token"


def test_outsider_gets_404_outcome_and_no_data(client: Client, world: World, tmp_media: Path) -> None:
    record = small_record(world)
    login(client, world.outsider)
    event = ToxicityEvent.objects.get(patient=world.shared_patient)
    urls = [
        everything_url(world),
        reverse("fhir-patient", kwargs={"patient_id": world.shared_patient.pk}),
        reverse("fhir-task", kwargs={"referral_id": record.referral.pk}),
        reverse("fhir-adverseevent", kwargs={"event_id": event.pk}),
        reverse("fhir-adverseevent-search") + f"?patient={world.shared_patient.pk}",
    ]
    before = AuditEntry.objects.count()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        body = parsed(response)
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "not-found"
        assert world.shared_patient.family_name not in response.content.decode()
        assert str(world.shared_patient.pk) not in response.content.decode()
    assert AuditEntry.objects.count() == before


def test_unknown_type_or_id_is_a_404_outcome(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    for url in ["/fhir/Observation/1", "/fhir/Observation", "/fhir/Patient/not-a-uuid", "/fhir/Task/999999"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert parsed(response)["issue"][0]["code"] == "not-found"


def test_read_each_resource_of_everything_by_its_id(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    login(client, world.community_coordinator)
    bundle = parsed(client.get(everything_url(world)))
    for entry in bundle["entry"]:
        response = client.get(entry["fullUrl"])
        assert response.status_code == 200, entry["fullUrl"]
        assert parsed(response) == entry["resource"]


def test_search_by_patient(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    another_record(world)
    login(client, world.center_coordinator)
    url = reverse("fhir-adverseevent-search")
    bundle = parsed(client.get(url, {"patient": str(world.shared_patient.pk)}))
    revalidated(bundle)
    events = ToxicityEvent.objects.filter(patient=world.shared_patient)
    assert {e["resource"]["id"] for e in bundle["entry"]} == {str(e.pk) for e in events}
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"AdverseEvent"}
    # The reference form, and Patient by _id.
    again = parsed(client.get(url, {"patient": f"Patient/{world.shared_patient.pk}"}))
    assert again["total"] == bundle["total"]
    patients = parsed(client.get(reverse("fhir-patient-search"), {"_id": str(world.shared_patient.pk)}))
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(world.shared_patient.pk)]
    missing = client.get(url)
    assert missing.status_code == 400
    assert parsed(missing)["issue"][0]["code"] == "required"


def test_icu_transfer_is_not_a_medication(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    event = ToxicityEvent.objects.get(patient=world.shared_patient)
    transfer = ToxicityTreatment.objects.create(
        event=event,
        kind="icu_transfer",
        given_at=event.onset_at,
        recorded_by=world.center_coordinator,
        site=world.center,
    )
    login(client, world.center_coordinator)
    assert client.get(reverse("fhir-medicationadministration", kwargs={"treatment_id": transfer.pk})).status_code == 404


def test_metadata_is_a_public_capability_statement(client: Client) -> None:
    response = client.get(reverse("fhir-metadata"))
    assert response.status_code == 200
    statement = parsed(response)
    revalidated(statement)
    assert statement["fhirVersion"] == "4.0.1"
    served = {resource["type"] for resource in statement["rest"][0]["resource"]}
    assert served == set(RESOURCE_TYPES)


def test_json_only(client: Client, world: World) -> None:
    for asked in ({"_format": "xml"}, {"_format": "application/fhir+xml"}):
        response = client.get(reverse("fhir-metadata"), asked)
        assert response.status_code == 406
        assert parsed(response)["issue"][0]["code"] == "not-supported"
    assert client.get(reverse("fhir-metadata"), HTTP_ACCEPT="application/fhir+xml").status_code == 406
    assert client.get(reverse("fhir-metadata"), HTTP_ACCEPT="application/fhir+json").status_code == 200
    assert client.get(reverse("fhir-metadata"), {"_format": "json"}).status_code == 200


def test_read_only(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    response = client.post(everything_url(world), data={}, content_type=FHIR_JSON)
    assert response.status_code == 405
    assert parsed(response)["resourceType"] == "OperationOutcome"


def test_everything_runs_a_fixed_number_of_queries(client: Client, world: World, tmp_media: Path) -> None:
    record = small_record(world)
    login(client, world.center_coordinator)
    url = everything_url(world)
    client.get(url)
    small = queries_of_get(client, url)
    size = len(parsed(client.get(url))["entry"])
    grow_record(record)
    another_record(world)
    grown = queries_of_get(client, url)
    assert len(parsed(client.get(url))["entry"]) > size * 2
    assert grown == small


def test_every_referral_state_and_outcome_has_its_fhir_code() -> None:
    for table in (codes.TASK_STATUS, codes.SERVICE_REQUEST_STATUS, codes.CARE_PLAN_STATUS):
        assert table.keys() == set(State)
    assert codes.ADVERSE_EVENT_OUTCOMES.keys() == set(ToxicityEvent.Outcome.values)
    assert [codes.severity_of(grade) for grade in range(6)] == [
        None,
        ("mild", "Mild"),
        ("moderate", "Moderate"),
        ("severe", "Severe"),
        ("severe", "Severe"),
        ("severe", "Severe"),
    ]


def test_a_revoked_token_gets_401_outcome(client: Client, world: World) -> None:
    header = api_token_header(world.center_coordinator)
    world.center_coordinator.api_tokens.update(revoked_at=timezone.now())
    response = client.get(everything_url(world), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert parsed(response)["issue"][0]["code"] == "login"


def test_a_token_downloads_the_handoff_pdf_a_document_reference_points_at(
    client: Client, world: World, tmp_media: Path
) -> None:
    small_record(world)
    draft_handoff(world)
    header = api_token_header(world.center_coordinator)
    bundle = parsed(client.get(everything_url(world), HTTP_AUTHORIZATION=header))
    handoffs = [e["resource"] for e in bundle["entry"] if e["resource"]["id"].startswith("handoff-")]
    sent = [h for h in handoffs if h["docStatus"] == "final"]
    assert sent
    before = AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD).count()
    response = client.get(sent[0]["content"][0]["attachment"]["url"], HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD).count() == before + 1
    drafts = [h for h in handoffs if h["docStatus"] == "preliminary"]
    assert drafts
    for draft in drafts:
        assert client.get(draft["content"][0]["attachment"]["url"], HTTP_AUTHORIZATION=header).status_code == 409
    # The outsider's token reaches nothing of it.
    outsider = api_token_header(world.outsider)
    assert client.get(sent[0]["content"][0]["attachment"]["url"], HTTP_AUTHORIZATION=outsider).status_code == 404


def test_searchsets_page_with_count_and_next_links(client: Client, world: World, tmp_media: Path) -> None:
    record = small_record(world)
    grow_record(record)
    login(client, world.center_coordinator)
    url = everything_url(world)
    whole = parsed(client.get(url))
    assert [link["relation"] for link in whole["link"]] == ["self"]  # no _count: one page, as before
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in whole["entry"]]
    assert len(ids) > 10
    paged: list[tuple[str, str]] = []
    next_url: str | None = f"{url}?_count=4"
    pages = 0
    while next_url:
        page = parsed(client.get(next_url))
        revalidated(page)
        assert page["total"] == len(ids) and len(page.get("entry", [])) <= 4
        paged += [(e["resource"]["resourceType"], e["resource"]["id"]) for e in page.get("entry", [])]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert links["first"].endswith("_count=4&_offset=0") and "last" in links
        assert ("previous" in links) == (pages > 0)
        next_url = links.get("next")
        pages += 1
    assert paged == ids and pages == -(-len(ids) // 4)
    # A page costs what the whole does: the record is read in its fixed number of queries.
    assert queries_of_get(client, f"{url}?_count=4&_offset=8") == queries_of_get(client, url)
    # A search pages the same way; _count=0 gives the total alone.
    search = reverse("fhir-provenance-search")
    only_total = parsed(client.get(search, {"patient": str(world.shared_patient.pk), "_count": "0"}))
    assert only_total["total"] > 2 and "entry" not in only_total
    second = parsed(client.get(search, {"patient": str(world.shared_patient.pk), "_count": "2", "_offset": "2"}))
    assert len(second["entry"]) == 2 and {link["relation"] for link in second["link"]} >= {"previous", "next"}
    for wrong in ("-1", "two", "1.5"):
        response = client.get(search, {"patient": str(world.shared_patient.pk), "_count": wrong})
        assert response.status_code == 400 and parsed(response)["issue"][0]["code"] == "invalid"


def test_a_recorded_death_is_the_patients_deceased_date(client: Client, world: World, tmp_media: Path) -> None:
    small_record(world)
    login(client, world.community_oncologist)
    (alive,) = by_type(parsed(client.get(everything_url(world))))["Patient"]
    assert "deceasedDateTime" not in alive
    death_on_file(world.shared_patient, world.practice, world.community_oncologist, dt.date(2026, 11, 30))
    (patient,) = by_type(parsed(client.get(everything_url(world))))["Patient"]
    assert patient["deceasedDateTime"] == "2026-11-30"
    revalidated(patient)
