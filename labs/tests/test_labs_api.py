"""The labs API: listing and filtering results, recording one, 400 with field messages, per-site access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.models import OutgoingEmail
from carecoord.roles import Role
from labs.models import LabResult
from tests.factories import member
from tests.helpers import World, another_record, api, grow_record, name_point_persons, results, small_record

pytestmark = pytest.mark.django_db

RESULTS = "/api/lab-results/"


def _body(world: World, **fields: object) -> dict[str, object]:
    today = timezone.localdate(timezone=world.practice.zone)
    return {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "kind": "igg",
        "value": 3.2,
        "unit": "g/L",
        "taken_on": today.isoformat(),
        **fields,
    }


def test_recording_a_low_igg_converts_it_flags_it_and_tells_the_point_persons(world: World) -> None:
    name_point_persons(world)
    client = api(world.community_oncologist)
    response = client.post(RESULTS, _body(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["value"], body["unit"]) == ("igg", 320.0, "mg/dL")
    assert (body["entered_value"], body["entered_unit"]) == (3.2, "g/L")
    assert body["flagged"] and "consider IVIG" in body["flag_reason"]
    assert len(body["notices"]) == 4
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3
    # Sent again: the same result, nobody told twice.
    again = client.post(RESULTS, _body(world), format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3
    entry = AuditEntry.objects.get(object_type="labs.labresult", object_id=str(body["id"]), action="create")
    assert (entry.actor, entry.site) == (world.community_oncologist, world.practice)


def test_without_a_unit_the_value_is_in_the_canonical_unit(world: World) -> None:
    response = api(world.community_oncologist).post(
        RESULTS, _body(world, kind="anc", value=450, unit=""), format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["value"], response.json()["unit"], response.json()["flagged"]) == (450, "cells/µL", True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "wbc"}, "kind"),
        ({"value": -1}, "value"),
        ({"value": "lots"}, "value"),
        ({"unit": "furlongs"}, "unit"),
        ({"kind": "hemoglobin", "value": 70, "unit": "g/dL"}, "value"),
        ({"taken_on": "2026-02-30"}, "taken_on"),
        ({"taken_on": "2999-01-01"}, "taken_on"),
        ({"site": 999999}, "site"),
    ],
)
def test_bad_input_answers_400_naming_the_field(world: World, fields: dict[str, object], field: str) -> None:
    response = api(world.community_oncologist).post(RESULTS, _body(world, **fields), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not LabResult.objects.exists()


def test_a_site_of_the_care_team_where_the_writer_does_not_work_is_a_400_on_site(world: World) -> None:
    response = api(world.community_oncologist).post(RESULTS, _body(world, site=world.center.pk), format="json")
    assert response.status_code == 400 and "site" in response.json()


def test_a_read_only_member_is_refused_and_an_outsider_sees_no_patient(world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    assert api(reader).post(RESULTS, _body(world), format="json").status_code == 403
    outsider = api(world.outsider).post(RESULTS, _body(world, site=world.unrelated_practice.pk), format="json")
    assert outsider.status_code == 400 and "patient" in outsider.json()
    assert not LabResult.objects.exists()


def test_results_are_listed_by_patient_and_kind_and_an_outsider_gets_none_nor_one(world: World) -> None:
    small_record(world)
    client = api(world.center_coordinator)
    listed = results(client.get(RESULTS, {"patient": str(world.shared_patient.pk), "kind": "anc"}))
    assert [(r["kind"], r["value"], r["flagged"]) for r in listed] == [("anc", 300.0, True)]
    assert len(results(client.get(RESULTS, {"kind": ["anc", "hemoglobin"]}))) == 2
    assert results(client.get(RESULTS, {"flagged": "false"}))[0]["kind"] == "hemoglobin"
    detail = client.get(f"{RESULTS}{listed[0]['id']}/")
    assert detail.status_code == 200 and len(detail.json()["notices"]) == 4
    outsider = api(world.outsider)
    assert results(outsider.get(RESULTS)) == []
    assert outsider.get(f"{RESULTS}{listed[0]['id']}/").status_code == 404
    assert outsider.delete(f"{RESULTS}{listed[0]['id']}/").status_code == 404


def _list_queries(world: World) -> int:
    client = api(world.center_coordinator)
    client.get(RESULTS)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(RESULTS)
    assert response.status_code == 200
    return len(captured)


def test_the_list_and_a_result_cost_the_same_queries_whatever_the_rows(world: World, tmp_media: object) -> None:
    record = small_record(world)
    few = _list_queries(world)
    flagged = LabResult.objects.filter(flagged=True).first()
    assert flagged is not None
    url = f"{RESULTS}{flagged.pk}/"
    client = api(world.center_coordinator)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    one = len(captured)
    grow_record(record)
    another_record(world)
    assert LabResult.objects.count() > 20
    assert _list_queries(world) == few
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    assert len(captured) == one


def test_the_schema_describes_the_lab_results(world: World) -> None:
    schema = api(world.center_coordinator).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/lab-results/" in paths and "/api/lab-results/{result_id}/" in paths
    assert {p["name"] for p in paths["/api/lab-results/"]["get"]["parameters"]} >= {"patient", "kind", "page"}


def test_taken_on_is_a_date_of_the_site(world: World) -> None:
    tomorrow = timezone.localdate(timezone=world.practice.zone) + dt.timedelta(days=1)
    # A day ahead is allowed for sites whose today is already tomorrow (carecoord.clinical_dates).
    response = api(world.community_oncologist).post(RESULTS, _body(world, taken_on=tomorrow.isoformat()), format="json")
    assert response.status_code == 201


def test_the_person_told_acknowledges_for_their_site_and_others_have_nothing_to(world: World) -> None:
    people = name_point_persons(world)
    created = api(world.community_oncologist).post(RESULTS, _body(world), format="json").json()
    url = f"{RESULTS}{created['id']}/acknowledge/"
    assert api(world.community_oncologist).post(url).status_code == 400  # the recorder's site has seen it
    answer = api(people["center_nurse"]).post(url)
    assert answer.status_code == 200, answer.content
    seen = {n["site"]["id"]: n["acknowledged_by"] for n in answer.json()["notices"]}
    assert seen[world.center.pk]["id"] == people["center_nurse"].pk
    again = api(world.center_coordinator).post(url)
    assert again.status_code == 400 and "notice" in again.json()
    assert api(world.outsider).post(url).status_code == 404
