"""Recording several lab results through the API: a list, a pasted block or CSV text read by the
entry page's own reader; all or nothing, once per value, with who was told; 404 and 403 first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from carecoord.models import OutgoingEmail, TimelineEntry
from carecoord.roles import Role
from labs.models import LabFlagNotice, LabResult
from tests.factories import member
from tests.helpers import World, api, name_point_persons

pytestmark = pytest.mark.django_db

BULK = "/api/lab-results/bulk/"


def _today(world: World) -> dt.date:
    return timezone.localdate(timezone=world.practice.zone)


def _body(world: World, **fields: object) -> dict[str, object]:
    return {"patient": str(world.shared_patient.pk), "site": world.practice.pk, **fields}


def _nothing_saved() -> None:
    assert not LabResult.objects.exists()
    assert not LabFlagNotice.objects.exists()
    assert not OutgoingEmail.objects.filter(template="lab-flag").exists()
    assert not TimelineEntry.objects.filter(subject_type="labs.labresult").exists()


def _kinds(answer: dict[str, Any]) -> list[tuple[str, float, bool]]:
    return [(r["kind"], r["value"], r["flagged"]) for r in answer["recorded"]]


def test_a_pasted_block_records_every_line_and_tells_the_point_persons_of_the_flagged_ones(world: World) -> None:
    name_point_persons(world)
    today = _today(world)
    text = f"{today - dt.timedelta(days=1)}\nANC 0.3\nHb 9.1 g/dL\n\n# today\nPLT 120 {today}\n"
    response = api(world.community_oncologist).post(BULK, _body(world, text=text), format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert _kinds(answer) == [("anc", 300.0, True), ("hemoglobin", 9.1, False), ("platelets", 120000.0, False)]
    assert [r["taken_on"] for r in answer["recorded"]] == [str(today - dt.timedelta(days=1))] * 2 + [str(today)]
    assert answer["repeated"] == 0 and answer["already_recorded"] == []
    # The flagged ANC: one notice each for the four point persons, an email to the three others.
    assert len(answer["recorded"][0]["notices"]) == 4 and answer["recorded"][1]["notices"] == []
    told = {(p["recipient_name"], p["site"]["id"], p["emailed"]) for p in answer["notified"]}
    assert len(told) == 4
    assert (world.community_oncologist.full_name, world.practice.pk, False) in told
    assert sum(emailed for _name, _site, emailed in told) == 3
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3
    entry = TimelineEntry.objects.get(subject_type="labs.labresult")
    assert entry.title == "Lab results flagged: ANC (3 recorded)"


def test_a_pasted_block_takes_taken_on_for_lines_without_a_date(world: World) -> None:
    day = _today(world) - dt.timedelta(days=3)
    response = api(world.community_oncologist).post(
        BULK, _body(world, text="IgG 650 mg/dL\nCRP 12", taken_on=day.isoformat()), format="json"
    )
    assert response.status_code == 201, response.content
    assert {r["taken_on"] for r in response.json()["recorded"]} == {day.isoformat()}
    assert response.json()["notified"] == []


def test_csv_text_is_read_as_the_entry_page_reads_a_csv_file(world: World) -> None:
    today = _today(world)
    text = f"Test;Result;Units;Date\nIgG;3.2;g/L;{today}\nferritin;850;;{today - dt.timedelta(days=2)}\n"
    response = api(world.community_oncologist).post(BULK, _body(world, text=text, text_format="csv"), format="json")
    assert response.status_code == 201, response.content
    recorded = response.json()["recorded"]
    assert [(r["kind"], r["value"], r["entered_value"], r["entered_unit"]) for r in recorded] == [
        ("igg", 320.0, 3.2, "g/L"),
        ("ferritin", 850.0, 850.0, "ng/mL"),
    ]
    assert recorded[0]["flagged"] and not recorded[1]["flagged"]


def test_a_list_records_each_result_in_its_unit(world: World) -> None:
    today = _today(world).isoformat()
    results = [
        {"kind": "anc", "value": 1.2, "unit": "x 10^9/L", "taken_on": today},
        {"kind": "cd4", "value": 150, "taken_on": today},
    ]
    response = api(world.community_oncologist).post(BULK, _body(world, results=results), format="json")
    assert response.status_code == 201, response.content
    assert _kinds(response.json()) == [("anc", 1200.0, False), ("cd4", 150.0, False)]
    assert LabResult.objects.filter(recorded_by=world.community_oncologist, site=world.practice).count() == 2


def test_a_bad_pasted_line_is_a_400_naming_each_bad_line_and_saves_nothing(world: World) -> None:
    name_point_persons(world)
    response = api(world.community_oncologist).post(
        BULK, _body(world, text="ANC 0.3\nWBC 4.1\nHb lots", taken_on=_today(world).isoformat()), format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["text"]
    assert [e.split(":")[0] for e in errors] == ["Line 2", "Line 3"]
    assert "WBC is not a value carecoord follows" in errors[0]
    _nothing_saved()


def test_a_bad_csv_row_is_named_by_its_line_in_the_file(world: World) -> None:
    text = f"kind,value,unit,taken_on\nANC,0.3,,{_today(world)}\nANC,0.3,furlongs,{_today(world)}\n"
    response = api(world.community_oncologist).post(BULK, _body(world, text=text, text_format="csv"), format="json")
    assert response.status_code == 400
    (error,) = response.json()["text"]
    assert error.startswith("Line 3: furlongs is not a unit of ANC")
    _nothing_saved()


def test_a_bad_result_in_the_list_is_named_by_its_line_and_field_and_saves_nothing(world: World) -> None:
    today = _today(world).isoformat()
    results = [
        {"kind": "anc", "value": 0.3, "unit": "x 10^9/L", "taken_on": today},
        {"kind": "igg", "value": 3.2, "unit": "furlongs", "taken_on": today},
        {"kind": "wbc", "value": 4, "taken_on": today},
    ]
    response = api(world.community_oncologist).post(BULK, _body(world, results=results), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["results"]
    assert [e.split(":")[0] for e in errors] == ["Line 2, unit", "Line 3, kind"]
    _nothing_saved()


def test_a_date_the_service_refuses_names_its_line_where_the_lines_were_written(world: World) -> None:
    later = (_today(world) + dt.timedelta(days=30)).isoformat()
    client = api(world.community_oncologist)
    pasted = client.post(BULK, _body(world, text=f"ANC 0.3\nHb 9.1 {later}", taken_on=_today(world)), format="json")
    assert pasted.status_code == 400, pasted.content
    assert pasted.json()["text"][0].startswith("Line 2: ")
    results = [{"kind": "anc", "value": 300, "taken_on": _today(world)}, {"kind": "cd4", "value": 1, "taken_on": later}]
    listed = client.post(BULK, _body(world, results=results), format="json")
    assert listed.status_code == 400, listed.content
    assert listed.json()["results"][0].startswith("Line 2, taken_on: ")
    _nothing_saved()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "non_field_errors"),
        ({"text": "ANC 0.3", "results": [{"kind": "anc", "value": 300, "taken_on": "2026-12-01"}]}, "non_field_errors"),
        ({"results": []}, "results"),
        ({"results": "ANC 0.3"}, "results"),
        ({"text": "ANC 0.3", "text_format": "xlsx"}, "text_format"),
        ({"text": "ANC 0.3", "site": 999999}, "site"),
        ({"text": "ANC 0.3", "site": "center"}, "site"),
        ({"text": "ANC 0.3 2026-02-30"}, "text"),
        ({"text": "ANC 0.3"}, "text"),  # no date on the line nor in taken_on
    ],
)
def test_bad_input_answers_400_naming_the_field(world: World, fields: dict[str, object], field: str) -> None:
    response = api(world.community_oncologist).post(BULK, _body(world, **fields), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    _nothing_saved()


def test_a_patient_that_is_missing_or_malformed_is_a_400_on_patient(world: World) -> None:
    client = api(world.community_oncologist)
    for patient in (None, "not-a-uuid"):
        body = {"site": world.practice.pk, "text": "ANC 0.3"} | ({"patient": patient} if patient else {})
        response = client.post(BULK, body, format="json")
        assert response.status_code == 400 and "patient" in response.json(), response.content


def test_sent_again_nothing_is_recorded_nobody_is_told_and_it_answers_200(world: World) -> None:
    name_point_persons(world)
    client = api(world.community_oncologist)
    body = _body(world, text="ANC 0.3\nIgG 320 mg/dL", taken_on=_today(world).isoformat())
    first = client.post(BULK, body, format="json")
    assert first.status_code == 201, first.content
    ids = [r["id"] for r in first.json()["recorded"]]
    emails, notices, entries = (m.objects.count() for m in (OutgoingEmail, LabFlagNotice, TimelineEntry))
    again = client.post(BULK, body, format="json")
    assert again.status_code == 200, again.content
    answer = again.json()
    assert (answer["recorded"], answer["repeated"], answer["notified"]) == ([], 2, [])
    assert [r["id"] for r in answer["already_recorded"]] == ids
    assert [m.objects.count() for m in (OutgoingEmail, LabFlagNotice, TimelineEntry)] == [emails, notices, entries]
    # One new value among old ones: recorded and told, the others counted as repeated.
    body["text"] = "ANC 0.3\nIgG 320 mg/dL\nPLT 15"
    more = client.post(BULK, body, format="json")
    assert more.status_code == 201
    assert (_kinds(more.json()), more.json()["repeated"]) == ([("platelets", 15000.0, True)], 2)
    assert [r["id"] for r in more.json()["already_recorded"]] == ids
    assert OutgoingEmail.objects.count() == emails + 3


def test_an_idempotency_key_replays_the_first_answer(world: World) -> None:
    client = api(world.community_oncologist)
    body = _body(world, text="ANC 0.3", taken_on=_today(world).isoformat())
    first = client.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    replay = client.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert LabResult.objects.count() == 1


def test_an_outsider_gets_404_and_a_role_that_may_not_record_care_403_before_the_body_is_read(
    world: World,
) -> None:
    outsider = api(world.outsider).post(
        BULK, _body(world, site=world.unrelated_practice.pk, text="ANC 0.3", taken_on=_today(world)), format="json"
    )
    assert outsider.status_code == 404, outsider.content
    # An unknown patient answers the same: the outsider learns nothing of the shared one.
    unknown = api(world.outsider).post(
        BULK, _body(world, patient="00000000-0000-0000-0000-000000000000", text="ANC 0.3"), format="json"
    )
    assert unknown.status_code == 404 and unknown.json() == outsider.json()
    reader = api(member(world.practice, Role.READ_ONLY, email="reader@practice.test"))
    assert reader.post(BULK, _body(world, text="ANC 0.3", taken_on=_today(world)), format="json").status_code == 403
    assert reader.post(BULK, _body(world, text="WBC 4", site="nowhere"), format="json").status_code == 403
    _nothing_saved()


def test_a_site_of_the_care_team_where_the_writer_does_not_work_is_a_400_on_site(world: World) -> None:
    body = _body(world, site=world.center.pk, text="ANC 0.3", taken_on=_today(world))
    response = api(world.community_oncologist).post(BULK, body, format="json")
    assert response.status_code == 400 and "site" in response.json()
    _nothing_saved()


def test_the_schema_describes_bulk_entry(world: World) -> None:
    paths = api(world.center_coordinator).get("/api/schema/", {"format": "json"}).json()["paths"]
    operation = paths["/api/lab-results/bulk/"]["post"]
    assert {"200", "201", "400", "403", "404"} <= operation["responses"].keys()
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = api(world.center_coordinator).get("/api/schema/", {"format": "json"}).json()
    properties = schema["components"]["schemas"][body]["properties"]
    assert {"patient", "site", "results", "text", "text_format", "taken_on", "confirm_date"} <= properties.keys()
