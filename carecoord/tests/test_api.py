"""The REST API: who sees what through it, what each role may change, and 400s for bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIClient

from carecoord.api.errors import exception_handler
from carecoord.api.filters import AskedFiltersBackend
from carecoord.api.views import PatientViewSet
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson
from carecoord.roles import Capability, Role
from carecoord.services.care_teams import care_team_name_point_person
from carecoord.services.memberships import membership_start
from referrals.workflow import Move
from tests.factories import member, patient_at
from tests.helpers import (
    World,
    advance,
    another_record,
    api,
    api_token_header,
    draft_referral,
    grow_record,
    results,
    small_record,
)

pytestmark = pytest.mark.django_db

ALL_CAPABILITIES = sorted(Capability.values)


def patient_ids(response: Any) -> set[str]:
    return {row["id"] for row in results(response)}


def new_patient_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "site": world.center.pk,
        "mrn": "C-000123",
        "given_name": "Nadia",
        "family_name": "Newcase",
        "date_of_birth": "1971-03-09",
        "sex": "female",
        "disease_area": "lbcl",
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def link_of(patient: Patient, site: Any) -> CareTeamLink:
    return CareTeamLink.objects.open().get(patient=patient, site=site)


# --- Authentication -------------------------------------------------------------------------


def test_token_authenticates_api_requests(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.center_coordinator))
    assert patient_ids(client.get("/api/patients/")) == {str(world.shared_patient.pk)}


def test_bad_token_is_refused(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/patients/").status_code in {401, 403}


@pytest.mark.parametrize(
    "url", ["/api/sites/", "/api/memberships/", "/api/patients/", "/api/care-team-links/", "/api/point-persons/"]
)
def test_anonymous_request_is_refused(world: World, url: str) -> None:
    assert APIClient().get(url).status_code in {401, 403}


def test_anonymous_gets_no_patient_even_by_id(world: World) -> None:
    assert APIClient().get(f"/api/patients/{world.shared_patient.pk}/").status_code in {401, 403}


# --- Sites and memberships ------------------------------------------------------------------


def test_site_directory_lists_every_site_to_everyone(world: World) -> None:
    names = {row["name"] for row in results(api(world.outsider).get("/api/sites/"))}
    assert names == {world.center.name, world.practice.name, world.unrelated_practice.name}


def test_site_directory_filters_by_kind(world: World) -> None:
    rows = results(api(world.outsider).get("/api/sites/", {"kind": "academic_center"}))
    assert [row["id"] for row in rows] == [world.center.pk]


def test_site_directory_rejects_unknown_kind_with_400(world: World) -> None:
    response = api(world.outsider).get("/api/sites/", {"kind": "hospital"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_site_retrieve_shows_24_7_number(world: World) -> None:
    response = api(world.outsider).get(f"/api/sites/{world.center.pk}/")
    assert response.status_code == 200
    assert response.json()["phone_24_7"] == "+1 555 100 2400"


def test_unknown_site_is_404(world: World) -> None:
    assert api(world.outsider).get("/api/sites/999999/").status_code == 404


def test_memberships_list_only_the_users_own(world: World) -> None:
    rows = results(api(world.community_oncologist).get("/api/memberships/"))
    assert [(row["site"]["id"], row["role"], row["is_active"]) for row in rows] == [
        (world.practice.pk, Role.PHYSICIAN, True)
    ]


def test_outsider_gets_404_for_someone_elses_membership(world: World) -> None:
    theirs = world.center_coordinator.memberships.get()
    assert api(world.outsider).get(f"/api/memberships/{theirs.pk}/").status_code == 404


def test_user_retrieves_own_membership(world: World) -> None:
    mine = world.outsider.memberships.get()
    response = api(world.outsider).get(f"/api/memberships/{mine.pk}/")
    assert response.status_code == 200
    assert response.json()["site"]["name"] == world.unrelated_practice.name


# --- Patients: who sees what ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("center_coordinator", {"shared_patient"}),
        ("community_oncologist", {"shared_patient"}),
        ("community_coordinator", {"shared_patient"}),
        ("outsider", {"foreign_patient"}),
    ],
)
def test_patient_list_shows_each_persona_only_their_care_teams_patients(
    world: World, persona: str, expected: set[str]
) -> None:
    response = api(getattr(world, persona)).get("/api/patients/")
    assert patient_ids(response) == {str(getattr(world, name).pk) for name in expected}


def test_outsider_never_sees_shared_patient_in_list(world: World) -> None:
    body = api(world.outsider).get("/api/patients/").content.decode()
    assert str(world.shared_patient.pk) not in body
    assert "Sharedcare" not in body


def test_patient_shows_care_team_identifiers_and_capabilities(world: World) -> None:
    center_link = link_of(world.shared_patient, world.center)
    care_team_name_point_person(
        actor=world.center_coordinator, link=center_link, user=world.center_coordinator, rank="primary"
    )
    response = api(world.center_coordinator).get(f"/api/patients/{world.shared_patient.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["family_name"] == "Sharedcare"
    assert body["phase"] == "referral"
    assert body["capabilities"] == ALL_CAPABILITIES
    team = {row["site"]["name"]: row for row in body["care_team"]}
    assert team[world.center.name]["capacity"] == "treating_center"
    assert team[world.practice.name]["capacity"] == "community_practice"
    assert [(p["rank"], p["user"]["full_name"]) for p in team[world.center.name]["point_persons"]] == [
        ("primary", "Cora Center")
    ]
    identifier = PatientIdentifier.objects.get(patient=world.shared_patient)
    assert body["identifiers"] == [
        {
            "site": {
                "id": world.practice.pk,
                "name": world.practice.name,
                "kind": "community_practice",
                "phone_24_7": world.practice.phone_24_7,
            },
            "mrn": identifier.mrn,
        }
    ]


def test_patient_list_shows_each_patients_capabilities(world: World) -> None:
    pharmacist = member(world.center, Role.PHARMACIST)
    rows = results(api(pharmacist).get("/api/patients/"))
    assert [row["capabilities"] for row in rows] == [[Capability.RECORD_CARE, Capability.VIEW]]


def test_outsider_gets_404_for_shared_patient(world: World) -> None:
    assert api(world.outsider).get(f"/api/patients/{world.shared_patient.pk}/").status_code == 404


def test_outsider_gets_404_when_patching_shared_patient(world: World) -> None:
    response = api(world.outsider).patch(
        f"/api/patients/{world.shared_patient.pk}/", {"phase": "consult"}, format="json"
    )
    assert response.status_code == 404
    world.shared_patient.refresh_from_db()
    assert world.shared_patient.phase == "referral"


def test_outsider_gets_404_when_putting_shared_patient(world: World) -> None:
    payload = new_patient_payload(world, site=None, mrn=None)
    response = api(world.outsider).put(f"/api/patients/{world.shared_patient.pk}/", payload, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("patient_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_unknown_patient_id_is_404(world: World, patient_id: str) -> None:
    assert api(world.center_coordinator).get(f"/api/patients/{patient_id}/").status_code == 404


def test_read_only_member_sees_patient_but_gets_403_on_patch(world: World) -> None:
    reader = member(world.center, Role.READ_ONLY)
    client = api(reader)
    response = client.get(f"/api/patients/{world.shared_patient.pk}/")
    assert response.status_code == 200
    assert response.json()["capabilities"] == [Capability.VIEW]
    response = client.patch(f"/api/patients/{world.shared_patient.pk}/", {"phase": "consult"}, format="json")
    assert response.status_code == 403
    world.shared_patient.refresh_from_db()
    assert world.shared_patient.phase == "referral"


def test_patient_responses_forbid_caching(world: World) -> None:
    client = api(world.center_coordinator)
    for url in (
        "/api/patients/",
        f"/api/patients/{world.shared_patient.pk}/",
        "/api/care-team-links/",
        "/api/point-persons/",
    ):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_refused_patient_response_is_not_cached_either(world: World) -> None:
    response = api(world.outsider).get(f"/api/patients/{world.shared_patient.pk}/")
    assert "no-store" in response["Cache-Control"]


# --- Patients: filters and ordering ---------------------------------------------------------


def test_patient_list_filters_by_phase(world: World) -> None:
    consult = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    referral = draft_referral(world, patient=consult)
    advance(
        referral,
        [
            (Move.SUBMIT, world.community_coordinator),
            (Move.ACKNOWLEDGE, world.center_coordinator),
            (Move.SCHEDULE_CONSULT, world.center_coordinator),
        ],
        consult_on=dt.date(2027, 1, 5),
    )
    client = api(world.center_coordinator)
    assert patient_ids(client.get("/api/patients/", {"phase": "consult"})) == {str(consult.pk)}
    assert patient_ids(client.get("/api/patients/", {"phase": "referral"})) == {str(world.shared_patient.pk)}


def test_patient_list_filters_by_disease_area(world: World) -> None:
    myeloma = patient_at(world.center, world.center_coordinator, disease_area="multiple_myeloma")
    response = api(world.center_coordinator).get("/api/patients/", {"disease_area": "multiple_myeloma"})
    assert patient_ids(response) == {str(myeloma.pk)}


def test_the_patient_list_counts_every_patient_seen_on_the_grants_and_a_filtered_list_on_its_rows(
    world: World,
) -> None:
    """Unfiltered, the total is read from the grants alone (`visible_patient_count`): each
    patient once, even one seen through two of the person's sites; a filter counts its rows."""
    both = member(world.center)
    membership_start(user=both, site=world.practice, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    for disease_area in ("lbcl", "multiple_myeloma", "multiple_myeloma"):
        patient_at(world.center, world.center_coordinator, disease_area=disease_area)
    client = api(both)
    with CaptureQueriesContext(connection) as queries:
        every = client.get("/api/patients/", {"count": "exact"}).json()  # one page: else not counted
    (count,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert 'FROM "carecoord_patient" ' not in count and "carecoord_patientgroupobjectpermission" in count
    assert every["count"] == len(every["results"]) == len({row["id"] for row in every["results"]}) >= 4
    assert str(world.shared_patient.pk) in {row["id"] for row in every["results"]}
    myeloma = client.get("/api/patients/", {"disease_area": "multiple_myeloma", "count": "exact"}).json()
    assert myeloma["count"] == len(myeloma["results"]) == 2


def test_the_filter_backend_reads_the_filters_only_when_the_query_string_may_name_one(world: World) -> None:
    """`AskedFiltersBackend`: the page and the ordering alone leave the rows as they are, without
    the filter form; anything else goes through django-filter (a filter, or an unknown name)."""
    patient_at(world.center, world.center_coordinator, disease_area="multiple_myeloma")
    view = PatientViewSet(action="list", format_kwarg=None)
    rows = Patient.objects.all()

    def filtered(query: dict[str, str]) -> Any:
        request = Request(RequestFactory().get("/api/patients/", query))
        view.request = request
        return AskedFiltersBackend().filter_queryset(request, rows, view)

    assert filtered({"page": "1", "ordering": "family_name"}) is rows
    assert filtered({"disease_area": "multiple_myeloma"}).count() == 1
    unknown = filtered({"colour": "blue"})
    assert unknown is not rows and unknown.count() == rows.count()


def test_patient_list_filters_by_open_care_team_site(world: World) -> None:
    center_only = patient_at(world.center, world.center_coordinator)
    client = api(world.center_coordinator)
    assert patient_ids(client.get("/api/patients/", {"site": world.practice.pk})) == {str(world.shared_patient.pk)}
    assert patient_ids(client.get("/api/patients/", {"site": world.center.pk})) == {
        str(world.shared_patient.pk),
        str(center_only.pk),
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [({"phase": "cured"}, "phase"), ({"disease_area": "flu"}, "disease_area"), ({"site": "999999"}, "site")],
)
def test_patient_list_rejects_bad_filter_with_400(world: World, params: dict[str, str], field: str) -> None:
    response = api(world.center_coordinator).get("/api/patients/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_patient_list_orders_by_family_name_or_creation(world: World) -> None:
    adams = patient_at(world.center, world.center_coordinator, family_name="Adams")
    zimmer = patient_at(world.center, world.center_coordinator, family_name="Zimmer")
    client = api(world.center_coordinator)
    by_name = [row["family_name"] for row in results(client.get("/api/patients/", {"ordering": "family_name"}))]
    assert by_name == ["Adams", "Sharedcare", "Zimmer"]
    newest_first = [row["id"] for row in results(client.get("/api/patients/", {"ordering": "-created_at"}))]
    assert newest_first == [str(zimmer.pk), str(adams.pk), str(world.shared_patient.pk)]


def test_patient_list_ignores_name_in_query_string(world: World) -> None:
    patient_at(world.center, world.center_coordinator, family_name="Other")
    client = api(world.center_coordinator)
    for params in ({"search": "Sharedcare"}, {"family_name": "Sharedcare"}, {"ordering": "given_name"}):
        assert len(results(client.get("/api/patients/", params))) == 2


def test_patient_list_queries_do_not_grow_with_patients_or_their_records(world: World, tmp_media: object) -> None:
    client = api(world.center_coordinator)
    record = small_record(world)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/patients/")
        assert response.status_code == 200
        return len(queries.captured_queries)

    for _ in range(3):
        patient_at(world.center, world.center_coordinator)
    assert len(results(client.get("/api/patients/"))) == 4
    with_4 = count_queries()
    # More patients, and more on the records: care-team sites (a third one), milestones, events...
    grow_record(record)
    another_record(world)
    for _ in range(44):
        patient_at(world.center, world.center_coordinator)
    rows = results(client.get("/api/patients/"))
    assert len(rows) == 49 and "care_team" not in rows[0]  # summaries: the care team is in the detail
    assert len(client.get(f"/api/patients/{record.patient.pk}/").json()["care_team"]) == 3
    assert count_queries() == with_4


# --- Patients: registration and changes -----------------------------------------------------


def test_coordinator_registers_patient_at_own_site(world: World) -> None:
    response = api(world.center_coordinator).post("/api/patients/", new_patient_payload(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["id"])
    assert (patient.given_name, patient.family_name) == ("Nadia", "Newcase")
    assert [(row["site"]["id"], row["capacity"]) for row in body["care_team"]] == [(world.center.pk, "treating_center")]
    assert [row["mrn"] for row in body["identifiers"]] == ["C-000123"]
    assert body["capabilities"] == ALL_CAPABILITIES
    assert str(patient.pk) not in api(world.outsider).get("/api/patients/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": None}, "given_name"),
        ({"family_name": ""}, "family_name"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
        ({"sex": "robot"}, "sex"),
        ({"disease_area": "flu"}, "disease_area"),
        ({"phase": "cured"}, "phase"),
        ({"site": None}, "site"),
        ({"site": 999999}, "site"),
        ({"site": "not-an-id"}, "site"),
        ({"mrn": None}, "mrn"),
        ({"mrn": "   "}, "mrn"),
        ({"mrn": "x" * 65}, "mrn"),
        ({"given_name": "x" * 101}, "given_name"),
    ],
)
def test_patient_registration_rejects_bad_input_with_400_on_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    payload = new_patient_payload(world, **{k: v for k, v in changes.items() if v is not None})
    for name in (k for k, v in changes.items() if v is None):
        payload.pop(name)
    response = api(world.center_coordinator).post("/api/patients/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Patient.objects.filter(family_name="Newcase").exists()


def test_patient_registration_at_a_site_where_user_does_not_work_is_400_on_site(world: World) -> None:
    payload = new_patient_payload(world, site=world.practice.pk)
    response = api(world.center_coordinator).post("/api/patients/", payload, format="json")
    assert response.status_code == 400
    assert "site" in response.json()


def test_patient_registration_with_duplicate_mrn_is_400_on_mrn(world: World) -> None:
    client = api(world.center_coordinator)
    assert client.post("/api/patients/", new_patient_payload(world), format="json").status_code == 201
    response = client.post("/api/patients/", new_patient_payload(world, given_name="Other"), format="json")
    assert response.status_code == 400
    assert "mrn" in response.json()
    assert Patient.objects.filter(family_name="Newcase").count() == 1


def test_patient_registration_with_empty_body_names_every_required_field(world: World) -> None:
    response = api(world.center_coordinator).post("/api/patients/", {}, format="json")
    assert response.status_code == 400
    assert {"site", "mrn", "given_name", "family_name", "date_of_birth", "sex", "disease_area"} <= set(response.json())


def test_pharmacist_gets_403_registering_a_patient(world: World) -> None:
    pharmacist = member(world.center, Role.PHARMACIST)
    response = api(pharmacist).post("/api/patients/", new_patient_payload(world), format="json")
    assert response.status_code == 403


def test_the_phase_is_derived_and_a_patch_cannot_set_it(world: World) -> None:
    url = f"/api/patients/{world.shared_patient.pk}/"
    refused = api(world.community_oncologist).patch(url, {"phase": "consult", "caregiver_name": "Sam"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"phase": ["The phase follows from the referral and its milestones; it cannot be set."]}
    response = api(world.community_oncologist).patch(url, {"caregiver_name": "Sam"}, format="json")
    assert response.status_code == 200, response.content
    world.shared_patient.refresh_from_db()
    assert (world.shared_patient.phase, world.shared_patient.caregiver_name) == ("referral", "Sam")


def test_patch_ignores_fields_that_cannot_be_changed(world: World) -> None:
    original_created_at = world.shared_patient.created_at
    response = api(world.community_oncologist).patch(
        f"/api/patients/{world.shared_patient.pk}/", {"created_at": "2001-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 200
    world.shared_patient.refresh_from_db()
    assert world.shared_patient.created_at == original_created_at


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        # Far enough ahead that the test never straddles midnight between collection and run.
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"phase": "cured"}, "phase"),
        ({"given_name": ""}, "given_name"),
    ],
)
def test_patch_rejects_bad_input_with_400_on_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    response = api(world.community_oncologist).patch(
        f"/api/patients/{world.shared_patient.pk}/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_a_date_of_birth_may_be_today_but_not_tomorrow(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_oncologist))
    url = f"/api/patients/{world.shared_patient.pk}/"
    with time_machine.travel(dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.UTC), tick=False):
        tomorrow = client.patch(url, {"date_of_birth": "2026-12-02"}, format="json")
        today = client.patch(url, {"date_of_birth": "2026-12-01"}, format="json")
    assert tomorrow.status_code == 400 and "date_of_birth" in tomorrow.json()
    assert today.status_code == 200, today.content


def test_put_needs_every_required_field(world: World) -> None:
    response = api(world.community_oncologist).put(
        f"/api/patients/{world.shared_patient.pk}/", {"caregiver_name": "Sam"}, format="json"
    )
    assert response.status_code == 400
    assert {"given_name", "family_name", "date_of_birth", "sex", "disease_area"} <= set(response.json())


def test_put_replaces_patient_details(world: World) -> None:
    payload = new_patient_payload(world, site=None, mrn=None)
    response = api(world.community_oncologist).put(f"/api/patients/{world.shared_patient.pk}/", payload, format="json")
    assert response.status_code == 200, response.content
    world.shared_patient.refresh_from_db()
    assert world.shared_patient.family_name == "Newcase"


# --- Care-team links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "patient"),
    [
        ("center_coordinator", "shared_patient"),
        ("community_oncologist", "shared_patient"),
        ("outsider", "foreign_patient"),
    ],
)
def test_care_team_links_list_only_visible_patients_links(world: World, persona: str, patient: str) -> None:
    rows = results(api(getattr(world, persona)).get("/api/care-team-links/"))
    assert {row["patient"] for row in rows} == {str(getattr(world, patient).pk)}


def test_outsider_never_sees_shared_patients_care_team_links(world: World) -> None:
    body = api(world.outsider).get("/api/care-team-links/").content.decode()
    assert str(world.shared_patient.pk) not in body


def test_outsider_gets_404_for_shared_patients_link(world: World) -> None:
    link = link_of(world.shared_patient, world.center)
    assert api(world.outsider).get(f"/api/care-team-links/{link.pk}/").status_code == 404


def test_care_team_links_filter_by_patient(world: World) -> None:
    other = patient_at(world.center, world.center_coordinator)
    rows = results(api(world.center_coordinator).get("/api/care-team-links/", {"patient": str(other.pk)}))
    assert [(row["patient"], row["site"]["id"]) for row in rows] == [(str(other.pk), world.center.pk)]


def test_care_team_links_filter_by_foreign_patient_is_empty(world: World) -> None:
    params = {"patient": str(world.foreign_patient.pk)}
    assert results(api(world.center_coordinator).get("/api/care-team-links/", params)) == []


def test_coordinator_adds_a_site_to_the_care_team(world: World) -> None:
    patient = patient_at(world.practice, world.community_coordinator)
    payload = {"patient": str(patient.pk), "site": world.center.pk, "capacity": "treating_center"}
    response = api(world.community_coordinator).post("/api/care-team-links/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["site"]["id"] == world.center.pk
    assert response.json()["is_open"] is True
    assert patient_ids(api(world.center_coordinator).get("/api/patients/")) == {
        str(world.shared_patient.pk),
        str(patient.pk),
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": "landlord"}, "capacity"),
        ({"capacity": "treating_center", "site": "unrelated_practice"}, "capacity"),
        ({"site": "center"}, "site"),
        ({"site": 999999}, "site"),
        ({"patient": "not-a-uuid"}, "patient"),
        ({"patient": "foreign_patient"}, "patient"),
        ({"patient": "00000000-0000-0000-0000-000000000000"}, "patient"),
        ({"patient": None}, "patient"),
        ({"capacity": None}, "capacity"),
    ],
)
def test_care_team_link_creation_rejects_bad_input_with_400_on_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {
        "patient": "shared_patient",
        "site": "unrelated_practice",
        "capacity": "community_practice",
    }
    values.update(changes)
    payload: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str) and hasattr(world, value):
            value = getattr(world, value).pk
        payload[name] = str(value) if name == "patient" else value
    response = api(world.community_coordinator).post("/api/care-team-links/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_physician_gets_403_adding_a_site_to_the_care_team(world: World) -> None:
    payload = {
        "patient": str(world.shared_patient.pk),
        "site": world.unrelated_practice.pk,
        "capacity": "community_practice",
    }
    response = api(world.community_oncologist).post("/api/care-team-links/", payload, format="json")
    assert response.status_code == 403


def test_coordinator_ends_a_sites_care_team_link(world: World) -> None:
    link = link_of(world.shared_patient, world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank="primary"
    )
    # Another site's coordinator does not end the practice's part: that is the practice's move.
    assert api(world.center_coordinator).post(f"/api/care-team-links/{link.pk}/end/").status_code == 400
    response = api(world.community_coordinator).post(f"/api/care-team-links/{link.pk}/end/")
    assert response.status_code == 200, response.content
    assert response.json()["is_open"] is False
    assert response.json()["point_persons"] == []
    assert results(api(world.community_oncologist).get("/api/patients/")) == []


def test_ending_an_ended_link_is_400_on_link(world: World) -> None:
    link = link_of(world.shared_patient, world.practice)
    # Coordinator at both sites: still sees the patient through the center once the practice left.
    membership_start(
        user=world.center_coordinator, site=world.practice, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1)
    )
    client = api(world.center_coordinator)
    assert client.post(f"/api/care-team-links/{link.pk}/end/").status_code == 200
    response = client.post(f"/api/care-team-links/{link.pk}/end/")
    assert response.status_code == 400
    assert "link" in response.json()


def test_ending_the_last_link_is_400_on_link(world: World) -> None:
    link = link_of(world.foreign_patient, world.unrelated_practice)
    response = api(world.outsider).post(f"/api/care-team-links/{link.pk}/end/")
    assert response.status_code == 400
    assert "link" in response.json()


def test_outsider_gets_404_ending_shared_patients_link(world: World) -> None:
    link = link_of(world.shared_patient, world.center)
    assert api(world.outsider).post(f"/api/care-team-links/{link.pk}/end/").status_code == 404
    assert link_of(world.shared_patient, world.center).is_open


def test_physician_gets_403_ending_a_link(world: World) -> None:
    link = link_of(world.shared_patient, world.practice)
    assert api(world.community_oncologist).post(f"/api/care-team-links/{link.pk}/end/").status_code == 403


# --- Point persons --------------------------------------------------------------------------


def test_site_coordinator_names_a_point_person(world: World) -> None:
    link = link_of(world.shared_patient, world.practice)
    payload = {"link": link.pk, "user": world.community_oncologist.pk, "rank": "primary"}
    response = api(world.community_coordinator).post("/api/point-persons/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["patient"], body["rank"], body["user"]["full_name"]) == (
        str(world.shared_patient.pk),
        "primary",
        "Olive Oncologist",
    )
    rows = results(api(world.center_coordinator).get("/api/point-persons/"))
    assert [row["id"] for row in rows] == [body["id"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rank": "deputy"}, "rank"),
        ({"rank": None}, "rank"),
        ({"user": "outsider"}, "user"),
        ({"user": "center_coordinator"}, "user"),
        ({"user": 999999}, "user"),
        ({"link": "foreign"}, "link"),
        ({"link": "center"}, "link"),
        ({"link": 999999}, "link"),
        ({"link": "abc"}, "link"),
    ],
)
def test_point_person_naming_rejects_bad_input_with_400_on_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    links = {
        "practice": link_of(world.shared_patient, world.practice).pk,
        "center": link_of(world.shared_patient, world.center).pk,
        "foreign": link_of(world.foreign_patient, world.unrelated_practice).pk,
    }
    values: dict[str, Any] = {"link": "practice", "user": "community_oncologist", "rank": "primary"}
    values.update(changes)
    payload: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "link" and value in links:
            value = links[value]
        elif name == "user" and isinstance(value, str):
            value = getattr(world, value).pk
        payload[name] = value
    response = api(world.community_coordinator).post("/api/point-persons/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PointPerson.objects.exists()


def test_outsider_never_sees_shared_patients_point_persons(world: World) -> None:
    link = link_of(world.shared_patient, world.center)
    point_person = care_team_name_point_person(
        actor=world.center_coordinator, link=link, user=world.center_coordinator, rank="primary"
    )
    client = api(world.outsider)
    assert results(client.get("/api/point-persons/")) == []
    assert client.get(f"/api/point-persons/{point_person.pk}/").status_code == 404


def test_point_persons_list_queries_do_not_grow_with_rows(world: World) -> None:
    client = api(world.center_coordinator)
    backup = member(world.center, Role.NURSE)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/point-persons/").status_code == 200
        return len(queries.captured_queries)

    link = link_of(world.shared_patient, world.center)
    care_team_name_point_person(actor=world.center_coordinator, link=link, user=backup, rank="primary")
    with_1 = count_queries()
    for _ in range(5):
        other = link_of(patient_at(world.center, world.center_coordinator), world.center)
        care_team_name_point_person(actor=world.center_coordinator, link=other, user=backup, rank="primary")
    assert len(results(client.get("/api/point-persons/"))) == 6
    assert count_queries() == with_1


def test_care_team_links_list_queries_do_not_grow_with_rows(world: World) -> None:
    client = api(world.center_coordinator)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/care-team-links/").status_code == 200
        return len(queries.captured_queries)

    with_2 = count_queries()
    for _ in range(5):
        patient_at(world.center, world.center_coordinator)
    assert len(results(client.get("/api/care-team-links/"))) == 7
    assert count_queries() == with_2


def test_outsider_gets_404_not_405_for_get_on_foreign_links_end_action(world: World) -> None:
    link = link_of(world.shared_patient, world.center)
    assert api(world.outsider).get(f"/api/care-team-links/{link.pk}/end/").status_code == 404


def test_get_on_own_links_end_action_is_405(world: World) -> None:
    link = link_of(world.shared_patient, world.center)
    assert api(world.center_coordinator).get(f"/api/care-team-links/{link.pk}/end/").status_code == 405


def test_outsider_gets_404_not_405_deleting_foreign_patient(world: World) -> None:
    assert api(world.outsider).delete(f"/api/patients/{world.shared_patient.pk}/").status_code == 404
    assert api(world.center_coordinator).delete(f"/api/patients/{world.shared_patient.pk}/").status_code == 405


def test_service_errors_keep_their_field_names_and_cross_field_errors_become_non_field_errors() -> None:
    response = exception_handler(ValidationError({"mrn": "Taken.", "__all__": "Inconsistent."}), {})
    assert response is not None
    assert response.status_code == 400
    assert response.data == {"mrn": ["Taken."], "non_field_errors": ["Inconsistent."]}
    response = exception_handler(ValidationError("No field."), {})
    assert response is not None
    assert response.data == {"non_field_errors": ["No field."]}
