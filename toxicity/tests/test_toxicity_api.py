"""The toxicity API: recording, grading again, treating and resolving events, and acknowledging alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from carecoord.models import TimelineEntry, User
from carecoord.roles import Role
from carecoord.text_limits import NOTE_MAX_LENGTH
from tests.factories import member, patient_at
from tests.helpers import (
    CRS_GRADE_2,
    CRS_GRADE_3,
    INFUSED_ON,
    NOW,
    World,
    another_record,
    api,
    grow_record,
    infused,
    name_point_persons,
    results,
    small_record,
)
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert, ToxicityAssessment, ToxicityEvent, ToxicityTreatment
from toxicity.services import toxicity_assess, toxicity_record, toxicity_resolve

pytestmark = pytest.mark.django_db

EVENTS = "/api/toxicity-events/"
ALERTS = "/api/alerts/"
ONSET = NOW - dt.timedelta(hours=1)
ICANS_GRADE_3: dict[str, Any] = {"ice_score": 2, "consciousness": "awakens_to_voice"}
# Orientation 3 + naming 2 + commands + sentence, not counting backwards: 7 of 10.
ICE_ITEMS_SEVEN: dict[str, Any] = {
    "orientation": 3,
    "naming": 2,
    "follows_commands": True,
    "writes_sentence": True,
    "counts_backwards": False,
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    # Day +9 after the 2027-01-11 infusion; sessions are made inside the trip, so they stay valid.
    with time_machine.travel(NOW, tick=False):
        yield


def event_url(event: ToxicityEvent, action: str = "") -> str:
    return f"{EVENTS}{event.pk}/{action + '/' if action else ''}"


def alert_url(alert: Alert, action: str = "") -> str:
    return f"{ALERTS}{alert.pk}/{action + '/' if action else ''}"


def crs_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "kind": "crs",
        "onset_at": ONSET.isoformat(),
        "assessment": CRS_GRADE_3,
        "note": "Febrile overnight",
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def post(user: User, url: str, payload: dict[str, Any]) -> Any:
    return api(user).post(url, payload, format="json")


def center_physician(world: World) -> User:
    return User.objects.filter(email="physician@lakeside.test").first() or member(
        world.center, Role.PHYSICIAN, email="physician@lakeside.test", full_name="Phil Physician"
    )


def recorded(world: World, kind: str = "crs", onset_at: dt.datetime = ONSET, **fields: Any) -> ToxicityEvent:
    """An event recorded an hour ago by a physician at the center, who is no point person: the
    center's alerts count as seen by them, the practice's wait for the practice."""
    grading: dict[str, Any] = {"inputs": CRS_GRADE_3} if kind == "crs" else {"ctcae_grade": 2}
    return toxicity_record(
        actor=center_physician(world),
        patient=world.shared_patient,
        site=world.center,
        kind=kind,
        onset_at=onset_at,
        **(grading | fields),
    )


def unrelated_site(world: World, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with "unrelated" standing for the outsider's site, where nobody here works."""
    return {name: world.unrelated_practice.pk if value == "unrelated" else value for name, value in changes.items()}


def reader_at_center(world: World) -> User:
    return member(world.center, Role.READ_ONLY, email="reader@lakeside.test")


def errors_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()


def count_queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content
    return len(queries.captured_queries)


# --- Recording ------------------------------------------------------------------------------


def test_crs_grade_3_recorded_through_the_api_alerts_every_point_person(world: World) -> None:
    infused(world, INFUSED_ON)
    people = name_point_persons(world)
    response = post(world.community_oncologist, EVENTS, crs_payload(world))
    assert response.status_code == 201, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert (body["kind"], body["grading_system"], body["grade"], body["highest_grade"]) == ("crs", "ASTCT", 3, 3)
    assert "one vasopressor" in body["grade_reason"]
    assert (body["onset_day"], body["day_label"], body["atypical_reason"]) == (9, "day +9", "")
    assert (body["status"], body["outcome"], body["resolved_on"]) == ("active", "ongoing", None)
    assert body["patient"] == str(world.shared_patient.pk)
    assert body["reporting_site"]["id"] == world.practice.pk
    assert body["reported_by"] == {"id": world.community_oncologist.pk, "full_name": "Olive Oncologist"}
    [assessment] = body["assessments"]
    assert (assessment["grade"], assessment["inputs"], assessment["note"]) == (3, CRS_GRADE_3, "Febrile overnight")
    assert assessment["site"]["id"] == world.practice.pk
    assert body["treatments"] == []
    # The oncologist recorded it for the practice: the practice's alerts count as seen by them.
    recorded_at = "2027-01-20T15:00:00Z"
    assert {(a["recipient_name"], a["reason"], a["grade"], a["acknowledged_at"]) for a in body["alerts"]} == {
        ("Olive Oncologist", "recorded", 3, recorded_at),
        ("Rita Riverbend", "recorded", 3, recorded_at),
        ("Cora Center", "recorded", 3, None),
        ("Nina Nurse", "recorded", 3, None),
    }
    recipients = set(Alert.objects.filter(event_id=body["id"]).values_list("recipient", flat=True))
    everyone = [world.community_oncologist, world.community_coordinator, world.center_coordinator]
    assert recipients == {user.pk for user in [*everyone, people["center_nurse"]]}


def test_icans_from_ice_items_keeps_the_items_with_the_score_they_add_up_to(world: World) -> None:
    payload = crs_payload(world, kind="icans", assessment={"ice_items": ICE_ITEMS_SEVEN})
    body = post(world.community_oncologist, EVENTS, payload).json()
    assert body["grade"] == 1
    assert "ICE score 7/10" in body["grade_reason"]
    stored = ToxicityAssessment.objects.get(event_id=body["id"]).inputs
    assert stored["ice_score"] == 7
    assert stored["ice_items"] == ICE_ITEMS_SEVEN


def test_icans_is_graded_from_its_own_inputs(world: World) -> None:
    payload = crs_payload(world, kind="icans", assessment=ICANS_GRADE_3)
    body = post(world.community_oncologist, EVENTS, payload).json()
    assert (body["kind"], body["grading_system"], body["grade"]) == ("icans", "ASTCT", 3)
    assert "ICE score 2/10" in body["grade_reason"]
    assert body["onset_day"] is None and body["day_label"] is None  # not infused


def test_other_kinds_are_recorded_with_a_ctcae_grade(world: World) -> None:
    payload = crs_payload(world, kind="infection", assessment=None, grade=3, infection_site="Lung", organism="RSV")
    response = post(world.center_coordinator, EVENTS, payload | {"site": world.center.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["grading_system"], body["grade"], body["grade_reason"]) == ("CTCAE", 3, "CTCAE grade 3, as assessed.")
    assert (body["infection_site"], body["organism"]) == ("Lung", "RSV")
    assert body["assessments"][0]["inputs"] == {}


def test_crs_first_reported_after_day_14_is_flagged_as_atypical(world: World) -> None:
    infused(world, INFUSED_ON)
    with time_machine.travel(dt.datetime(2027, 1, 30, 15, 0, tzinfo=dt.UTC), tick=False):
        onset = dt.datetime(2027, 1, 30, 14, 0, tzinfo=dt.UTC).isoformat()
        body = post(world.community_oncologist, EVENTS, crs_payload(world, onset_at=onset)).json()
    assert body["day_label"] == "day +19"
    assert "day +19" in body["atypical_reason"] and "infection" in body["atypical_reason"]


@pytest.mark.parametrize(
    ("changes", "field", "inner"),
    [
        ({"kind": "rash"}, "kind", None),
        ({"kind": None}, "kind", None),
        ({"assessment": {"temperature_c": 37.2}}, "kind", None),  # grade 0: the criteria are not met
        ({"assessment": {"temperature_c": 39.0, "oxygen": "nasal_cannula"}}, "assessment", "oxygen_flow_l_min"),
        ({"assessment": {"temperature_c": 39.0, "ice_score": 3}}, "assessment", "ice_score"),
        ({"assessment": {"temperature_c": "hot"}}, "assessment", "temperature_c"),
        ({"assessment": {"temperature_c": 50}}, "assessment", "temperature_c"),
        ({"assessment": {"temperature_c": 39.0, "vasopressors": "two"}}, "assessment", "vasopressors"),
        ({"assessment": {"temperature_c": 39.0, "vasopressors": -1}}, "assessment", "vasopressors"),
        ({"assessment": {"temperature_c": 39.0, "vasopressors": 10**6}}, "assessment", "vasopressors"),
        ({"assessment": {"temperature_c": 39.0, "hypotension": "maybe"}}, "assessment", "hypotension"),
        ({"assessment": {"temperature_c": 39.0, "oxygen": "helmet"}}, "assessment", "oxygen"),
        ({"assessment": {"temperature_c": 39.0, "oxygen_flow_l_min": 2}}, "assessment", "oxygen_flow_l_min"),
        ({"assessment": {}}, "assessment", "temperature_c"),
        ({"assessment": "fever and hypotension"}, "assessment", None),
        ({"assessment": None}, "assessment", None),
        ({"grade": 3}, "grade", None),
        ({"kind": "icans", "assessment": CRS_GRADE_3}, "assessment", "oxygen"),
        ({"kind": "icans", "assessment": {"ice_score": 11}}, "assessment", "ice_score"),
        ({"kind": "icans", "assessment": {"ice_score": 5, "seizure": "some"}}, "assessment", "seizure"),
        ({"kind": "icans", "assessment": {}}, "assessment", "ice_score"),
        (
            {"kind": "icans", "assessment": {"ice_items": {**ICE_ITEMS_SEVEN, "orientation": 5}}},
            "assessment",
            "ice_items",
        ),
        ({"kind": "icans", "assessment": {"ice_items": {"orientation": 4}}}, "assessment", "ice_items"),
        ({"kind": "icans", "assessment": {"ice_score": 9, "ice_items": ICE_ITEMS_SEVEN}}, "assessment", "ice_score"),
        ({"kind": "infection"}, "assessment", None),
        ({"kind": "infection", "assessment": None}, "grade", None),
        ({"kind": "infection", "assessment": None, "grade": 0}, "grade", None),
        ({"kind": "infection", "assessment": None, "grade": 6}, "grade", None),
        ({"kind": "infection", "assessment": None, "grade": "three"}, "grade", None),
        ({"onset_at": (NOW + dt.timedelta(hours=2)).isoformat()}, "onset_at", None),
        ({"onset_at": "yesterday"}, "onset_at", None),
        ({"onset_at": "2027-02-30T10:00:00Z"}, "onset_at", None),
        ({"onset_at": None}, "onset_at", None),
        ({"site": "abc"}, "site", None),
        ({"site": 999999}, "site", None),
        ({"site": "center"}, "site", None),  # a site where the oncologist does not work
        ({"patient": "not-a-uuid"}, "patient", None),
        ({"patient": "foreign"}, "patient", None),  # a patient the oncologist cannot see
        ({"infection_site": "x" * 121}, "infection_site", None),
    ],
)
def test_bad_records_are_400_on_the_field_and_nothing_is_saved(
    world: World, changes: dict[str, Any], field: str, inner: str | None
) -> None:
    named = {"center": world.center.pk, "foreign": str(world.foreign_patient.pk)}
    changes = {name: named.get(value, value) if isinstance(value, str) else value for name, value in changes.items()}
    payload = crs_payload(world, **changes)
    if "assessment" in changes and changes["assessment"] is None and "kind" not in changes:
        payload["assessment"] = None  # sent as null, not left out
    errors = errors_of(post(world.community_oncologist, EVENTS, payload))
    assert field in errors, errors
    if inner is not None:
        assert inner in errors[field], errors
    assert not ToxicityEvent.objects.exists()
    assert not Alert.objects.exists()


def test_read_only_member_gets_403_recording_and_nothing_is_saved(world: World) -> None:
    reader = reader_at_center(world)
    response = post(reader, EVENTS, crs_payload(world, site=world.center.pk))
    assert response.status_code == 403
    assert not ToxicityEvent.objects.exists()


def test_outsider_cannot_record_for_a_patient_they_cannot_see(world: World) -> None:
    payload = crs_payload(world, site=world.unrelated_practice.pk)
    assert "patient" in errors_of(post(world.outsider, EVENTS, payload))
    assert not ToxicityEvent.objects.exists()


# --- Grading again, treating, resolving -----------------------------------------------------


def test_center_grades_again_and_a_rising_grade_alerts_every_point_person(world: World) -> None:
    name_point_persons(world)
    event = recorded(world, inputs=CRS_GRADE_2)
    payload = {"site": world.center.pk, "assessed_at": NOW.isoformat(), "assessment": CRS_GRADE_3, "note": "Worse"}
    response = post(world.center_coordinator, event_url(event, "assessments"), payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["grade"], body["highest_grade"]) == (3, 3)
    assert [(a["grade"], a["site"]["id"]) for a in body["assessments"]] == [
        (2, world.center.pk),
        (3, world.center.pk),
    ]
    assert sum(a["reason"] == "grade_rose" for a in body["alerts"]) == 4
    falling = {**payload, "assessment": CRS_GRADE_2}
    body = post(world.center_coordinator, event_url(event, "assessments"), falling).json()
    assert (body["grade"], body["highest_grade"], len(body["assessments"])) == (2, 3, 3)
    assert Alert.objects.filter(event=event).count() == 8


def test_ctcae_event_is_graded_again_with_a_grade(world: World) -> None:
    event = recorded(world, kind="cytopenia")
    payload = {"site": world.practice.pk, "assessed_at": NOW.isoformat(), "grade": 4}
    body = post(world.community_oncologist, event_url(event, "assessments"), payload).json()
    assert (body["grade"], body["highest_grade"]) == (4, 4)


@pytest.mark.parametrize(
    ("kind", "changes", "field", "inner"),
    [
        ("crs", {"assessment": ICANS_GRADE_3}, "assessment", "consciousness"),
        ("crs", {"assessment": None, "grade": 2}, "grade", None),
        ("crs", {"assessment": {"temperature_c": 39.0, "oxygen": "nasal_cannula"}}, "assessment", "oxygen_flow_l_min"),
        ("cytopenia", {"assessment": CRS_GRADE_3}, "assessment", None),
        ("cytopenia", {"assessment": None, "grade": "4"}, None, None),  # a numeric string parses
        ("crs", {"assessed_at": (NOW + dt.timedelta(days=1)).isoformat()}, "assessed_at", None),
        ("crs", {"assessed_at": "last tuesday"}, "assessed_at", None),
        ("crs", {"site": "unrelated"}, "site", None),
        ("crs", {"site": None}, "site", None),
    ],
)
def test_bad_assessments_are_400_on_the_field(
    world: World, kind: str, changes: dict[str, Any], field: str | None, inner: str | None
) -> None:
    event = recorded(world, kind=kind)
    payload: dict[str, Any] = {"site": world.practice.pk, "assessed_at": NOW.isoformat(), "assessment": CRS_GRADE_2}
    payload.update(
        {name: world.unrelated_practice.pk if value == "unrelated" else value for name, value in changes.items()}
    )
    payload = {name: value for name, value in payload.items() if value is not None or name == "site"}
    response = post(world.community_oncologist, event_url(event, "assessments"), payload)
    if field is None:
        assert response.status_code == 201, response.content
        return
    errors = errors_of(response)
    assert field in errors, errors
    if inner is not None:
        assert inner in errors[field], errors
    assert ToxicityAssessment.objects.filter(event=event).count() == 1


def test_a_resolved_event_is_not_graded_again(world: World) -> None:
    event = recorded(world)
    toxicity_resolve(
        actor=world.community_oncologist, event=event, site=world.practice, resolved_on=NOW.date(), outcome="recovered"
    )
    payload = {"site": world.practice.pk, "assessed_at": NOW.isoformat(), "assessment": CRS_GRADE_2}
    assert "event" in errors_of(post(world.community_oncologist, event_url(event, "assessments"), payload))


def test_treatment_is_recorded_on_the_event(world: World) -> None:
    event = recorded(world)
    payload = {"site": world.center.pk, "kind": "tocilizumab", "given_at": NOW.isoformat(), "detail": " 8 mg/kg IV "}
    response = post(world.center_coordinator, event_url(event, "treatments"), payload)
    assert response.status_code == 201, response.content
    [treatment] = response.json()["treatments"]
    assert (treatment["kind"], treatment["detail"], treatment["site"]["id"]) == (
        "tocilizumab",
        "8 mg/kg IV",
        world.center.pk,
    )
    assert treatment["recorded_by"]["full_name"] == "Cora Center"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "leeches"}, "kind"),
        ({"kind": None}, "kind"),
        ({"given_at": "soon"}, "given_at"),
        ({"given_at": (NOW + dt.timedelta(days=2)).isoformat()}, "given_at"),
        ({"detail": "x" * 201}, "detail"),
        ({"site": "abc"}, "site"),
        ({"site": "unrelated"}, "site"),
    ],
)
def test_bad_treatments_are_400_on_the_field(world: World, changes: dict[str, Any], field: str) -> None:
    event = recorded(world)
    payload: dict[str, Any] = {"site": world.center.pk, "kind": "corticosteroid", "given_at": NOW.isoformat()}
    payload.update(
        {name: world.unrelated_practice.pk if value == "unrelated" else value for name, value in changes.items()}
    )
    payload = {name: value for name, value in payload.items() if value is not None}
    assert field in errors_of(post(world.center_coordinator, event_url(event, "treatments"), payload))
    assert not ToxicityTreatment.objects.exists()


def test_resolving_closes_the_event_with_its_outcome_and_tells_the_point_persons(world: World) -> None:
    name_point_persons(world)
    event = recorded(world)
    payload = {"site": world.center.pk, "resolved_on": NOW.date().isoformat(), "outcome": "recovered", "note": "Home"}
    response = post(world.center_coordinator, event_url(event, "resolve"), payload)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"], body["resolved_on"]) == ("resolved", "recovered", "2027-01-20")
    assert sum(a["reason"] == "resolved" for a in body["alerts"]) == 4
    assert "event" in errors_of(post(world.center_coordinator, event_url(event, "resolve"), payload))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": "ongoing"}, "outcome"),
        ({"outcome": "better"}, "outcome"),
        ({"resolved_on": "2027-01-18"}, "resolved_on"),  # before the onset
        ({"resolved_on": "2027-01-25"}, "resolved_on"),  # in the future
        ({"resolved_on": "2027-13-01"}, "resolved_on"),
        ({"site": 999999}, "site"),
        ({"note": "x" * (NOTE_MAX_LENGTH + 1)}, "note"),
    ],
)
def test_bad_resolutions_are_400_on_the_field(world: World, changes: dict[str, Any], field: str) -> None:
    event = recorded(world)
    payload = {"site": world.center.pk, "resolved_on": "2027-01-20", "outcome": "recovered"} | changes
    assert field in errors_of(post(world.center_coordinator, event_url(event, "resolve"), payload))
    event.refresh_from_db()
    assert event.status == ToxicityEvent.Status.ACTIVE


def test_read_only_member_reads_events_but_gets_403_for_every_change(world: World) -> None:
    event = recorded(world)
    reader = reader_at_center(world)
    assert api(reader).get(event_url(event)).status_code == 200
    writes = {
        "assessments": {"site": world.center.pk, "assessed_at": NOW.isoformat(), "assessment": CRS_GRADE_2},
        "treatments": {"site": world.center.pk, "kind": "tocilizumab", "given_at": NOW.isoformat()},
        "resolve": {"site": world.center.pk, "resolved_on": "2027-01-20", "outcome": "recovered"},
    }
    for action, payload in writes.items():
        assert post(reader, event_url(event, action), payload).status_code == 403, action
    event.refresh_from_db()
    assert (event.status, event.assessments.count(), event.treatments.count()) == ("active", 1, 0)


# --- Reading events -------------------------------------------------------------------------


def test_both_sites_list_the_event_and_the_outsider_does_not(world: World) -> None:
    event = recorded(world)
    for user in (world.community_oncologist, world.center_coordinator):
        assert [row["id"] for row in results(api(user).get(EVENTS))] == [event.pk]
    assert results(api(world.outsider).get(EVENTS)) == []


def test_event_shows_treatments_and_who_acknowledged_each_alert(world: World) -> None:
    name_point_persons(world)
    event = recorded(world)
    alert = Alert.objects.get(event=event, recipient=world.community_coordinator)
    alert_acknowledge(actor=world.community_coordinator, alert=alert)
    body = api(world.community_oncologist).get(event_url(event)).json()
    acknowledged = {a["recipient_name"]: a["acknowledged_by"] for a in body["alerts"] if a["acknowledged_at"]}
    rita = {"id": world.community_coordinator.pk, "full_name": "Rita Riverbend"}
    phil = {"id": center_physician(world).pk, "full_name": "Phil Physician"}
    # The site's open alerts count as seen; the recording site's were seen by whoever recorded.
    assert acknowledged == {"Rita Riverbend": rita, "Olive Oncologist": rita, "Cora Center": phil, "Nina Nurse": phil}
    assert {a["site"]["id"] for a in body["alerts"]} == {world.practice.pk, world.center.pk}


def test_events_filter_by_patient_kind_status_grade_and_site(world: World) -> None:
    crs = recorded(world)
    cytopenia = recorded(world, kind="cytopenia")
    other_patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    infection = toxicity_record(
        actor=world.community_oncologist,
        patient=other_patient,
        site=world.practice,
        kind="infection",
        onset_at=ONSET,
        ctcae_grade=4,
    )
    toxicity_resolve(
        actor=world.community_oncologist,
        event=cytopenia,
        site=world.practice,
        resolved_on=NOW.date(),
        outcome="unknown",
    )
    client = api(world.center_coordinator)

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in results(client.get(EVENTS, params))}

    assert ids(patient=str(world.shared_patient.pk)) == {crs.pk, cytopenia.pk}
    assert ids(kind=["crs", "infection"]) == {crs.pk, infection.pk}
    assert ids(status="resolved") == {cytopenia.pk}
    assert ids(min_grade=3) == {crs.pk, infection.pk}
    assert ids(min_grade=4) == {infection.pk}
    assert ids(site=world.practice.pk) == {infection.pk}
    assert ids(patient=str(world.foreign_patient.pk)) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "rash"}, "kind"),
        ({"status": "gone"}, "status"),
        ({"min_grade": "high"}, "min_grade"),
        ({"min_grade": "9"}, "min_grade"),
        ({"patient": "42"}, "patient"),
        ({"site": "abc"}, "site"),
    ],
)
def test_event_list_rejects_bad_filters_with_400(world: World, params: dict[str, str], field: str) -> None:
    assert field in errors_of(api(world.center_coordinator).get(EVENTS, params))


def test_unknown_event_is_404(world: World) -> None:
    assert api(world.center_coordinator).get(f"{EVENTS}999999/").status_code == 404


@pytest.mark.parametrize("action", ["", "assessments", "treatments", "resolve"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_outsider_gets_404_for_every_method_on_a_shared_event_and_its_actions(
    world: World, method: str, action: str
) -> None:
    event = recorded(world)
    payload = {"site": world.unrelated_practice.pk, "assessed_at": NOW.isoformat(), "assessment": CRS_GRADE_2}
    payload |= {"kind": "tocilizumab", "given_at": NOW.isoformat(), "resolved_on": "2027-01-20", "outcome": "fatal"}
    entries = TimelineEntry.objects.count()
    response = getattr(api(world.outsider), method)(event_url(event, action), payload, format="json")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert TimelineEntry.objects.count() == entries
    event.refresh_from_db()
    assert (event.status, event.assessments.count(), event.treatments.count()) == ("active", 1, 0)


def test_event_list_queries_do_not_grow_with_events_assessments_treatments_and_alerts(
    world: World, tmp_media: object
) -> None:
    record = small_record(world)  # names the point persons
    client = api(world.center_coordinator)

    def add_events(count: int) -> None:
        for _ in range(count):
            # A distinct onset each: the same entry twice is one event (a double submission).
            onset = ONSET - dt.timedelta(minutes=ToxicityEvent.objects.count())
            event = recorded(world, inputs=CRS_GRADE_2, onset_at=onset)
            for inputs in (CRS_GRADE_3, CRS_GRADE_2):
                toxicity_assess(
                    actor=world.center_coordinator, event=event, site=world.center, assessed_at=NOW, inputs=inputs
                )
            ToxicityTreatment.objects.create(
                event=event, kind="tocilizumab", given_at=NOW, recorded_by=world.center_coordinator, site=world.center
            )

    add_events(2)
    with_3 = count_queries(lambda: client.get(EVENTS))
    # More events, and more on the record: a third care-team site, whose people are alerted too.
    grow_record(record)
    another_record(world)
    add_events(10)
    assert count_queries(lambda: client.get(EVENTS)) == with_3
    rows = results(client.get(EVENTS))
    # Summaries: the course, treatments and alerts are in the event the summary links to.
    assert len(rows) == 16 and all(r["url"] == f"http://testserver{EVENTS}{r['id']}/" for r in rows)
    assert not {"assessments", "treatments", "alerts"} & {name for row in rows for name in row}


def test_event_queries_do_not_grow_with_its_course_treatments_and_alerts(world: World) -> None:
    client = api(world.center_coordinator)
    event = recorded(world, inputs=CRS_GRADE_2)  # nobody is point person yet: no alert
    with_none = count_queries(lambda: client.get(event_url(event)))
    name_point_persons(world)
    for minutes, inputs in ((30, CRS_GRADE_3), (20, CRS_GRADE_2), (10, CRS_GRADE_3)):  # a rising grade alerts
        at = NOW - dt.timedelta(minutes=minutes)
        toxicity_assess(actor=world.center_coordinator, event=event, site=world.center, assessed_at=at, inputs=inputs)
    for kind in ("tocilizumab", "corticosteroid"):
        ToxicityTreatment.objects.create(
            event=event, kind=kind, given_at=NOW, recorded_by=world.center_coordinator, site=world.practice
        )
    assert count_queries(lambda: client.get(event_url(event))) == with_none
    body = client.get(event_url(event)).json()
    assert (len(body["assessments"]), len(body["treatments"])) == (4, 2)
    assert body["alerts"] and body["url"] == f"http://testserver{event_url(event)}"


# --- Alerts ---------------------------------------------------------------------------------


def test_each_user_lists_only_their_own_alerts_unacknowledged_first(world: World) -> None:
    name_point_persons(world)
    first = recorded(world)
    second = recorded(world, kind="cytopenia")
    seen = Alert.objects.get(event=first, recipient=world.community_oncologist)
    alert_acknowledge(actor=world.community_oncologist, alert=seen)
    client = api(world.community_oncologist)
    rows = results(client.get(ALERTS))
    assert [(r["event"], r["acknowledged_at"] is None) for r in rows] == [(second.pk, True), (first.pk, False)]
    assert rows[0]["patient"] == str(world.shared_patient.pk)
    assert (rows[0]["kind"], rows[0]["reason"], rows[0]["grade"], rows[0]["site"]["id"]) == (
        "cytopenia",
        "recorded",
        2,
        world.practice.pk,
    )
    assert rows[1]["acknowledged_by"] == {"id": world.community_oncologist.pk, "full_name": "Olive Oncologist"}
    assert [r["event"] for r in results(client.get(ALERTS, {"acknowledged": "false"}))] == [second.pk]
    assert [r["event"] for r in results(client.get(ALERTS, {"acknowledged": "true"}))] == [first.pk]
    assert results(api(world.outsider).get(ALERTS)) == []


def test_the_recipient_acknowledges_through_the_api_for_their_site(world: World) -> None:
    people = name_point_persons(world)
    event = recorded(world)
    alert = Alert.objects.get(event=event, recipient=world.community_oncologist)
    response = api(world.community_oncologist).post(alert_url(alert, "acknowledge"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["acknowledged_at"] and body["acknowledged_by"]["id"] == world.community_oncologist.pk
    assert "no-store" in response["Cache-Control"]
    # The practice's other point person's alert counts as seen too; the center's were seen by
    # the physician who recorded the event, not by the oncologist.
    assert not Alert.objects.filter(event=event, acknowledged_at__isnull=True).exists()
    center = Alert.objects.filter(event=event, site=world.center)
    assert {a.recipient_id for a in center} == {world.center_coordinator.pk, people["center_nurse"].pk}
    assert {a.acknowledged_by_id for a in center} == {center_physician(world).pk}
    again = api(world.community_oncologist).post(alert_url(alert, "acknowledge"))
    assert "alert" in errors_of(again)


def test_someone_elses_alert_is_404_even_for_a_colleague_on_the_care_team(world: World) -> None:
    name_point_persons(world)
    alert = Alert.objects.get(event=recorded(world), recipient=world.community_oncologist)
    colleague = api(world.community_coordinator)
    assert colleague.get(alert_url(alert)).status_code == 404
    assert colleague.post(alert_url(alert, "acknowledge")).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


@pytest.mark.parametrize("action", ["", "acknowledge"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_outsider_gets_404_for_every_method_on_an_alert(world: World, method: str, action: str) -> None:
    name_point_persons(world)
    alert = Alert.objects.get(event=recorded(world), recipient=world.community_oncologist)
    response = getattr(api(world.outsider), method)(alert_url(alert, action), {}, format="json")
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_alert_list_queries_do_not_grow_with_rows_or_the_records(world: World, tmp_media: object) -> None:
    record = small_record(world)  # names the point persons
    client = api(world.community_oncologist)

    def add_alerts(count: int) -> None:
        for n in range(count):
            event = recorded(world, onset_at=ONSET - dt.timedelta(minutes=ToxicityEvent.objects.count()))
            if n % 2:
                alert_acknowledge(
                    actor=world.community_coordinator, alert=event.alerts.get(recipient=world.community_coordinator)
                )

    add_alerts(2)
    with_3 = count_queries(lambda: client.get(ALERTS))
    grow_record(record)
    another_record(world)
    add_alerts(10)
    assert count_queries(lambda: client.get(ALERTS)) == with_3
    assert len(results(client.get(ALERTS))) == Alert.objects.filter(recipient=world.community_oncologist).count() > 15


def test_the_alert_list_counts_the_alerts_without_reading_the_events(world: World) -> None:
    """The list's count is scoped on the alert's own patient (`Alert.patient`): it read every
    toxicity event of the network before."""
    name_point_persons(world)
    for n in range(3):
        recorded(world, onset_at=ONSET - dt.timedelta(minutes=n))
    with CaptureQueriesContext(connection) as queries:
        response = api(world.community_oncologist).get(ALERTS, {"count": "exact"})
    (count,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert "toxicity_alert" in count and "toxicity_toxicityevent" not in count
    assert response.json()["count"] == Alert.objects.filter(recipient=world.community_oncologist).count() == 3


# --- Everywhere -----------------------------------------------------------------------------


def test_every_toxicity_api_response_forbids_caching(world: World) -> None:
    name_point_persons(world)
    event = recorded(world)
    alert = Alert.objects.get(event=event, recipient=world.community_oncologist)
    client = api(world.community_oncologist)
    for url in (EVENTS, event_url(event), ALERTS, alert_url(alert)):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    error = post(world.community_oncologist, EVENTS, crs_payload(world, kind="rash"))
    assert error.status_code == 400 and "no-store" in error["Cache-Control"]


def test_anonymous_gets_no_toxicity_data(world: World) -> None:
    name_point_persons(world)
    event = recorded(world)
    alert = Alert.objects.get(event=event, recipient=world.community_oncologist)
    for url in (EVENTS, event_url(event), ALERTS, alert_url(alert)):
        assert APIClient().get(url).status_code in {401, 403}, url


def test_schema_documents_the_toxicity_routes_inputs_and_filters(world: World) -> None:
    document = yaml.safe_load(api(world.center_coordinator).get(reverse("api:schema")).content)
    paths = document["paths"]
    assert {
        "/api/toxicity-events/",
        "/api/toxicity-events/{event_id}/",
        "/api/toxicity-events/{event_id}/assessments/",
        "/api/toxicity-events/{event_id}/treatments/",
        "/api/toxicity-events/{event_id}/resolve/",
        "/api/alerts/",
        "/api/alerts/{alert_id}/",
        "/api/alerts/{alert_id}/acknowledge/",
    } <= set(paths)
    assert {p["name"] for p in paths["/api/toxicity-events/"]["get"]["parameters"]} >= {
        "patient",
        "kind",
        "status",
        "min_grade",
        "site",
    }
    assert "acknowledged" in {p["name"] for p in paths["/api/alerts/"]["get"]["parameters"]}
    schemas = document["components"]["schemas"]
    assert set(schemas["CRSInputsRequest"]["properties"]) == {
        "temperature_c",
        "fever_masked",
        "hypotension",
        "vasopressors",
        "vasopressin",
        "oxygen",
        "oxygen_flow_l_min",
    }
    assert set(schemas["ICANSInputsRequest"]["properties"]) == {
        "ice_score",
        "consciousness",
        "seizure",
        "motor",
        "cerebral_edema",
        "ice_items",
        "capd_score",
    }
