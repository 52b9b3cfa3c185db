"""The candidate prompts where the practice works: the dashboard's "CAR-T candidates" filter and
badge, the patient page's section saying why, the referral prefilled from the history, and the
API; scoped like every patient record, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import IndicationRule
from candidates.services import transplant_candidacy_record
from carecoord.models import Patient
from referrals.services import referral_move
from referrals.workflow import Move
from tests.factories import first_line_vrd, patient_at
from tests.helpers import World, api, draft_referral, login, queries_of_get

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard")


def _line(world: World, patient: Patient, number: int = 1, **fields: Any) -> None:
    first_line_vrd(patient, world.community_coordinator, world.practice, number=number, **fields)


def _myeloma(world: World, *, refractory: bool, **fields: Any) -> Patient:
    patient = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, disease_area="multiple_myeloma", **fields
    )
    _line(world, patient, refractory=refractory)
    return patient


def _names(response: Any) -> list[str]:
    return [str(row.patient) for row in response.context["rows"]]


@pytest.fixture
def cohort(world: World) -> dict[str, Patient]:
    """A myeloma patient who meets Carvykti, one approaching it, one with no history."""
    return {
        "meets": _myeloma(world, refractory=True, family_name="Meetson"),
        "approaching": _myeloma(world, refractory=False, family_name="Nearson"),
        "none": patient_at(world.practice, world.community_coordinator, family_name="Quietson"),
    }


def test_the_candidates_filter_lists_who_meets_or_approaches(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    client = community_coordinator_client
    assert _names(client.get(DASHBOARD, {"candidates": "any"})) == ["Meetson, Test", "Nearson, Test"]
    assert _names(client.get(DASHBOARD, {"candidates": "meets"})) == ["Meetson, Test"]
    assert _names(client.get(DASHBOARD, {"candidates": "approaching"})) == ["Nearson, Test"]
    page = client.get(DASHBOARD).content.decode()
    assert "CAR-T candidate: Carvykti" in page and "Approaching CAR-T: Carvykti, Abecma" in page
    assert page.count("flag--candidate") == 1 and page.count("flag--approaching") == 1


def test_the_outsider_never_sees_another_sites_candidates(
    client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    login(client, world.outsider)
    response = client.get(DASHBOARD, {"candidates": "any"})
    assert response.status_code == 200 and _names(response) == []
    assert "Meetson" not in response.content.decode()


def test_an_administrator_retiring_a_rule_changes_the_list(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    for rule in IndicationRule.objects.filter(product__brand_name="Carvykti"):
        rule.is_active = False
        rule.save()  # as the admin saves it
    client = community_coordinator_client
    assert _names(client.get(DASHBOARD, {"candidates": "meets"})) == []
    # Still one step from Abecma (a next line with an anti-CD38 antibody).
    assert _names(client.get(DASHBOARD, {"candidates": "approaching"})) == ["Meetson, Test", "Nearson, Test"]


def test_a_patient_once_referred_leaves_the_candidates_filter_a_draft_does_not(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    """The filter is of whom to refer: a referral submitted, whatever became of it, takes the
    patient out; the patient page still says why."""
    client = community_coordinator_client
    draft = draft_referral(world, cohort["meets"])
    assert _names(client.get(DASHBOARD, {"candidates": "meets"})) == ["Meetson, Test"]
    referral_move(actor=world.community_coordinator, referral=draft, move=Move.SUBMIT)
    referral_move(actor=world.community_coordinator, referral=draft, move=Move.WITHDRAW)
    assert _names(client.get(DASHBOARD, {"candidates": "any"})) == ["Nearson, Test"]
    page = client.get(reverse("patient-detail", kwargs={"patient_id": cohort["meets"].pk})).content.decode()
    assert "Meets the Carvykti criterion" in page


def test_the_candidate_list_reads_a_fixed_number_of_queries(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    client = community_coordinator_client
    for asked in ({"candidates": "any"}, {}):
        client.get(DASHBOARD, asked)
        with CaptureQueriesContext(connection) as few:
            client.get(DASHBOARD, asked)
        for _ in range(8):
            patient = _myeloma(world, refractory=True)
            _line(world, patient, number=2, regimen="DPd", drug_classes=["anti_cd38", "imid"])
            transplant_candidacy_record(
                actor=world.community_coordinator, patient=patient, site=world.practice, status="no"
            )
        client.get(DASHBOARD, asked)
        with CaptureQueriesContext(connection) as many:
            response = client.get(DASHBOARD, asked)
        assert len(response.context["rows"]) >= 10
        assert len(many) == len(few), asked


def test_the_patient_page_says_why_and_offers_a_prefilled_referral(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    client = community_coordinator_client
    patient = cohort["meets"]
    transplant_candidacy_record(
        actor=world.community_coordinator, patient=patient, site=world.practice, status="no", reason="Frailty"
    )
    _line(
        world,
        patient,
        number=2,
        regimen="teclistamab",
        drug_classes=["bcma_bispecific"],
        lenalidomide=False,
        started_on=dt.date(2025, 9, 1),
        ended_on=dt.date(2026, 2, 1),
    )
    page = client.get(reverse("patient-detail", kwargs={"patient_id": patient.pk})).content.decode()
    assert "Meets the Carvykti criterion" in page and "lenalidomide-refractory (line 1, VRd)" in page
    assert "Carvykti (ciltacabtagene autoleucel) US prescribing information, April 2024" in page
    assert "Prior BCMA-directed therapy: BCMA-directed bispecific antibody in line 2, teclistamab" in page
    start = f"{reverse('referral-create')}?patient={patient.pk}"
    assert start in page
    form = client.get(start).context["form"]
    assert form.initial["disease_area"] == "multiple_myeloma" and form.initial["prior_lines_of_therapy"] == 2
    assert form.initial["transplant_eligibility"] == "ineligible"
    assert form.initial["prior_therapies"].splitlines() == [
        "Line 1: VRd (Proteasome inhibitor (PI), Immunomodulatory drug (IMiD), with lenalidomide); 06 Jan 2025 "
        "to ongoing; best response: not assessed yet; refractory.",
        "Line 2: teclistamab (BCMA-directed bispecific antibody); 01 Sep 2025 to 01 Feb 2026; best response: "
        "not assessed yet.",
    ]
    reason = form.initial["reason"]
    assert reason.startswith("Referred early for CAR-T evaluation. Possible products (the center decides): Carvykti")
    assert "(Source: Carvykti (ciltacabtagene autoleucel) US prescribing information, April 2024.)" in reason
    assert "Prior BCMA-directed therapy" in reason


def test_a_patient_without_history_has_no_prompt_and_no_prefill(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    patient = cohort["none"]
    page = community_coordinator_client.get(reverse("patient-detail", kwargs={"patient_id": patient.pk}))
    assert "No labelled use met or approached" in page.content.decode()
    form = community_coordinator_client.get(f"{reverse('referral-create')}?patient={patient.pk}").context["form"]
    assert "reason" not in form.initial and "prior_therapies" not in form.initial


def test_the_center_sees_the_prompt_without_the_referral_button(
    client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    login(client, world.center_coordinator)
    page = client.get(reverse("patient-detail", kwargs={"patient_id": cohort["meets"].pk})).content.decode()
    assert "Meets the Carvykti criterion" in page and "Start a referral" not in page


def test_the_patient_page_reads_a_fixed_number_of_queries_whatever_the_history(
    community_coordinator_client: Client, world: World, cohort: dict[str, Patient]
) -> None:
    patient = cohort["approaching"]
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    small = queries_of_get(community_coordinator_client, url)
    for number in range(2, 7):
        _line(world, patient, number=number, regimen=f"Line {number}", started_on=dt.date(2025, number, 1))
    transplant_candidacy_record(actor=world.community_coordinator, patient=patient, site=world.practice, status="no")
    assert queries_of_get(community_coordinator_client, url) == small


def test_the_api_says_whether_and_why_and_hides_it_from_the_outsider(world: World, cohort: dict[str, Patient]) -> None:
    url = reverse("api:patient-candidacy", kwargs={"patient_id": cohort["meets"].pk})
    body = api(world.center_coordinator).get(url).json()
    assert body["standing"] == "meets" and body["products"] == ["Carvykti"]
    (prompt,) = [p for p in body["prompts"] if p["standing"] == "meets"]
    assert prompt["product"] == "Carvykti" and "lenalidomide-refractory" in prompt["why"]
    assert prompt["label_source"].endswith("April 2024")
    quiet = reverse("api:patient-candidacy", kwargs={"patient_id": cohort["none"].pk})
    none = api(world.community_coordinator).get(quiet)
    assert none.json() == {"standing": None, "products": [], "prompts": [], "notes": []}
    assert api(world.outsider).get(url).status_code == 404
