"""Lines of therapy sent with a referral bundle (`POST /fhir/Bundle`): MedicationStatements (the
drugs of each numbered line) and Procedures (a stem-cell transplant) become the patient's lines,
with their drug classes, in the intake's transaction, audited, once; the candidacy they make is
shown; a bad one is refused naming its element, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from candidates.drug_classes import DrugClass
from candidates.drugs import ATC, RXNORM, classes_of, drug_of_code, drug_of_name
from candidates.models import CandidateStanding, TherapyLine
from candidates.services import therapy_line_record
from carecoord.models import Patient, PatientIdentifier
from fhir_api import codes
from fhir_api.models import ReferralIntake
from referrals.models import Referral
from tests.helpers import World, api_token_header, referral_bundle

pytestmark = pytest.mark.django_db

URL = reverse("fhir-bundle")
PATIENT_URL = "urn:uuid:6f1d0c3e-0000-4000-8000-000000000001"  # the Patient's fullUrl in `referral_bundle`


def statement(line: int | None, drug: dict[str, Any], start: str, end: str | None = None, **extensions: Any) -> Any:
    """A drug of a line, as an EHR states what the patient received."""
    period = {"start": start} | ({"end": end} if end else {})
    urls = {
        "regimen": (codes.REGIMEN, "valueString"),
        "best_response": (codes.BEST_RESPONSE, "valueCode"),
        "refractory": (codes.REFRACTORY, "valueBoolean"),
        "progressed_on": (codes.PROGRESSION_DATE, "valueDate"),
    }
    extension = [{"url": codes.LINE_OF_THERAPY, "valueInteger": line}] if line is not None else []
    extension += [{"url": urls[name][0], urls[name][1]: value} for name, value in extensions.items()]
    return {
        "resourceType": "MedicationStatement",
        "extension": extension,
        "status": "completed" if end else "active",
        "medicationCodeableConcept": drug,
        "subject": {"reference": PATIENT_URL},
        "effectivePeriod": period,
    }


def transplant(line: int, code: str, on: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "extension": [{"url": codes.LINE_OF_THERAPY, "valueInteger": line}],
        "status": "completed",
        "code": {"coding": [{"system": codes.CPT, "code": code}]},
        "subject": {"reference": PATIENT_URL},
        "performedDateTime": on,
    }


def rxnorm(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": RXNORM, "code": code, "display": display}]}


R_CHOP = [
    statement(
        1,
        rxnorm("121191", "rituximab"),
        "2025-01-06",
        "2025-04-21",
        regimen="R-CHOP",
        best_response="partial",
        refractory=True,
        progressed_on="2025-05-20",
    ),
    statement(1, {"coding": [{"system": ATC, "code": "L01AA01"}]}, "2025-01-06", "2025-04-21"),
    statement(1, {"text": "DOXOrubicin 50 mg/m2 IV"}, "2025-01-06", "2025-04-21"),
    statement(1, rxnorm("11202", "vincristine"), "2025-01-06", "2025-04-21"),
    statement(1, rxnorm("8640", "predniSONE"), "2025-01-06", "2025-04-25"),
]
# Salvage, then an autologous transplant; one drug carecoord does not know.
SALVAGE = [
    statement(2, rxnorm("121191", "rituximab"), "2025-06-02", regimen="R-ICE then ASCT"),
    statement(2, {"text": "Ifosfamide"}, "2025-06-02", "2025-07-14"),
    statement(2, {"text": "Investigational XR-17"}, "2025-06-02", "2025-07-14"),
    transplant(2, "38241", "2025-08-20"),
]


def with_lines(world: World, *resources: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"mrn_site": world.practice, "mrn": "RB-LINES-1", "center": world.center}
    bundle = referral_bundle(**(values | {"physician": world.community_oncologist} | kwargs))
    bundle["entry"] += [
        {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}} for resource in resources
    ]
    return bundle


def post(client: Client, bundle: dict[str, Any], user: Any) -> Any:
    return client.post(
        URL, data=json.dumps(bundle), content_type="application/fhir+json", HTTP_AUTHORIZATION=api_token_header(user)
    )


def written() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Referral.objects.count(),
        ReferralIntake.objects.count(),
        TherapyLine.objects.count(),
        AuditEntry.objects.filter(object_type="candidates.therapyline").count(),
    )


def issues_of(response: Any) -> dict[str, str]:
    body = json.loads(response.content)
    assert body["resourceType"] == "OperationOutcome", body
    return {expression: issue["diagnostics"] for issue in body["issue"] for expression in issue.get("expression", [])}


def test_lines_sent_with_a_referral_are_recorded_and_make_the_candidacy(
    client: Client, world: World, tmp_media: Path
) -> None:
    coordinator = world.community_coordinator
    response = post(client, with_lines(world, *R_CHOP, *SALVAGE), coordinator)
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(fhir_intakes__value="REF-0001")
    patient = referral.patient
    first, second = TherapyLine.objects.filter(patient=patient).order_by("number")
    assert (first.regimen, first.drug_classes, first.lenalidomide) == ("R-CHOP", ["chemoimmunotherapy"], False)
    assert (str(first.started_on), str(first.ended_on), str(first.progressed_on)) == (
        "2025-01-06",
        "2025-04-25",
        "2025-05-20",
    )
    assert (first.best_response, first.refractory) == ("partial", True)
    # Rituximab goes on (no end): the line is ongoing; the unknown drug makes it Other too.
    assert second.regimen == "R-ICE then ASCT" and second.ended_on is None
    assert second.drug_classes == ["chemoimmunotherapy", "autologous_transplant", "other"]
    assert (second.best_response, second.refractory, second.progressed_on) == ("not_assessed", False, None)
    # Recorded for the practice by the sender, audited in the intake's transaction.
    assert {(line.site, line.recorded_by) for line in (first, second)} == {(world.practice, coordinator)}
    audits = AuditEntry.objects.filter(object_type="candidates.therapyline", action=AuditEntry.Action.CREATE)
    assert {(a.object_id, a.actor_id, a.site_id, a.patient_id) for a in audits} == {
        (str(line.pk), coordinator.pk, world.practice.pk, patient.pk) for line in (first, second)
    }

    # Each statement's answer: 201, and the drug not recognised says so, on its element.
    answer = [entry["response"] for entry in json.loads(response.content)["entry"]]
    statements = answer[-len(R_CHOP) - len(SALVAGE) :]
    assert {r["status"] for r in statements} == {"201 Created"}
    unknown = len(answer) - 2  # the investigational drug, before the transplant
    warned = {i: r["outcome"]["issue"] for i, r in enumerate(answer) if "outcome" in r}
    assert list(warned) == [unknown]
    (warning,) = warned[unknown]
    assert warning["severity"] == "warning" and "class Other" in warning["diagnostics"]
    assert warning["expression"] == [f"Bundle.entry[{unknown}].resource.medicationCodeableConcept"]

    # Refractory to first-line chemoimmunotherapy (LBCL): the practice sees a candidate.
    candidacy = client.get(
        reverse("api:patient-candidacy", kwargs={"patient_id": patient.pk}),
        HTTP_AUTHORIZATION=api_token_header(coordinator),
    ).json()
    assert candidacy["standing"] == "meets" and "Yescarta" in candidacy["products"]
    # And the dashboard's filter and badge, which read the cached standing, show it too.
    standing = CandidateStanding.objects.get(patient=patient)
    assert standing.standing == "meets" and "Yescarta" in standing.products

    # Sent again (a retry): the same answers, nothing written twice.
    before = written()
    again = post(client, with_lines(world, *R_CHOP, *SALVAGE), coordinator)
    assert again.status_code == 200, again.content
    assert written() == before
    repeated = [entry["response"] for entry in json.loads(again.content)["entry"]]
    assert {r["status"] for r in repeated} == {"200 OK"}
    assert [i for i, r in enumerate(repeated) if "outcome" in r] == [unknown]


def test_a_line_the_patient_already_has_is_kept_and_the_answer_says_so(
    client: Client, world: World, tmp_media: Path
) -> None:
    patient = world.shared_patient
    kept = therapy_line_record(
        actor=world.community_coordinator,
        patient=patient,
        site=world.practice,
        number=1,
        regimen="R-CHOP (as the practice entered it)",
        drug_classes=["chemoimmunotherapy"],
        started_on=patient.date_of_birth.replace(year=2025, month=1, day=6),
    )
    mrn = PatientIdentifier.objects.get(patient=patient, site=world.practice).mrn
    bundle = with_lines(world, *R_CHOP, *SALVAGE, mrn=mrn, birth_date=str(patient.date_of_birth))
    response = post(client, bundle, world.community_coordinator)
    assert response.status_code == 201, response.content
    lines = list(TherapyLine.objects.filter(patient=patient).order_by("number"))
    assert lines[0].pk == kept.pk and lines[0].regimen == "R-CHOP (as the practice entered it)"
    assert [line.number for line in lines] == [1, 2]
    answer = [entry["response"] for entry in json.loads(response.content)["entry"]]
    first = len(answer) - len(R_CHOP) - len(SALVAGE)
    assert [r["status"] for r in answer[first : first + len(R_CHOP)]] == ["200 OK"] * len(R_CHOP)
    assert "already recorded" in answer[first]["outcome"]["issue"][0]["diagnostics"]
    assert {r["status"] for r in answer[first + len(R_CHOP) :]} == {"201 Created"}


def test_bad_line_resources_are_refused_naming_each_element_and_nothing_is_written(
    client: Client, world: World, tmp_media: Path
) -> None:
    before = written()
    foreign = statement(2, rxnorm("342369", "lenalidomide"), "2025-06-01")
    foreign["subject"] = {"reference": "Patient/someone-else"}
    bundle = with_lines(
        world,
        statement(None, rxnorm("358258", "bortezomib"), "2025-01-06"),  # which line?
        statement(1, {"text": "lenalidomide"}, "2025-03"),  # a month, not a date
        statement(1, {"text": "dexamethasone"}, "2025-01-06", "2024-12-01"),  # ends before it starts
        statement(1, {"text": "daratumumab"}, "2025-01-06", best_response="marvellous", progressed_on="2025-09"),
        foreign,
        transplant(3, "99999", "2025-08-20"),  # not a transplant
    )
    response = post(client, bundle, world.community_coordinator)
    assert response.status_code == 400, response.content
    problems = issues_of(response)
    assert set(problems) == {
        f"Bundle.entry[4].resource.extension('{codes.LINE_OF_THERAPY}')",
        "Bundle.entry[5].resource.effectivePeriod.start",
        "Bundle.entry[6].resource.effectivePeriod.end",
        f"Bundle.entry[7].resource.extension('{codes.BEST_RESPONSE}')",
        f"Bundle.entry[7].resource.extension('{codes.PROGRESSION_DATE}')",
        "Bundle.entry[8].resource.subject",
        "Bundle.entry[9].resource.code",
    }
    assert written() == before


def test_a_line_the_services_refuse_names_its_element_and_nothing_is_written(
    client: Client, world: World, tmp_media: Path
) -> None:
    # Before the patient's birth (1961): valid FHIR, a rule of the treatment history (422).
    before = written()
    response = post(
        client, with_lines(world, statement(1, {"text": "Rituximab"}, "1960-01-04")), world.community_coordinator
    )
    assert response.status_code == 422, response.content
    assert set(issues_of(response)) == {"Bundle.entry[4].resource.effectivePeriod.start"}
    assert written() == before


def test_the_outsider_records_no_line_on_a_patient_not_theirs(client: Client, world: World, tmp_media: Path) -> None:
    patient = world.shared_patient
    mrn = PatientIdentifier.objects.get(patient=patient, site=world.practice).mrn
    before = written()
    # The shared patient's MRN at the practice: the outsider's practice is not that one.
    bundle = with_lines(world, *R_CHOP, mrn=mrn, birth_date=str(patient.date_of_birth))
    response = post(client, bundle, world.outsider)
    assert response.status_code == 422
    assert set(issues_of(response)) == {"Bundle.entry[0].resource.identifier"}
    # The center refers no one: refused before the body is read.
    assert post(client, bundle, world.center_coordinator).status_code == 403
    assert written() == before and not TherapyLine.objects.filter(patient=patient).exists()
    # Lines the practice sent are not the outsider's to read.
    assert post(client, with_lines(world, *R_CHOP), world.community_coordinator).status_code == 201
    outsider = client.get(reverse("api:therapy-line-list"), HTTP_AUTHORIZATION=api_token_header(world.outsider))
    assert outsider.status_code == 200 and outsider.json()["results"] == []


@pytest.mark.parametrize(
    ("drug", "kind"),
    [
        (drug_of_code(RXNORM, "342369"), DrugClass.IMID),
        (drug_of_code(ATC, "l01xg01"), DrugClass.PI),
        (drug_of_code(ATC, "L01FC01"), DrugClass.ANTI_CD38),
        (drug_of_name("Revlimid 25 MG Oral Capsule"), DrugClass.IMID),
        (drug_of_name("TECVAYLI 10 mg/mL"), DrugClass.BCMA_BISPECIFIC),
        (drug_of_name("belantamab mafodotin-blmf"), DrugClass.BCMA_CONJUGATE),
        (drug_of_name("glofitamab-gxbm"), DrugClass.CD20XCD3_BISPECIFIC),
        (drug_of_name("ibrutinib 420 mg"), DrugClass.BTK_INHIBITOR),
        (drug_of_name("Venetoclax"), DrugClass.BCL2_INHIBITOR),
    ],
)
def test_common_drugs_are_read_as_their_class(drug: Any, kind: str) -> None:
    assert drug is not None and drug.kind == kind


def test_a_regimen_s_classes_come_from_its_drugs() -> None:
    def named(*names: str) -> list[Any]:
        return [drug_of_name(name) for name in names]

    assert drug_of_name("R-CHOP") is None and drug_of_name("Xanadu-mab") is None
    assert classes_of(named("rituximab", "bendamustine")) == ["chemoimmunotherapy"]
    assert classes_of(named("bortezomib", "lenalidomide", "dexamethasone")) == ["pi", "imid"]
    assert classes_of(named("rituximab")) == ["other"]
    assert classes_of(named("dexamethasone")) == ["other"]
    assert classes_of(named("melphalan"), also=["autologous_transplant"]) == ["autologous_transplant"]
    assert classes_of(named("daratumumab"), unknown=True) == ["anti_cd38", "other"]
