"""The hand-off API: templates, and a hand-off from start to acknowledgement and questions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from carecoord.models import TimelineEntry
from carecoord.roles import Role
from handoffs.models import Handoff, HandoffQuestion
from handoffs.services import (
    handoff_acknowledge,
    handoff_ask,
    template_draft,
)
from handoffs.template_editor.services import template_create
from tests.factories import member
from tests.helpers import (
    TRANSITION,
    World,
    another_record,
    api,
    complete_values,
    grow_record,
    name_point_persons,
    results,
    sent,
    shipped,
    small_record,
    started,
)

pytestmark = pytest.mark.django_db


def start_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload = {
        "patient": str(world.shared_patient.pk),
        "template": shipped().pk,
        "from_site": world.center.pk,
        "to_site": world.practice.pk,
    }
    return {**payload, **changes}


def url(handoff: Handoff, action: str = "") -> str:
    return f"/api/handoffs/{handoff.pk}/" + (f"{action}/" if action else "")


def errors_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()


def count_queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content
    return len(queries.captured_queries)


# --- Templates ------------------------------------------------------------------------------


def test_templates_list_the_shared_ones_with_their_published_schema(world: World) -> None:
    response = api(world.community_oncologist).get("/api/handoff-templates/")
    rows = {row["name"]: row for row in results(response)}
    assert set(rows) == {TRANSITION, "Referral packet", "Toxicity transfer"}
    transfer = rows["Toxicity transfer"]
    assert transfer["owner_site"] is None
    version = transfer["published_version"]
    # Version 2 of each shipped template asks for typed grades and ECOG (handoffs migration 0003).
    assert (version["number"], version["status"]) == (2, "published")
    event = version["schema"]["sections"][0]
    assert (event["key"], event["title"]) == ("event", "Toxicity")
    medications = next(f for f in event["fields"] if f["key"] == "medications")
    assert medications["path"] == "event.medications"
    assert medications["columns"] == ["drug", "dose", "frequency", "until"]
    assert medications["required"] is False and medications["help"] == "" and medications["choices"] == []
    assert "no-store" in response["Cache-Control"]


def test_a_template_shows_its_newest_published_version_not_its_draft(world: World) -> None:
    template = template_create(
        actor=world.center_coordinator, name="Lakeside discharge", description="", owner_site=world.center
    )
    schema = {"sections": [{"key": "a", "title": "A", "fields": [{"key": "b", "label": "B", "type": "text"}]}]}
    template_draft(actor=world.center_coordinator, template=template, schema=schema)
    body = api(world.center_coordinator).get(f"/api/handoff-templates/{template.pk}/").json()
    assert body["owner_site"]["id"] == world.center.pk
    assert body["published_version"] is None


def test_outsider_gets_404_for_another_sites_template(world: World) -> None:
    template = template_create(
        actor=world.center_coordinator, name="Lakeside discharge", description="", owner_site=world.center
    )
    client = api(world.outsider)
    for method in ("get", "put", "patch", "delete"):
        assert getattr(client, method)(f"/api/handoff-templates/{template.pk}/").status_code == 404
    assert "Lakeside discharge" not in {row["name"] for row in results(client.get("/api/handoff-templates/"))}


def test_template_list_queries_do_not_grow_with_templates(world: World) -> None:
    client = api(world.center_coordinator)
    before = count_queries(lambda: client.get("/api/handoff-templates/"))
    schema = {"sections": [{"key": "a", "title": "A", "fields": [{"key": "b", "label": "B", "type": "text"}]}]}
    for number in range(3):
        template = template_create(
            actor=world.center_coordinator, name=f"Ours {number}", description="", owner_site=world.center
        )
        template_draft(actor=world.center_coordinator, template=template, schema=schema)
    assert count_queries(lambda: client.get("/api/handoff-templates/")) == before


# --- A hand-off from start to finish --------------------------------------------------------


def test_handoff_from_center_to_practice_is_started_filled_sent_acknowledged_and_questioned(world: World) -> None:
    name_point_persons(world)
    center = api(world.center_coordinator)

    created = center.post("/api/handoffs/", start_payload(world), format="json")
    assert created.status_code == 201, created.content
    handoff = created.json()
    assert handoff["state"] == "draft"
    assert (handoff["template"]["name"], handoff["version"]["number"]) == (TRANSITION, 3)
    assert handoff["from_site"]["id"] == world.center.pk and handoff["to_site"]["id"] == world.practice.pk
    assert handoff["values"]["safety.center_24_7"] == "Lakeside CAR-T Center: +1 555 100 2400", "prefilled"
    assert handoff["schema"]["sections"][0]["key"] == "treatment"
    assert "no-store" in created["Cache-Control"]
    handoff_url = f"/api/handoffs/{handoff['id']}/"

    # Saving keeps the draft as typed and says what is not right yet.
    saved = center.post(
        handoff_url + "values/",
        {"values": {"treatment.infusion_date": "next Tuesday", "treatment.product": "Axi-cel"}},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["errors"] == {"treatment.infusion_date": "Enter a date as YYYY-MM-DD."}
    assert saved.json()["handoff"]["values"]["treatment.infusion_date"] == "next Tuesday"

    # Sending validates every field against the template version.
    refused = errors_of(center.post(handoff_url + "send/", format="json"))
    assert refused["values.treatment.infusion_date"] == ["Enter a date as YYYY-MM-DD."]
    assert refused["values.safety.red_flags"] == ["Red-flag symptoms needing a same-day call is required."]
    assert Handoff.objects.get(pk=handoff["id"]).state == Handoff.State.DRAFT

    fixed = center.patch(handoff_url + "values/", {"values": complete_values(shipped())}, format="json")
    assert fixed.json()["errors"] == {}
    sent_ = center.post(handoff_url + "send/", format="json")
    assert sent_.status_code == 200, sent_.content
    assert sent_.json()["state"] == "sent" and sent_.json()["sent_by"]["id"] == world.center_coordinator.pk
    assert sent_.json()["acknowledge_by"]

    # The practice's primary point person acknowledges.
    practice = api(world.community_oncologist)
    acknowledged = practice.post(handoff_url + "acknowledge/", format="json")
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == {
        "id": world.community_oncologist.pk,
        "full_name": "Olive Oncologist",
    }

    asked = practice.post(handoff_url + "questions/", {"body": "  Is IVIG planned before day 90?  "}, format="json")
    assert asked.status_code == 201, asked.content
    assert asked.json()["body"] == "Is IVIG planned before day 90?"
    assert asked.json()["site"]["id"] == world.practice.pk
    detail = center.get(handoff_url).json()
    assert [q["body"] for q in detail["questions"]] == ["Is IVIG planned before day 90?"]
    titles = set(TimelineEntry.objects.filter(patient=world.shared_patient).values_list("title", flat=True))
    assert f"Hand-off acknowledged at {world.practice}: {TRANSITION}" in titles


def test_patch_changes_only_the_values_sent_and_post_replaces_them_all(world: World) -> None:
    handoff = started(world)
    client = api(world.center_coordinator)
    prefilled = dict(handoff.values)
    patched = client.patch(
        url(handoff, "values"), {"values": {"restrictions.driving_until": "2027-03-01"}}, format="json"
    )
    assert patched.json()["handoff"]["values"] == {**prefilled, "restrictions.driving_until": "2027-03-01"}
    replaced = client.post(
        url(handoff, "values"), {"values": {"restrictions.driving_until": "2027-03-02"}}, format="json"
    )
    assert replaced.json()["handoff"]["values"] == {"restrictions.driving_until": "2027-03-02"}


def test_only_the_receiving_point_person_acknowledges(world: World) -> None:
    name_point_persons(world)
    handoff = sent(world)
    assert api(world.center_coordinator).post(url(handoff, "acknowledge")).status_code == 403
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.SENT


def test_acknowledging_twice_is_400_on_state(world: World) -> None:
    name_point_persons(world)
    handoff = sent(world)
    client = api(world.community_oncologist)
    assert client.post(url(handoff, "acknowledge")).status_code == 200
    assert "state" in errors_of(client.post(url(handoff, "acknowledge")))


def test_a_sent_handoff_cannot_be_edited_or_sent_again(world: World) -> None:
    handoff = sent(world)
    client = api(world.center_coordinator)
    assert "state" in errors_of(client.post(url(handoff, "values"), {"values": {}}, format="json"))
    assert "state" in errors_of(client.post(url(handoff, "send")))


def test_the_receiving_site_cannot_edit_or_send_the_draft(world: World) -> None:
    handoff = started(world)
    client = api(world.community_coordinator)
    assert client.post(url(handoff, "values"), {"values": {}}, format="json").status_code == 403
    assert client.post(url(handoff, "send")).status_code == 403


def test_a_question_before_sending_is_400_on_body(world: World) -> None:
    handoff = started(world)
    response = api(world.center_coordinator).post(url(handoff, "questions"), {"body": "Ready?"}, format="json")
    assert "body" in errors_of(response)
    assert not HandoffQuestion.objects.exists()


def test_read_only_member_gets_403_starting_a_handoff(world: World) -> None:
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    assert api(reader).post("/api/handoffs/", start_payload(world), format="json").status_code == 403
    assert not Handoff.objects.exists()


# --- Bad input: 400 on the field, never 500 -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient": "not-a-uuid"}, "patient"),
        ({"patient": "00000000-0000-0000-0000-000000000000"}, "patient"),
        ({"patient": None}, "patient"),
        ({"template": "abc"}, "template"),
        ({"template": 999999}, "template"),
        ({"from_site": 999999}, "from_site"),
        ({"to_site": [1]}, "to_site"),
    ],
)
def test_starting_rejects_bad_input_with_400_on_the_field(world: World, changes: dict[str, Any], field: str) -> None:
    response = api(world.center_coordinator).post("/api/handoffs/", start_payload(world, **changes), format="json")
    assert field in errors_of(response)
    assert not Handoff.objects.exists()


def test_starting_from_a_site_where_the_user_does_not_work_is_400_on_from_site(world: World) -> None:
    payload = start_payload(world, from_site=world.practice.pk, to_site=world.center.pk)
    assert "from_site" in errors_of(api(world.center_coordinator).post("/api/handoffs/", payload, format="json"))


def test_starting_to_a_site_off_the_care_team_is_400_on_to_site(world: World) -> None:
    payload = start_payload(world, to_site=world.unrelated_practice.pk)
    assert "to_site" in errors_of(api(world.center_coordinator).post("/api/handoffs/", payload, format="json"))


def test_starting_from_another_sites_template_is_400_on_template(world: World) -> None:
    theirs = template_create(
        actor=world.community_coordinator, name="Riverbend intake", description="", owner_site=world.practice
    )
    payload = start_payload(world, template=theirs.pk)
    assert "template" in errors_of(api(world.center_coordinator).post("/api/handoffs/", payload, format="json"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"values": "all good"}, "values"),
        ({"values": ["treatment.product"]}, "values"),
        ({}, "values"),
        ({"values": {"treatment.colour": "red"}}, "values"),
        ({"values": {"no_dot": "x"}}, "values"),
    ],
)
def test_saving_rejects_bad_input_with_400_on_values(world: World, body: dict[str, Any], message: str) -> None:
    handoff = started(world)
    before = dict(handoff.values)
    response = api(world.center_coordinator).post(url(handoff, "values"), body, format="json")
    assert message in errors_of(response)
    handoff.refresh_from_db()
    assert handoff.values == before


def test_malformed_values_of_known_fields_are_kept_and_reported_not_refused(world: World) -> None:
    handoff = started(world)
    values = {
        "treatment.highest_crs": {"grade": 2},
        "medications.current": [{"drug": "Acyclovir", "colour": "blue"}],
        "monitoring.irradiated_products": "maybe",
    }
    response = api(world.center_coordinator).post(url(handoff, "values"), {"values": values}, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()["errors"]) == set(values)


def test_the_api_says_what_each_message_is_and_takes_needs_answer(world: World) -> None:
    handoff = sent(world)
    practice, center = api(world.community_oncologist), api(world.center_coordinator)

    def post(client: APIClient, data: dict[str, Any], **kwargs: Any) -> str:
        response = client.post(url(handoff, "questions"), data, **kwargs)
        assert response.status_code == 201, response.content
        return str(response.json()["kind"])

    assert post(practice, {"body": "Is IVIG planned?"}, format="json") == "question"
    # A form body without `needs_answer` takes the default too (not "false").
    assert post(center, {"body": "Yes, from day 30."}, format="multipart") == "answer"
    assert post(practice, {"body": "Thanks.", "needs_answer": False}, format="json") == "note"
    assert post(practice, {"body": "Which dose?", "needs_answer": None}, format="json") == "question"
    assert post(center, {"body": "Which weight?", "needs_answer": True}, format="json") == "question"
    kinds = [q["kind"] for q in center.get(url(handoff, "")).json()["questions"]]
    assert kinds == ["question", "answer", "note", "question", "question"]
    assert Handoff.objects.get(pk=handoff.pk).last_word_site == world.center
    assert "needs_answer" in errors_of(center.post(url(handoff, "questions"), {"body": "Hi", "needs_answer": "x"}))


def test_an_empty_question_is_400_on_body(world: World) -> None:
    handoff = sent(world)
    response = api(world.center_coordinator).post(url(handoff, "questions"), {"body": ""}, format="json")
    assert "body" in errors_of(response)


# --- Lists and scope ------------------------------------------------------------------------


def test_list_filters_by_patient_state_and_sites(world: World) -> None:
    draft = started(world, "Toxicity transfer")
    done = sent(world)
    client = api(world.center_coordinator)

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in results(client.get("/api/handoffs/", params))}

    assert ids() == {draft.pk, done.pk}
    assert ids(state="sent") == {done.pk}
    assert ids(state=["draft", "sent"]) == {draft.pk, done.pk}
    assert ids(patient=str(world.shared_patient.pk)) == {draft.pk, done.pk}
    assert ids(patient=str(world.foreign_patient.pk)) == set()
    assert ids(to_site=world.practice.pk, from_site=world.center.pk) == {draft.pk, done.pk}
    assert ids(to_site=world.center.pk) == set()


@pytest.mark.parametrize("params", [{"patient": "nobody"}, {"state": "lost"}, {"to_site": "x"}])
def test_a_bad_filter_is_400_not_500(world: World, params: dict[str, str]) -> None:
    assert api(world.center_coordinator).get("/api/handoffs/", params).status_code == 400


def test_list_query_count_does_not_grow_with_handoffs_questions_or_the_records(world: World, tmp_media: object) -> None:
    client = api(world.center_coordinator)
    record = small_record(world)
    started(world, "Toxicity transfer")
    with_two = count_queries(lambda: client.get("/api/handoffs/"))
    grow_record(record)
    another_record(world)
    handoff = sent(world)
    for body in ("First?", "Second?"):
        handoff_ask(actor=world.center_coordinator, handoff=handoff, body=body)
    started(world, "Referral packet")
    assert count_queries(lambda: client.get("/api/handoffs/")) == with_two
    assert len(results(client.get("/api/handoffs/"))) == Handoff.objects.count() == 6


def test_outsider_lists_no_handoff_of_another_sites_patient(world: World) -> None:
    sent(world)
    assert results(api(world.outsider).get("/api/handoffs/")) == []


@pytest.mark.parametrize("action", ["", "values", "send", "acknowledge", "questions"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_outsider_gets_404_for_every_method_on_a_handoff(world: World, action: str, method: str) -> None:
    handoff = started(world)
    response = getattr(api(world.outsider), method)(url(handoff, action), {"values": {}, "body": "Hi"}, format="json")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    handoff.refresh_from_db()
    assert handoff.state == Handoff.State.DRAFT
    assert not HandoffQuestion.objects.exists()


def test_outsider_cannot_start_a_handoff_for_a_patient_they_cannot_see(world: World) -> None:
    payload = start_payload(world, from_site=world.unrelated_practice.pk)
    assert "patient" in errors_of(api(world.outsider).post("/api/handoffs/", payload, format="json"))
    assert not Handoff.objects.exists()


def test_anonymous_gets_401(world: World) -> None:
    assert APIClient().get("/api/handoffs/").status_code == 401


def test_values_take_json_only_so_a_form_body_is_refused_not_ignored(world: World) -> None:
    handoff = started(world)
    before = dict(handoff.values)
    response = api(world.center_coordinator).patch(url(handoff, "values"), {"values": "123"})
    assert response.status_code == 415
    assert "detail" in response.json()
    handoff.refresh_from_db()
    assert handoff.values == before


def test_handoff_queries_do_not_grow_with_its_questions_or_who_acted_on_it(world: World) -> None:
    name_point_persons(world)  # the practice's primary point person acknowledges
    client = api(world.center_coordinator)
    draft = started(world)  # nobody sent nor acknowledged it, no question
    with_nothing = count_queries(lambda: client.get(f"/api/handoffs/{draft.pk}/"))
    handoff = sent(world)
    for body in ("First?", "Second?", "Third?"):
        handoff_ask(actor=world.community_oncologist, handoff=handoff, body=body)
    handoff_acknowledge(actor=world.community_oncologist, handoff=handoff)
    assert count_queries(lambda: client.get(f"/api/handoffs/{handoff.pk}/")) == with_nothing
    body = client.get(f"/api/handoffs/{handoff.pk}/").json()
    assert len(body["questions"]) == 3 and body["sent_by"] and body["acknowledged_by"] and body["values"]
    listed = results(client.get("/api/handoffs/"))
    assert [row["url"] for row in listed] == [f"http://testserver/api/handoffs/{h.pk}/" for h in (handoff, draft)]
    assert not {"values", "questions", "schema"} & {name for row in listed for name in row}
