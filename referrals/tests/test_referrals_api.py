"""The referral API: referrals and moves, documents, milestones, comments and the shared timeline."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from carecoord.models import Patient, PatientIdentifier, TimelineEntry, User
from carecoord.roles import Role
from carecoord.services.comments import comment_post
from carecoord.text_limits import NOTE_MAX_LENGTH, PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH
from referrals.milestones.services import milestone_plan, milestone_set_infusion
from referrals.models import Milestone, Referral, ReferralDocument
from referrals.services import referral_attach_document, referral_set_plan
from referrals.workflow import Move
from tests.factories import member, patient_at
from tests.helpers import (
    REFERRAL_FIELDS,
    World,
    accepted_referral,
    advance,
    another_record,
    api,
    draft_referral,
    grow_record,
    results,
    small_record,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
INFUSION_DAY = dt.date(2027, 1, 11)


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield tmp_path


def pdf(name: str = "pathology.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def referral_payload(world: World, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "patient": str(world.shared_patient.pk),
        "from_site": world.practice.pk,
        "to_center": world.center.pk,
        "referring_physician": world.community_oncologist.pk,
        **REFERRAL_FIELDS,
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def submitted_referral(world: World, patient: Patient | None = None) -> Referral:
    return advance(draft_referral(world, patient), [(Move.SUBMIT, world.community_coordinator)])


def reader_at_center(world: World) -> User:
    return member(world.center, Role.READ_ONLY, email="reader@lakeside.test")


def count_queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content
    return len(queries.captured_queries)


def errors_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()


# --- Creating referrals ---------------------------------------------------------------------


def test_practice_coordinator_drafts_a_referral_for_an_existing_patient(world: World) -> None:
    response = api(world.community_coordinator).post("/api/referrals/", referral_payload(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft"
    assert body["patient"] == str(world.shared_patient.pk)
    assert body["from_site"]["id"] == world.practice.pk
    assert body["to_center"]["id"] == world.center.pk
    assert body["referring_physician"] == {"id": world.community_oncologist.pk, "full_name": "Olive Oncologist"}
    assert body["available_moves"] == ["submit", "withdraw"]
    assert body["moves"] == [] and body["documents"] == [] and body["overdue"] is False
    assert "no-store" in response["Cache-Control"]
    assert Referral.objects.get(pk=body["id"]).created_by == world.community_coordinator


def test_referral_with_a_new_patient_registers_the_patient_at_the_practice(world: World) -> None:
    new_patient = {
        "mrn": "RB-777",
        "given_name": "Nell",
        "family_name": "Newreferral",
        "date_of_birth": "1958-02-01",
        "sex": "male",
        "disease_area": "lbcl",
    }
    payload = referral_payload(world, patient=None, new_patient=new_patient)
    response = api(world.community_coordinator).post("/api/referrals/", payload, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(family_name="Newreferral")
    assert response.json()["patient"] == str(patient.pk)
    assert PatientIdentifier.objects.get(patient=patient).site == world.practice


def test_new_patient_with_a_taken_mrn_is_400_and_nothing_is_saved(world: World) -> None:
    mrn = PatientIdentifier.objects.get(patient=world.shared_patient, site=world.practice).mrn
    new_patient = {"mrn": mrn, "given_name": "Dup", "family_name": "Licate", "date_of_birth": "1958-02-01"}
    new_patient |= {"sex": "male", "disease_area": "lbcl"}
    response = api(world.community_coordinator).post(
        "/api/referrals/", referral_payload(world, patient=None, new_patient=new_patient), format="json"
    )
    assert "mrn" in errors_of(response)
    assert not Patient.objects.filter(family_name="Licate").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prior_lines_of_therapy": "two"}, "prior_lines_of_therapy"),
        ({"performance_status": 9}, "performance_status"),
        ({"urgency": "whenever"}, "urgency"),
        ({"disease_area": None}, "disease_area"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * (REASON_MAX_LENGTH + 1)}, "reason"),
        ({"prior_therapies": "x" * (PRIOR_THERAPIES_MAX_LENGTH + 1)}, "prior_therapies"),
        ({"to_center": "abc"}, "to_center"),
        ({"to_center": 999999}, "to_center"),
        ({"patient": None}, "patient"),
        ({"patient": "not-a-uuid"}, "patient"),
        ({"patient": "00000000-0000-0000-0000-000000000000"}, "patient"),
        ({"new_patient": {"mrn": "X-1"}}, "new_patient"),
        ({"new_patient": "Nell Newreferral"}, "new_patient"),
        ({"patient": None, "new_patient": {"mrn": "X-1", "date_of_birth": "yesterday"}}, "new_patient"),
    ],
)
def test_referral_creation_rejects_bad_input_with_400_on_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    response = api(world.community_coordinator).post(
        "/api/referrals/", referral_payload(world, **changes), format="json"
    )
    assert field in errors_of(response)
    assert not Referral.objects.exists()


def test_a_104000_character_reason_is_400_saying_the_limit(world: World) -> None:
    response = api(world.community_coordinator).post(
        "/api/referrals/", referral_payload(world, reason="word " * 20_800), format="json"
    )
    assert errors_of(response)["reason"] == [f"Ensure this field has no more than {REASON_MAX_LENGTH} characters."]
    assert not Referral.objects.exists()


def test_a_reason_at_the_limit_is_accepted(world: World) -> None:
    response = api(world.community_coordinator).post(
        "/api/referrals/", referral_payload(world, reason="x" * REASON_MAX_LENGTH), format="json"
    )
    assert response.status_code == 201, response.content


def test_referral_for_both_an_existing_and_a_new_patient_is_400_on_patient(world: World) -> None:
    new_patient = {"mrn": "X-2", "given_name": "Two", "family_name": "Ways", "date_of_birth": "1958-02-01"}
    new_patient |= {"sex": "male", "disease_area": "lbcl"}
    payload = referral_payload(world, new_patient=new_patient)
    response = api(world.community_coordinator).post("/api/referrals/", payload, format="json")
    assert errors_of(response)["patient"] == ["Send either an existing patient or a new patient, not both."]
    assert not Patient.objects.filter(family_name="Ways").exists()


def test_referral_to_a_community_practice_is_400_on_to_center(world: World) -> None:
    payload = referral_payload(world, to_center=world.practice.pk)
    response = api(world.community_coordinator).post("/api/referrals/", payload, format="json")
    assert errors_of(response)["to_center"] == ["Choose an academic CAR-T center."]


def test_referral_from_a_site_where_the_user_does_not_work_is_400_on_from_site(world: World) -> None:
    payload = referral_payload(world, from_site=world.unrelated_practice.pk)
    response = api(world.community_coordinator).post("/api/referrals/", payload, format="json")
    assert "from_site" in errors_of(response)


def test_referring_physician_from_another_site_is_400_on_referring_physician(world: World) -> None:
    payload = referral_payload(world, referring_physician=world.outsider.pk)
    response = api(world.community_coordinator).post("/api/referrals/", payload, format="json")
    assert "referring_physician" in errors_of(response)


def test_second_open_referral_to_the_same_center_is_400_on_to_center(world: World) -> None:
    draft_referral(world)
    response = api(world.community_coordinator).post("/api/referrals/", referral_payload(world), format="json")
    assert "already has an open referral" in errors_of(response)["to_center"][0]


def test_outsider_cannot_refer_a_patient_they_cannot_see(world: World) -> None:
    payload = referral_payload(world, from_site=world.unrelated_practice.pk)
    response = api(world.outsider).post("/api/referrals/", payload, format="json")
    assert "patient" in errors_of(response)
    assert not Referral.objects.exists()


def test_read_only_member_gets_403_drafting_a_referral(world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@riverbend.test")
    payload = referral_payload(world, referring_physician=world.community_oncologist.pk)
    assert api(reader).post("/api/referrals/", payload, format="json").status_code == 403
    assert not Referral.objects.exists()


# --- Reading referrals ----------------------------------------------------------------------


def test_both_sides_see_the_referral_and_the_outsider_does_not(world: World) -> None:
    referral = submitted_referral(world)
    for user in (world.community_coordinator, world.center_coordinator):
        assert [row["id"] for row in results(api(user).get("/api/referrals/"))] == [referral.pk]
    assert results(api(world.outsider).get("/api/referrals/")) == []


def test_referral_shows_history_documents_and_the_moves_each_side_may_make(world: World) -> None:
    referral = submitted_referral(world)
    document = referral_attach_document(
        actor=world.community_coordinator, referral=referral, kind="pathology", upload=pdf()
    )
    center = api(world.center_coordinator).get(f"/api/referrals/{referral.pk}/").json()
    assert center["state"] == "submitted"
    assert center["state_label"] == "Submitted"
    [move] = center["moves"]
    assert (move["from_state"], move["to_state"]) == ("draft", "submitted")
    assert move["actor"]["full_name"] == "Rita Riverbend"
    assert move["site"]["id"] == world.practice.pk
    assert move["at"]
    [doc] = center["documents"]
    assert (doc["id"], doc["kind"], doc["name"], doc["size"]) == (document.pk, "pathology", "pathology.pdf", len(PDF))
    assert doc["download_url"].endswith(f"/api/documents/{document.pk}/download/")
    assert center["available_moves"] == ["acknowledge"]
    practice = api(world.community_coordinator).get(f"/api/referrals/{referral.pk}/").json()
    assert practice["available_moves"] == ["withdraw"]


def test_read_only_member_sees_the_referral_with_no_moves_available(world: World) -> None:
    referral = submitted_referral(world)
    response = api(reader_at_center(world)).get(f"/api/referrals/{referral.pk}/")
    assert response.status_code == 200
    assert response.json()["available_moves"] == []


@pytest.mark.parametrize("referral_id", ["999999"])
def test_unknown_referral_is_404(world: World, referral_id: str) -> None:
    assert api(world.center_coordinator).get(f"/api/referrals/{referral_id}/").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_outsider_gets_404_for_every_method_on_a_shared_referral(world: World, method: str) -> None:
    referral = draft_referral(world)
    response = getattr(api(world.outsider), method)(f"/api/referrals/{referral.pk}/", {}, format="json")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_referrals_filter_by_state_center_site_and_patient(world: World) -> None:
    submitted = submitted_referral(world)
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    drafted = draft_referral(world, other)
    client = api(world.community_coordinator)

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in results(client.get("/api/referrals/", params))}

    assert ids(state="submitted") == {submitted.pk}
    assert ids(state=["draft", "submitted"]) == {submitted.pk, drafted.pk}
    assert ids(patient=str(other.pk)) == {drafted.pk}
    assert ids(to_center=world.center.pk) == {submitted.pk, drafted.pk}
    assert ids(from_site=world.unrelated_practice.pk) == set()


def test_overdue_referrals_are_flagged_and_filtered(world: World) -> None:
    late = submitted_referral(world)
    on_time = draft_referral(world, patient_at(world.practice, world.community_coordinator, shared_with=world.center))
    client = APIClient()
    client.force_authenticate(world.center_coordinator)  # a session would expire on the trip
    assert {row["id"] for row in results(client.get("/api/referrals/", {"overdue": "true"}))} == set()
    with time_machine.travel(timezone.now() + dt.timedelta(days=5), tick=False):
        rows = results(client.get("/api/referrals/", {"overdue": "true"}))
        assert [(row["id"], row["overdue"]) for row in rows] == [(late.pk, True)]
        rows = results(client.get("/api/referrals/", {"overdue": "false"}))
        assert [(row["id"], row["overdue"]) for row in rows] == [(on_time.pk, False)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"to_center": "abc"}, "to_center"),
        ({"from_site": "abc"}, "from_site"),
        ({"patient": "not-a-uuid"}, "patient"),
        ({"ordering": "reason"}, None),
    ],
)
def test_referral_list_rejects_bad_filters_with_400(world: World, params: dict[str, str], field: str | None) -> None:
    response = api(world.center_coordinator).get("/api/referrals/", params)
    if field is None:  # an unknown ordering is ignored, never a 500
        assert response.status_code == 200
    else:
        assert field in errors_of(response)


def test_referral_list_queries_do_not_grow_with_rows_or_their_records(world: World) -> None:
    client = api(world.center_coordinator)
    record = small_record(world)

    def add_submitted_referral_with_document() -> None:
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        referral = submitted_referral(world, patient)
        referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())

    add_submitted_referral_with_document()
    with_one = count_queries(lambda: client.get("/api/referrals/"))
    grow_record(record)  # a second referral with three documents, and more of the record
    another_record(world)
    for _ in range(6):
        add_submitted_referral_with_document()
    assert count_queries(lambda: client.get("/api/referrals/")) == with_one
    rows = results(client.get("/api/referrals/"))
    assert len(rows) == 10 and "documents" not in rows[0]  # summaries: documents are in the detail
    details = [client.get(row["url"]).json() for row in rows]
    assert max(len(detail["documents"]) for detail in details) == 3


# --- Moving referrals -----------------------------------------------------------------------


def move(user: User, referral: Referral, **payload: Any) -> Any:
    return api(user).post(f"/api/referrals/{referral.pk}/move/", payload, format="json")


def test_center_acknowledges_a_submitted_referral(world: World) -> None:
    referral = submitted_referral(world)
    response = move(world.center_coordinator, referral, move="acknowledge", note="Got it")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "received"
    assert [(m["to_state"], m["note"]) for m in body["moves"]] == [("submitted", ""), ("received", "Got it")]
    assert body["available_moves"] == ["start_review", "schedule_consult", "decline"]
    assert "no-store" in response["Cache-Control"]


def test_practice_submits_its_draft_and_the_center_joins_the_care_team(world: World) -> None:
    referral = draft_referral(world)
    response = move(world.community_coordinator, referral, move="submit")
    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
    assert response.json()["acknowledge_by"]


def test_practice_cannot_acknowledge_its_own_referral(world: World) -> None:
    referral = submitted_referral(world)
    response = move(world.community_coordinator, referral, move="acknowledge")
    assert errors_of(response)["move"] == ["Only the receiving center can acknowledge a referral."]
    referral.refresh_from_db()
    assert referral.state == "submitted"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "move"),
        ({"move": "teleport"}, "move"),
        ({"move": 7}, "move"),
        ({"move": "accept"}, "move"),  # not from "received"
        ({"move": "decline"}, "decline_reason"),
        ({"move": "decline", "decline_reason": "   "}, "decline_reason"),
        ({"move": "schedule_consult"}, "consult_on"),
        ({"move": "schedule_consult", "consult_on": "next tuesday"}, "consult_on"),
        ({"move": "schedule_consult", "consult_on": "2026-02-30"}, "consult_on"),
        ({"move": "decline", "decline_reason": "x" * (REASON_MAX_LENGTH + 1)}, "decline_reason"),
        ({"move": "start_review", "note": "x" * (NOTE_MAX_LENGTH + 1)}, "note"),
    ],
)
def test_bad_moves_are_400_on_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    referral = advance(submitted_referral(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    assert field in errors_of(move(world.center_coordinator, referral, **payload))


def test_scheduling_the_consult_plans_the_consult_milestone(world: World) -> None:
    referral = advance(submitted_referral(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    response = move(world.center_coordinator, referral, move="schedule_consult", consult_on="2026-12-03")
    assert response.json()["state"] == "consult_scheduled"
    assert Milestone.objects.get(referral=referral, kind="consult").planned_on == dt.date(2026, 12, 3)


def test_read_only_member_gets_403_moving_a_referral(world: World) -> None:
    referral = submitted_referral(world)
    assert move(reader_at_center(world), referral, move="acknowledge").status_code == 403
    referral.refresh_from_db()
    assert referral.state == "submitted"


def test_outsider_gets_404_moving_a_shared_referral(world: World) -> None:
    referral = submitted_referral(world)
    assert move(world.outsider, referral, move="withdraw").status_code == 404
    assert api(world.outsider).get(f"/api/referrals/{referral.pk}/move/").status_code == 404
    referral.refresh_from_db()
    assert referral.state == "submitted"


def test_get_on_own_referrals_move_action_is_405(world: World) -> None:
    referral = submitted_referral(world)
    assert api(world.center_coordinator).get(f"/api/referrals/{referral.pk}/move/").status_code == 405


# --- Documents ------------------------------------------------------------------------------


def upload(user: User, referral: Referral, **data: Any) -> Any:
    return api(user).post(f"/api/referrals/{referral.pk}/documents/", data, format="multipart")


def test_practice_attaches_a_document_and_the_center_downloads_it(world: World) -> None:
    referral = submitted_referral(world)
    response = upload(world.community_coordinator, referral, kind="pathology", file=pdf("biopsy.pdf"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["name"], body["content_type"], body["size"]) == (
        "pathology",
        "biopsy.pdf",
        "application/pdf",
        len(PDF),
    )
    download = api(world.center_coordinator).get(body["download_url"])
    assert download.status_code == 200
    assert download.getvalue() == PDF
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"] and "biopsy.pdf" in download["Content-Disposition"]
    assert "no-store" in download["Cache-Control"]


def test_an_uploaded_name_is_data_and_the_download_is_named_as_its_content(world: World, media: Path) -> None:
    referral = submitted_referral(world)
    upload_ = SimpleUploadedFile('../x/"setup".exe', PDF, content_type="application/x-msdownload")
    response = upload(world.community_coordinator, referral, kind="labs", file=upload_)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"]) == ('"setup".exe', "application/pdf")
    document = ReferralDocument.objects.get(pk=body["id"])
    assert re.fullmatch(r"referrals/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", str(document.file))
    assert [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()] == [document.file.name]
    download = api(world.center_coordinator).get(body["download_url"])
    assert download["Content-Disposition"] == 'attachment; filename="_setup_.pdf"'


def test_document_list_and_detail_show_only_visible_documents(world: World) -> None:
    referral = submitted_referral(world)
    document = referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())
    client = api(world.center_coordinator)
    assert [row["id"] for row in results(client.get("/api/documents/", {"referral": referral.pk}))] == [document.pk]
    assert results(client.get("/api/documents/", {"kind": "imaging"})) == []
    detail = client.get(f"/api/documents/{document.pk}/")
    assert detail.json()["name"] == "pathology.pdf"
    assert "no-store" in detail["Cache-Control"]
    assert results(api(world.outsider).get("/api/documents/")) == []


def test_outsider_gets_404_for_a_shared_document_and_its_file(world: World) -> None:
    referral = submitted_referral(world)
    document = referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())
    client = api(world.outsider)
    assert client.get(f"/api/documents/{document.pk}/").status_code == 404
    assert client.get(f"/api/documents/{document.pk}/download/").status_code == 404
    assert client.delete(f"/api/documents/{document.pk}/").status_code == 404


def test_document_whose_file_is_gone_is_404_not_500(world: World, media: Path) -> None:
    referral = submitted_referral(world)
    document = referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())
    Path(document.file.path).unlink()
    assert api(world.center_coordinator).get(f"/api/documents/{document.pk}/download/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "pathology"}, "file"),
        ({"kind": "pathology", "file": "not a file"}, "file"),
        ({"kind": "pathology", "file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary")}, "file"),
        ({"kind": "pathology", "file": SimpleUploadedFile("empty.pdf", b"")}, "file"),
        ({"kind": "horoscope", "file": "PDF"}, "kind"),
        ({"file": "PDF"}, "kind"),
    ],
)
def test_bad_uploads_are_400_on_the_field(world: World, data: dict[str, Any], field: str) -> None:
    referral = submitted_referral(world)
    data = {name: pdf() if value == "PDF" else value for name, value in data.items()}
    assert field in errors_of(upload(world.community_coordinator, referral, **data))
    assert not ReferralDocument.objects.exists()


@override_settings(REFERRAL_DOCUMENT_MAX_MB=1)
def test_upload_over_the_size_limit_is_400_on_file(world: World) -> None:
    referral = submitted_referral(world)
    big = pdf("big.pdf", PDF + b"0" * (1024 * 1024))
    message = errors_of(upload(world.community_coordinator, referral, kind="imaging", file=big))["file"][0]
    assert "the limit is 1 MB" in message


def test_upload_to_a_closed_referral_is_400_on_file(world: World) -> None:
    referral = advance(submitted_referral(world), [(Move.WITHDRAW, world.community_coordinator)])
    response = upload(world.community_coordinator, referral, kind="labs", file=pdf())
    assert "file" in errors_of(response)


def test_read_only_member_gets_403_attaching_a_document(world: World) -> None:
    referral = submitted_referral(world)
    assert upload(reader_at_center(world), referral, kind="labs", file=pdf()).status_code == 403
    assert not ReferralDocument.objects.exists()


def test_outsider_gets_404_attaching_to_a_shared_referral(world: World) -> None:
    referral = submitted_referral(world)
    assert upload(world.outsider, referral, kind="labs", file=pdf()).status_code == 404
    assert not ReferralDocument.objects.exists()


# --- Milestones -----------------------------------------------------------------------------


def post(user: User, url: str, **payload: Any) -> Any:
    return api(user).post(url, payload, format="json")


def test_either_site_plans_a_preparation_step(world: World) -> None:
    referral = submitted_referral(world)
    response = post(
        world.community_coordinator,
        f"/api/referrals/{referral.pk}/milestones/",
        kind="bridging_therapy",
        planned_on="2026-12-07",
        given_at=world.practice.pk,
        note="Pola-R",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["kind_label"], body["planned_on"], body["status"]) == (
        "bridging_therapy",
        "Bridging therapy",
        "2026-12-07",
        "planned",
    )
    assert body["given_at"]["id"] == world.practice.pk
    assert body["patient"] == str(world.shared_patient.pk)
    assert body["day_label"] is None
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"planned_on": "2026-12-07"}, "kind"),
        ({"kind": "séance", "planned_on": "2026-12-07"}, "kind"),
        ({"kind": "infusion", "planned_on": "2026-12-07"}, "kind"),
        ({"kind": "apheresis"}, "planned_on"),
        ({"kind": "apheresis", "planned_on": "07/12/2026"}, "planned_on"),
        ({"kind": "apheresis", "planned_on": "2026-12-07", "given_at": "abc"}, "given_at"),
        ({"kind": "apheresis", "planned_on": "2026-12-07", "given_at": 999999}, "given_at"),
    ],
)
def test_bad_milestone_plans_are_400_on_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    referral = submitted_referral(world)
    response = post(world.center_coordinator, f"/api/referrals/{referral.pk}/milestones/", **payload)
    assert field in errors_of(response)


def test_planning_on_a_closed_referral_is_400_on_referral(world: World) -> None:
    referral = advance(submitted_referral(world), [(Move.WITHDRAW, world.community_coordinator)])
    response = post(
        world.center_coordinator, f"/api/referrals/{referral.pk}/milestones/", kind="apheresis", planned_on="2026-12-07"
    )
    assert "referral" in errors_of(response)


def test_center_sets_the_infusion_and_the_course_is_planned(world: World) -> None:
    referral = accepted_referral(world)
    response = post(world.center_coordinator, f"/api/referrals/{referral.pk}/infusion/", infusion_on="2027-01-11")
    assert response.status_code == 200, response.content
    by_kind = {row["kind"]: row for row in response.json()}
    assert by_kind["infusion"]["planned_on"] == "2027-01-11"
    assert by_kind["infusion"]["day_label"] == "day 0"
    assert by_kind["lymphodepletion_start"]["day_label"] == "day -5"
    assert by_kind["hand_back"]["day_label"] == "day +21"


def test_moving_the_infusion_without_a_reason_is_400_on_reason(world: World) -> None:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION_DAY)
    url = f"/api/referrals/{referral.pk}/infusion/"
    assert "reason" in errors_of(post(world.center_coordinator, url, infusion_on="2027-01-18"))
    response = post(world.center_coordinator, url, infusion_on="2027-01-18", reason="Product release delayed")
    assert {row["kind"]: row["planned_on"] for row in response.json()}["infusion"] == "2027-01-18"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "infusion_on"), ({"infusion_on": "soon"}, "infusion_on"), ({"infusion_on": 20270111}, "infusion_on")],
)
def test_bad_infusion_dates_are_400_on_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    referral = accepted_referral(world)
    assert field in errors_of(post(world.center_coordinator, f"/api/referrals/{referral.pk}/infusion/", **payload))


def test_infusion_before_acceptance_is_400_on_infusion_on(world: World) -> None:
    referral = submitted_referral(world)
    url = f"/api/referrals/{referral.pk}/infusion/"
    assert "infusion_on" in errors_of(post(world.center_coordinator, url, infusion_on="2027-01-11"))


def planned_course(world: World) -> Referral:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION_DAY)
    return referral


def milestone_of(referral: Referral, kind: str) -> Milestone:
    return Milestone.objects.get(referral=referral, kind=kind)


AFTER_THE_VISIT = dt.datetime(2027, 2, 12, 18, tzinfo=dt.UTC)


def test_community_oncologist_marks_a_visit_done_with_its_day_label(world: World) -> None:
    referral = planned_course(world)
    visit = milestone_of(referral, "visit_day_30")
    with time_machine.travel(AFTER_THE_VISIT, tick=False):
        response = post(
            world.community_oncologist, f"/api/milestones/{visit.pk}/complete/", actual_on="2027-02-11", note="Well"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["actual_on"], body["day_label"], body["done_note"]) == (
        "done",
        "2027-02-11",
        "day +31",
        "Well",
    )
    assert body["note"] == ""  # the planning note, none here: the done note does not replace it


def test_completing_twice_is_400_on_status(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    url = f"/api/milestones/{visit.pk}/complete/"
    with time_machine.travel(AFTER_THE_VISIT, tick=False):
        assert post(world.center_coordinator, url, actual_on="2027-02-10").status_code == 200
        assert "status" in errors_of(post(world.center_coordinator, url, actual_on="2027-02-10"))


def test_a_step_cannot_be_done_in_the_future(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    with time_machine.travel(dt.datetime(2027, 2, 1, 15, tzinfo=dt.UTC), tick=False):
        response = post(world.center_coordinator, f"/api/milestones/{visit.pk}/complete/", actual_on="2027-02-10")
    assert errors_of(response) == {"actual_on": ["This cannot be in the future."]}


def test_either_site_corrects_a_done_date_and_a_future_one_is_400_on_the_field(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    url = f"/api/milestones/{visit.pk}/correct/"
    with time_machine.travel(AFTER_THE_VISIT, tick=False):
        assert post(world.center_coordinator, url, actual_on="2027-02-10").status_code == 400  # not done yet
        assert post(world.center_coordinator, f"/api/milestones/{visit.pk}/complete/", actual_on="2027-02-11")
        ahead = post(world.community_oncologist, url, actual_on="2027-02-20")
        assert errors_of(ahead) == {"actual_on": ["This cannot be in the future."]}
        assert api(world.outsider).post(url, {"actual_on": "2027-02-09"}, format="json").status_code == 404
        response = post(world.community_oncologist, url, actual_on="2027-02-09", reason="Seen on the Tuesday")
    assert response.status_code == 200, response.content
    assert (response.json()["actual_on"], response.json()["status"]) == ("2027-02-09", "done")
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).latest("pk")
    assert entry.title.endswith("done date corrected from 11 Feb 2027 to 9 Feb 2027")


def test_only_the_center_corrects_the_infusions_done_date(world: World) -> None:
    infusion = milestone_of(planned_course(world), "infusion")
    url = f"/api/milestones/{infusion.pk}/correct/"
    with time_machine.travel(AFTER_THE_VISIT, tick=False):
        post(world.center_coordinator, f"/api/milestones/{infusion.pk}/complete/", actual_on=INFUSION_DAY.isoformat())
        assert post(world.community_oncologist, url, actual_on="2027-01-12").status_code == 403
        infusion.refresh_from_db()
        assert infusion.actual_on == INFUSION_DAY
        assert post(world.center_coordinator, url, actual_on="2027-01-12").status_code == 200
    infusion.refresh_from_db()
    assert infusion.actual_on == dt.date(2027, 1, 12)


def test_the_practice_may_not_move_or_cancel_day_0_through_the_infusions_own_actions(world: World) -> None:
    """Marking the infusion done on another day than planned moves day 0, cancelling it takes
    it away: the center's. The practice gets 400 on the date, and 403 on the cancel."""
    infusion = milestone_of(planned_course(world), "infusion")
    complete = f"/api/milestones/{infusion.pk}/complete/"
    other_day = (INFUSION_DAY + dt.timedelta(days=2)).isoformat()
    with time_machine.travel(AFTER_THE_VISIT, tick=False):
        moved = post(world.community_oncologist, complete, actual_on=other_day)
        assert moved.status_code == 400 and "planned day" in errors_of(moved)["actual_on"][0]
        cancelled = post(world.community_oncologist, f"/api/milestones/{infusion.pk}/cancel/", reason="Elsewhere")
        assert cancelled.status_code == 403
        infusion.refresh_from_db()
        assert (infusion.status, infusion.actual_on) == (Milestone.Status.PLANNED, None)
        done = post(world.community_oncologist, complete, actual_on=INFUSION_DAY.isoformat())
    assert done.status_code == 200 and done.json()["actual_on"] == INFUSION_DAY.isoformat()


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("complete", {}, "actual_on"),
        ("complete", {"actual_on": "2027-13-01"}, "actual_on"),
        ("move", {"reason": "Clinic closed"}, "planned_on"),
        ("move", {"planned_on": "2027-02-12"}, "reason"),
        ("move", {"planned_on": "2027-02-12", "reason": ""}, "reason"),
        ("move", {"planned_on": ["2027-02-12"], "reason": "x"}, "planned_on"),
        ("cancel", {}, "reason"),
        ("cancel", {"reason": "   "}, "reason"),
    ],
)
def test_bad_milestone_actions_are_400_on_the_field(
    world: World, action: str, payload: dict[str, Any], field: str
) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    assert field in errors_of(post(world.center_coordinator, f"/api/milestones/{visit.pk}/{action}/", **payload))


def test_moving_a_date_by_hand_keeps_it_and_records_why(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    response = post(
        world.community_coordinator, f"/api/milestones/{visit.pk}/move/", planned_on="2027-02-12", reason="Clinic shut"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["planned_on"], response.json()["manual"]) == ("2027-02-12", True)
    assert TimelineEntry.objects.filter(body="Clinic shut").exists()


def test_the_infusion_cannot_be_moved_as_a_milestone(world: World) -> None:
    infusion = milestone_of(planned_course(world), "infusion")
    url = f"/api/milestones/{infusion.pk}/move/"
    response = post(world.center_coordinator, url, planned_on="2027-01-20", reason="x")
    assert "planned_on" in errors_of(response)


def test_cancelling_a_milestone_with_a_reason(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_60")
    response = post(world.center_coordinator, f"/api/milestones/{visit.pk}/cancel/", reason="Seen at day 55")
    assert response.json()["status"] == "cancelled"


def test_read_only_member_sees_milestones_but_gets_403_acting_on_them(world: World) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    client = api(reader_at_center(world))
    assert client.get(f"/api/milestones/{visit.pk}/").json()["day_label"] == "day +30"
    assert client.post(f"/api/milestones/{visit.pk}/complete/", {"actual_on": "2027-02-10"}).status_code == 403
    assert client.post(f"/api/milestones/{visit.pk}/cancel/", {"reason": "x"}).status_code == 403
    referral_url = f"/api/referrals/{visit.referral_id}"
    assert client.post(f"{referral_url}/infusion/", {"infusion_on": "2027-01-12", "reason": "x"}).status_code == 403
    plan = {"kind": "apheresis", "planned_on": "2026-12-20"}
    assert client.post(f"{referral_url}/milestones/", plan).status_code == 403
    visit.refresh_from_db()
    assert visit.status == "planned"


@pytest.mark.parametrize("who", ["community_coordinator", "community_oncologist"])
def test_the_practice_gets_403_setting_or_moving_day_0(world: World, who: str) -> None:
    """Day 0 is the center's: the practice is refused, before its body is read, and nothing moves."""
    client = api(getattr(world, who))
    referral = accepted_referral(world)
    url = f"/api/referrals/{referral.pk}/infusion/"
    for body in ({"infusion_on": "2027-01-11"}, {"infusion_on": "soon"}):
        response = client.post(url, body, format="json")
        assert response.status_code == 403, response.content
    assert not Milestone.objects.filter(kind="infusion").exists()
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION_DAY)
    entries = TimelineEntry.objects.count()
    response = client.post(url, {"infusion_on": "2027-01-18", "reason": "Slot"}, format="json")
    assert response.status_code == 403 and world.center.name in response.json()["detail"]
    assert milestone_of(referral, "infusion").planned_on == INFUSION_DAY
    assert TimelineEntry.objects.count() == entries


@pytest.mark.parametrize("action", ["", "complete/", "move/", "cancel/"])
def test_outsider_gets_404_for_shared_milestones(world: World, action: str) -> None:
    visit = milestone_of(planned_course(world), "visit_day_30")
    client = api(world.outsider)
    payload = {"actual_on": "2027-02-10", "planned_on": "2027-02-10", "reason": "x"}
    assert client.post(f"/api/milestones/{visit.pk}/{action}", payload, format="json").status_code == 404
    assert client.get(f"/api/milestones/{visit.pk}/{action}").status_code == 404
    visit.refresh_from_db()
    assert visit.status == "planned" and not visit.manual


def test_outsider_gets_404_planning_on_a_shared_referral(world: World) -> None:
    referral = accepted_referral(world)
    client = api(world.outsider)
    assert client.post(f"/api/referrals/{referral.pk}/infusion/", {"infusion_on": "2027-01-11"}).status_code == 404
    plan = {"kind": "apheresis", "planned_on": "2026-12-20"}
    assert client.post(f"/api/referrals/{referral.pk}/milestones/", plan).status_code == 404
    assert not Milestone.objects.filter(referral=referral, kind__in=["infusion", "apheresis"]).exists()


def test_milestones_filter_by_patient_status_and_due_dates(world: World) -> None:
    referral = planned_course(world)
    client = api(world.community_oncologist)

    def kinds(**params: Any) -> list[str]:
        return [row["kind"] for row in results(client.get("/api/milestones/", params))]

    assert kinds(due_after="2027-01-10", due_before="2027-01-11") == ["infusion"]
    assert kinds(due_before="2026-12-31") == ["consult"]
    assert "visit_year_15" in kinds(patient=str(world.shared_patient.pk), due_after="2041-01-01")
    milestone_plan(actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2026, 12, 2))
    Milestone.objects.filter(kind="apheresis").update(status="done")
    assert kinds(status="done") == ["apheresis"]
    assert results(api(world.outsider).get("/api/milestones/")) == []
    assert kinds(patient=str(world.foreign_patient.pk)) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"due_before": "tomorrow"}, "due_before"),
        ({"due_after": "2027-02-30"}, "due_after"),
        ({"status": "someday"}, "status"),
        ({"patient": "42"}, "patient"),
        ({"referral": "abc"}, "referral"),
    ],
)
def test_milestone_list_rejects_bad_filters_with_400(world: World, params: dict[str, str], field: str) -> None:
    assert field in errors_of(api(world.center_coordinator).get("/api/milestones/", params))


def test_milestone_list_queries_do_not_grow_with_rows(world: World) -> None:
    referral = accepted_referral(world)  # one milestone: the consult
    client = api(world.center_coordinator)
    with_one = count_queries(lambda: client.get("/api/milestones/"))
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=INFUSION_DAY)
    assert Milestone.objects.count() > 40
    assert count_queries(lambda: client.get("/api/milestones/")) == with_one


# --- Comments and the timeline --------------------------------------------------------------


def timeline_url(patient: Patient) -> str:
    return f"/api/patients/{patient.pk}/timeline/"


def comments_url(patient: Patient) -> str:
    return f"/api/patients/{patient.pk}/comments/"


def test_center_comments_and_the_practice_reads_it_on_the_timeline(world: World) -> None:
    response = post(world.center_coordinator, comments_url(world.shared_patient), site=world.center.pk, body=" Hi ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["body"], body["actor_name"], body["site"]["id"]) == (
        "comment",
        "Hi",
        "Cora Center",
        world.center.pk,
    )
    assert "no-store" in response["Cache-Control"]
    reader = api(world.community_oncologist)
    entries = results(reader.get(timeline_url(world.shared_patient)))
    assert [e["body"] for e in entries if e["kind"] == "comment"] == ["Hi"]
    assert [(c["body"], c["site"]["id"]) for c in results(reader.get(comments_url(world.shared_patient)))] == [
        ("Hi", world.center.pk)
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"site": "center", "body": ""}, "body"),
        ({"site": "center", "body": "   "}, "body"),
        ({"site": "center", "body": "x" * 4001}, "body"),
        ({"site": "center"}, "body"),
        ({"body": "Hello"}, "site"),
        ({"site": "abc", "body": "Hello"}, "site"),
        ({"site": "practice", "body": "Hello"}, "site"),  # a site where the writer does not work
    ],
)
def test_bad_comments_are_400_on_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    sites = {"center": world.center.pk, "practice": world.practice.pk}
    payload = {name: sites.get(value, value) if name == "site" else value for name, value in payload.items()}
    assert field in errors_of(post(world.center_coordinator, comments_url(world.shared_patient), **payload))
    assert not TimelineEntry.objects.filter(kind="comment").exists()


def test_read_only_member_reads_the_timeline_but_gets_403_commenting(world: World) -> None:
    client = api(reader_at_center(world))
    assert client.get(timeline_url(world.shared_patient)).status_code == 200
    response = client.post(comments_url(world.shared_patient), {"site": world.center.pk, "body": "Hello"})
    assert response.status_code == 403


def test_options_on_comments_describes_what_a_post_takes(world: World) -> None:
    # Found walking every route with OPTIONS: the view named no serializer, and OPTIONS was a 500.
    for user in (world.center_coordinator, reader_at_center(world)):
        response = api(user).options(comments_url(world.shared_patient))
        assert response.status_code == 200, response.content
        assert set(response.json()["actions"]["POST"]) == {"site", "body"}


def test_options_on_a_foreign_patient_answers_as_on_one_that_does_not_exist(world: World) -> None:
    client = api(world.outsider)
    unknown = Patient(pk="00000000-0000-0000-0000-000000000000")
    for url_of in (comments_url, timeline_url):
        foreign, missing = client.options(url_of(world.shared_patient)), client.options(url_of(unknown))
        assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
        assert foreign.status_code == 404


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "options"])
def test_outsider_gets_404_for_a_shared_patients_timeline_and_comments(world: World, method: str) -> None:
    client = api(world.outsider)
    for url in (timeline_url(world.shared_patient), comments_url(world.shared_patient)):
        response = getattr(client, method)(url, {"site": world.unrelated_practice.pk, "body": "x"}, format="json")
        assert response.status_code == 404, url
        assert "no-store" in response["Cache-Control"]
    assert not TimelineEntry.objects.filter(kind="comment").exists()


@pytest.mark.parametrize("patient_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_unknown_patient_timeline_is_404(world: World, patient_id: str) -> None:
    assert api(world.center_coordinator).get(f"/api/patients/{patient_id}/timeline/").status_code == 404


def test_timeline_shows_entries_milestones_and_what_comes_next_with_day_labels(world: World) -> None:
    referral = planned_course(world)
    with time_machine.travel(dt.datetime(2027, 1, 13, 16, 0, tzinfo=dt.UTC), tick=False):
        comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body="Fever")
        body = api(world.community_oncologist).get(timeline_url(world.shared_patient)).json()
    assert body["patient"] == str(world.shared_patient.pk)
    assert body["infusion_on"] == "2027-01-11"
    assert [r["id"] for r in body["referrals"]] == [referral.pk]
    comment = body["results"][-1]
    assert (comment["kind"], comment["body"], comment["actor_name"], comment["day_label"]) == (
        "comment",
        "Fever",
        "Olive Oncologist",
        "day +2",
    )
    assert comment["site"]["name"] == "Riverbend Oncology"
    assert all(e["day_label"] for e in body["results"])
    assert len(body["milestones"]) == Milestone.objects.filter(referral=referral).count()
    assert [m["kind"] for m in body["upcoming"]] == [
        "daily_monitoring_end",
        "monitoring_end",
        "stay_near_center_end",
        "no_driving_end",
        "hand_back",
    ]
    assert [m["day_label"] for m in body["upcoming"]][:2] == ["day +7", "day +14"]
    assert "infusion" in [m["kind"] for m in body["overdue"]]


def test_timeline_before_any_infusion_has_no_day_labels(world: World) -> None:
    draft_referral(world)
    body = api(world.center_coordinator).get(timeline_url(world.shared_patient)).json()
    assert body["infusion_on"] is None
    assert body["results"] and all(e["day_label"] is None for e in body["results"])


def test_timeline_and_comments_come_in_pages_oldest_first(world: World) -> None:
    patient = world.shared_patient
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            patient=patient,
            kind="comment" if n % 2 else "milestone",
            title=f"Entry {n}",
            body=f"#{n}",
            occurred_at=timezone.now() - dt.timedelta(hours=200 - n),
        )
        for n in range(120)
    )
    client = api(world.center_coordinator)
    first = client.get(timeline_url(patient)).json()
    total = TimelineEntry.objects.filter(patient=patient).count()
    assert (first["count"], len(first["results"]), first["previous"]) == (total, 50, None)
    assert first["patient"] == str(patient.pk) and "milestones" in first and "upcoming" in first
    in_order = list(TimelineEntry.objects.filter(patient=patient).values_list("pk", flat=True))
    last = client.get(timeline_url(patient), {"page": "last"}).json()
    assert last["results"][-1]["id"] == in_order[-1] and last["next"] is None
    pages = [first]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    assert [entry["id"] for page in pages for entry in page["results"]] == in_order
    assert client.get(timeline_url(patient), {"page": 99}).status_code == 404

    comments = client.get(comments_url(patient)).json()
    assert (comments["count"], len(comments["results"])) == (60, 50)
    rest = client.get(comments["next"]).json()
    assert [c["body"] for c in comments["results"] + rest["results"]] == [f"#{n}" for n in range(1, 120, 2)]
    assert rest["next"] is None


@pytest.mark.parametrize("url_of", [timeline_url, comments_url], ids=["timeline", "comments"])
def test_timeline_and_comments_queries_do_not_grow_with_the_record(
    world: World, url_of: Callable[[Patient], str]
) -> None:
    """More milestones (planned, done, moved), toxicities, alerts, documents, hand-offs, comments
    and a third care-team site: the same number of queries."""
    record = small_record(world)
    client = api(world.center_coordinator)
    url = url_of(world.shared_patient)
    client.get(url)  # warm the caches (content types, site groups)
    small = count_queries(lambda: client.get(url))
    milestones = Milestone.objects.filter(referral__patient=world.shared_patient).count()
    grow_record(record)
    assert Milestone.objects.filter(referral__patient=world.shared_patient).count() > milestones + 40
    body = client.get(url).json()
    assert count_queries(lambda: client.get(url)) == small
    assert body["results"]
    if url_of is timeline_url:
        assert len(body["milestones"]) > 40 and len(body["referrals"]) == 2


# --- Caching --------------------------------------------------------------------------------


def test_every_referral_api_response_forbids_caching(world: World) -> None:
    referral = submitted_referral(world)
    document = referral_attach_document(actor=world.center_coordinator, referral=referral, kind="labs", upload=pdf())
    milestone = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="apheresis", planned_on=dt.date(2026, 12, 20)
    )
    client = api(world.center_coordinator)
    urls = [
        "/api/referrals/",
        f"/api/referrals/{referral.pk}/",
        "/api/documents/",
        f"/api/documents/{document.pk}/",
        f"/api/documents/{document.pk}/download/",
        "/api/milestones/",
        f"/api/milestones/{milestone.pk}/",
        timeline_url(world.shared_patient),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_anonymous_gets_no_referral_data(world: World) -> None:
    referral = draft_referral(world)
    for url in ("/api/referrals/", f"/api/referrals/{referral.pk}/", timeline_url(world.shared_patient)):
        assert APIClient().get(url).status_code in {401, 403}


def test_document_list_queries_do_not_grow_with_rows(world: World) -> None:
    referral = submitted_referral(world)
    client = api(world.center_coordinator)
    referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())
    with_one = count_queries(lambda: client.get("/api/documents/"))
    for kind in ("imaging", "history", "insurance", "pathology"):
        referral_attach_document(actor=world.center_coordinator, referral=referral, kind=kind, upload=pdf())
    assert count_queries(lambda: client.get("/api/documents/")) == with_one


def test_schema_documents_the_referral_routes_upload_and_download(world: World) -> None:
    document = yaml.safe_load(api(world.center_coordinator).get(reverse("api:schema")).content)
    paths = document["paths"]
    assert {
        "/api/referrals/",
        "/api/referrals/{referral_id}/",
        "/api/referrals/{referral_id}/move/",
        "/api/referrals/{referral_id}/documents/",
        "/api/referrals/{referral_id}/infusion/",
        "/api/referrals/{referral_id}/milestones/",
        "/api/documents/",
        "/api/documents/{document_id}/",
        "/api/documents/{document_id}/download/",
        "/api/milestones/",
        "/api/milestones/{milestone_id}/",
        "/api/milestones/{milestone_id}/complete/",
        "/api/milestones/{milestone_id}/move/",
        "/api/milestones/{milestone_id}/cancel/",
        "/api/patients/{patient_id}/timeline/",
        "/api/patients/{patient_id}/comments/",
    } <= set(paths)
    upload_body = paths["/api/referrals/{referral_id}/documents/"]["post"]["requestBody"]["content"]
    assert set(upload_body) == {"multipart/form-data"}
    download = paths["/api/documents/{document_id}/download/"]["get"]["responses"]["200"]["content"]
    # The file is served as the type recognised on upload (found by the schema fuzz test).
    assert set(download) == {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
    assert {media["schema"]["format"] for media in download.values()} == {"binary"}
    filters = {p["name"] for p in paths["/api/referrals/"]["get"]["parameters"]}
    assert {"state", "to_center", "from_site", "patient", "overdue"} <= filters
    filters = {p["name"] for p in paths["/api/milestones/"]["get"]["parameters"]}
    assert {"patient", "status", "due_before", "due_after"} <= filters


def test_center_sets_the_treatment_plan_through_the_api_and_the_practice_cannot(world: World) -> None:
    from carecoord.models import Product

    referral = accepted_referral(world)
    product = Product.objects.create(
        brand_name="Plancel", generic_name="plancel", short_name="plan-cel", target="CD19", disease_areas=["lbcl"]
    )
    url = f"/api/referrals/{referral.pk}/plan/"
    ok = api(world.center_coordinator).post(url, {"product": product.pk, "hand_back_day": 28}, format="json")
    assert ok.status_code == 200, ok.content
    referral.refresh_from_db()
    assert (referral.product_id, referral.hand_back_day) == (product.pk, 28)
    refused = api(world.community_oncologist).post(url, {"product": None, "hand_back_day": 21}, format="json")
    assert refused.status_code == 400 and "product" in refused.json()
    bad = api(world.center_coordinator).post(url, {"product": product.pk, "hand_back_day": 0}, format="json")
    assert bad.status_code == 400 and "hand_back_day" in bad.json()


def test_schema_documents_the_infusion_answer_as_a_plain_list_without_filters(world: World) -> None:
    # Found by the schema fuzz test: it was documented as a page of milestones taking the referral filters.
    document = yaml.safe_load(api(world.center_coordinator).get(reverse("api:schema")).content)
    infusion = document["paths"]["/api/referrals/{referral_id}/infusion/"]["post"]
    assert [p["name"] for p in infusion["parameters"]] == ["referral_id"]
    body = infusion["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array" and body["items"]["$ref"].endswith("/Milestone")
    referral = accepted_referral(world)
    response = api(world.center_coordinator).post(
        f"/api/referrals/{referral.pk}/infusion/?page=2&state=draft", {"infusion_on": "2027-01-11"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert isinstance(response.json(), list) and response.json()


def test_referral_queries_do_not_grow_with_its_moves_and_documents(world: World) -> None:
    from carecoord.models import Product

    client = api(world.center_coordinator)
    product = Product.objects.create(
        brand_name="Plancel", generic_name="plancel", short_name="plan-cel", target="CD19", disease_areas=["lbcl"]
    )
    reviewed = advance(
        submitted_referral(world),
        [(Move.ACKNOWLEDGE, world.center_coordinator), (Move.START_REVIEW, world.center_coordinator)],
    )
    referral_set_plan(actor=world.center_coordinator, referral=reviewed, product=product, hand_back_day=28)
    with_few = count_queries(lambda: client.get(f"/api/referrals/{reviewed.pk}/"))
    referral = submitted_referral(
        world, patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    )
    for kind in ("labs", "imaging"):
        referral_attach_document(actor=world.community_coordinator, referral=referral, kind=kind, upload=pdf())
    referral = advance(
        referral,
        [
            (Move.ACKNOWLEDGE, world.center_coordinator),
            (Move.START_REVIEW, world.center_coordinator),
            (Move.SCHEDULE_CONSULT, world.center_coordinator),
            (Move.ACCEPT, world.center_coordinator),
        ],
        consult_on=dt.date(2026, 12, 1),
    )
    referral_set_plan(actor=world.center_coordinator, referral=referral, product=product, hand_back_day=28)
    assert count_queries(lambda: client.get(f"/api/referrals/{referral.pk}/")) == with_few
    body = client.get(f"/api/referrals/{referral.pk}/").json()
    assert (len(body["documents"]), body["product"]["id"]) == (2, product.pk)
    assert len(body["moves"]) > len(client.get(f"/api/referrals/{reviewed.pk}/").json()["moves"])
    listed = results(client.get("/api/referrals/"))
    assert {row["url"] for row in listed} == {f"http://testserver/api/referrals/{r.pk}/" for r in (reviewed, referral)}
    assert not {"moves", "documents"} & {name for row in listed for name in row}
    assert [row["product"]["short_name"] for row in listed] == ["plan-cel", "plan-cel"]
