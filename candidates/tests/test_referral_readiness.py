"""Referral readiness where the practice and the center work: the checklist of the referral
page, the form and the API marks what the center needs for the disease and what is on file, the
prior lines counting as on file once the treatment history holds them. Advisory, never a gate;
the outsider sees none of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from carecoord.models import Patient
from referrals.models import Referral
from referrals.services import referral_attach_document, referral_create
from referrals.workflow import State
from tests.factories import first_line_vrd, patient_at
from tests.helpers import REFERRAL_FIELDS, World, api, login

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ON_FILE = "1 line of therapy recorded in the treatment history"


def _myeloma_with_a_line(world: World) -> Patient:
    patient = patient_at(
        world.practice,
        world.community_coordinator,
        shared_with=world.center,
        disease_area="multiple_myeloma",
        family_name="Readyson",
    )
    first_line_vrd(patient, world.community_coordinator, world.practice, refractory=True)
    return patient


def _referral(world: World, patient: Patient, **fields: Any) -> Referral:
    return referral_create(
        actor=world.community_coordinator,
        patient=patient,
        from_site=world.practice,
        to_center=world.center,
        referring_physician=world.community_oncologist,
        **(REFERRAL_FIELDS | {"disease_area": "multiple_myeloma"} | fields),
    )


@pytest.fixture
def referral(world: World) -> Referral:
    return _referral(world, _myeloma_with_a_line(world))


def _detail(referral: Referral) -> str:
    return reverse("referral-detail", kwargs={"referral_id": referral.pk})


def test_the_referral_page_marks_what_the_center_needs_and_what_is_on_file(
    client: Client, world: World, referral: Referral
) -> None:
    login(client, world.center_coordinator)
    html = client.get(_detail(referral)).content.decode()
    assert html.count('<span class="flag flag--needed">needed</span>') == 4
    assert "The center looks for: bone marrow biopsy with the plasma-cell percentage" in html
    assert "The center looks for: SPEP with immunofixation, serum free light chains" in html
    assert f"On file: {ON_FILE}." in html
    assert "The center still needs: Pathology report, Imaging report, Recent lab results." in html
    assert (
        "Documents not attached: Pathology report, Imaging report, Recent lab results, History and physical, "
        "Insurance documents." in html
    )

    upload = SimpleUploadedFile("marrow.pdf", PDF, content_type="application/pdf")
    referral_attach_document(actor=world.community_coordinator, referral=referral, kind="pathology", upload=upload)
    html = client.get(_detail(referral)).content.decode()
    assert "The center still needs: Imaging report, Recent lab results." in html


def test_without_a_history_the_prior_lines_are_missing_until_a_document_says_them(client: Client, world: World) -> None:
    patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center, disease_area="b_all")
    referral = _referral(world, patient, disease_area="b_all")
    login(client, world.community_coordinator)
    html = client.get(_detail(referral)).content.decode()
    assert html.count('<span class="flag flag--needed">needed</span>') == 3  # no imaging for leukemia
    assert "The center still needs: Pathology report, Recent lab results, Prior therapies summary." in html
    assert "On file:" not in html
    for kind in ("pathology", "labs", "prior_therapies"):
        upload = SimpleUploadedFile(f"{kind}.pdf", PDF, content_type="application/pdf")
        referral_attach_document(actor=world.community_coordinator, referral=referral, kind=kind, upload=upload)
    html = client.get(_detail(referral)).content.decode()
    assert "Everything the center needs for B-cell acute lymphoblastic leukemia is on file." in html


def test_the_form_prefilled_for_a_patient_shows_the_diseases_needs_and_the_lines_on_file(
    client: Client, world: World
) -> None:
    patient = _myeloma_with_a_line(world)
    login(client, world.community_coordinator)
    html = client.get(reverse("referral-create"), {"patient": str(patient.pk)}).content.decode()
    assert f"On file for {patient.full_name}: {ON_FILE}." in html
    assert html.count("need--multiple_myeloma need--chosen") == 4
    assert "need--lbcl need--chosen" not in html
    # Without a patient chosen, the needs of every disease are there for the style to show.
    html = client.get(reverse("referral-create")).content.decode()
    assert "On file for" not in html and "need--chosen" not in html
    assert 'class="small need need--b_all"' in html


def test_the_api_gives_the_checklist_with_what_is_needed_and_on_file(world: World, referral: Referral) -> None:
    response = api(world.center_coordinator).get(f"/api/referrals/{referral.pk}/")
    assert response.status_code == 200
    items = {item["kind"]: item for item in response.json()["checklist"]}
    assert list(items) == ["pathology", "imaging", "labs", "history", "prior_therapies", "insurance"]
    assert items["prior_therapies"] | {"what": ""} == {
        "kind": "prior_therapies",
        "name": "Prior therapies summary",
        "needed": True,
        "what": "",
        "on_file": True,
        "documents": 0,
        "records": [ON_FILE],
    }
    assert items["pathology"]["needed"] and not items["pathology"]["on_file"]
    assert "bone marrow" in items["pathology"]["what"]
    assert not items["insurance"]["needed"] and items["insurance"]["what"] == ""
    listed = api(world.center_coordinator).get("/api/referrals/").json()["results"]
    assert "checklist" not in listed[0]  # the list gives summaries; the referral has its checklist


def test_nothing_on_file_never_stops_a_referral(world: World) -> None:
    patient = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, disease_area="multiple_myeloma"
    )
    referral = _referral(world, patient)
    response = api(world.community_coordinator).post(
        f"/api/referrals/{referral.pk}/move/", {"move": "submit"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == State.SUBMITTED
    assert not any(item["on_file"] for item in response.json()["checklist"])


def test_the_outsider_sees_neither_the_checklist_nor_the_history_behind_it(
    client: Client, world: World, referral: Referral
) -> None:
    login(client, world.outsider)
    response = client.get(_detail(referral))
    assert response.status_code == 404 and "treatment history" not in response.content.decode()
    answer = api(world.outsider).get(f"/api/referrals/{referral.pk}/")
    assert answer.status_code == 404 and "checklist" not in answer.json()
    html = client.get(reverse("referral-create"), {"patient": str(referral.patient_id)}).content.decode()
    assert "On file for" not in html
