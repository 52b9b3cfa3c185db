"""The referral pages and the dashboard work queue, for every persona."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from carecoord.access import patients_visible_to
from carecoord.downloads import MAX_DOWNLOAD_NAME
from carecoord.models import CareTeamLink, Patient
from carecoord.roles import Role
from carecoord.text_limits import NOTE_MAX_LENGTH
from referrals.models import Milestone, PendingUpload, Referral, ReferralDocument
from referrals.services import referral_attach_document, referral_move
from referrals.workflow import Move, State
from tests.factories import member, patient_at
from tests.helpers import (
    MY_WORK,
    REFERRAL_FIELDS,
    World,
    accepted_referral,
    advance,
    another_record,
    dashboard_queue,
    draft_referral,
    grow_record,
    login,
    small_record,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%fake but well-formed enough for the signature check\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00 not a document"
# Where an uploaded PDF is stored: a generated name, nothing the uploader typed.
STORED_PDF = re.compile(r"referrals/\d{4}/\d{2}/[0-9a-f]{32}\.pdf")
PENDING_PDF = re.compile(r"referrals/pending/\d{4}/\d{2}/[0-9a-f]{32}\.pdf")
LIST = reverse("referral-list")
CREATE = reverse("referral-create")
DASHBOARD = reverse("dashboard")
# Friday 16:00 in Chicago; the center must acknowledge by Monday 16:00 (22:00 UTC).
FRIDAY_AFTERNOON = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.UTC)
TUESDAY_AFTER_DEADLINE = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def detail_url(referral: Referral) -> str:
    return reverse("referral-detail", kwargs={"referral_id": referral.pk})


def move_url(referral: Referral) -> str:
    return reverse("referral-move", kwargs={"referral_id": referral.pk})


def document_add_url(referral: Referral) -> str:
    return reverse("referral-document-add", kwargs={"referral_id": referral.pk})


def document_url(document: ReferralDocument) -> str:
    return reverse("referral-document", kwargs={"document_id": document.pk})


def pdf(name: str = "pathology.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    """A valid referral of the shared patient, as the form posts it."""
    data: dict[str, Any] = {
        "patient_mode": "existing",
        "patient": str(world.shared_patient.pk),
        "from_site": world.practice.pk,
        "to_center": world.center.pk,
        "referring_physician": world.community_oncologist.pk,
        **REFERRAL_FIELDS,
        "action": "draft",
    }
    data.update(overrides)
    return data


def new_patient_data(world: World, **overrides: Any) -> dict[str, Any]:
    patient = {
        "patient_mode": "new",
        "patient": "",
        "given_name": "Nora",
        "family_name": "Newcomer",
        "date_of_birth": "1958-03-02",
        "sex": "female",
        "mrn": "RB-4711",
        "caregiver_name": "Ned Newcomer",
        "primary_point_person": world.community_oncologist.pk,
    }
    return form_data(world, **(patient | overrides))


def submitted(world: World, patient: Patient | None = None) -> Referral:
    return advance(draft_referral(world, patient), [(Move.SUBMIT, world.community_coordinator)])


def html_of(response: Any) -> str:
    return str(response.content.decode())


# Creating a referral


def test_practice_submits_a_new_patient_with_a_pdf_and_the_center_joins_the_care_team(
    client: Client, world: World, media: Path
) -> None:
    login(client, world.community_coordinator)
    data = new_patient_data(world, action="submit", doc_pathology=pdf())
    response = client.post(CREATE, data)

    referral = Referral.objects.get(patient__family_name="Newcomer")
    assert response.status_code == 302
    assert response["Location"] == detail_url(referral)
    assert referral.state == State.SUBMITTED
    assert referral.patient.caregiver_name == "Ned Newcomer"
    assert referral.patient.identifiers.get(site=world.practice).mrn == "RB-4711"
    primary = referral.patient.care_team.get(site=world.practice).point_persons.get()
    assert (primary.rank, primary.user) == ("primary", world.community_oncologist)
    document = referral.documents.get()
    assert (document.kind, document.original_name, document.content_type) == (
        "pathology",
        "pathology.pdf",
        "application/pdf",
    )
    assert CareTeamLink.objects.open().filter(patient=referral.patient, site=world.center).exists()
    assert referral.patient in patients_visible_to(world.center_coordinator)
    assert len(stored_files(media)) == 1
    page = html_of(client.get(response["Location"]))
    assert "submitted to the center" in page


def test_saving_a_draft_for_an_existing_patient_leaves_it_with_the_practice(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.post(CREATE, form_data(world))
    referral = Referral.objects.get(patient=world.shared_patient)
    assert response.status_code == 302
    assert referral.state == State.DRAFT
    assert referral.submitted_at is None
    assert "saved as a draft" in html_of(client.get(response["Location"]))


def test_form_offers_the_practice_patients_centers_and_physicians(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.get(CREATE)
    html = html_of(response)
    assert response.status_code == 200
    assert "Sharedcare, Sharon" in html
    assert "Foreignsite" not in html
    assert "Lakeside CAR-T Center" in html
    assert "Olive Oncologist" in html
    assert "ineligibility for transplant does not rule out CAR-T" in html
    for label in (
        "Pathology report",
        "Imaging report",
        "Recent lab results",
        "History and physical",
        "Prior therapies summary",
        "Insurance documents",
    ):
        assert label in html
    assert 'value="draft"' in html and "Save draft" in html
    assert 'value="submit"' in html and "Submit to center" in html


def test_patient_in_the_query_string_is_preselected(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.get(CREATE, {"patient": str(world.shared_patient.pk)})
    assert f'<option value="{world.shared_patient.pk}" selected>' in html_of(response)


def test_outsider_cannot_preselect_a_foreign_patient(client: Client, world: World) -> None:
    login(client, world.outsider)
    assert client.get(CREATE, {"patient": str(world.shared_patient.pk)}).status_code == 404


def test_center_staff_cannot_make_referrals(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    html = html_of(client.get(CREATE))
    assert "None of your current memberships allows it." in html
    response = client.post(CREATE, form_data(world))
    assert response.status_code == 403
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("upload", "max_mb", "message"),
    [
        (SimpleUploadedFile("x.exe", EXE, content_type="application/octet-stream"), 20, "not accepted"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024 + 1), content_type="application/pdf"), 1, "limit"),
    ],
    ids=["wrong-type", "too-big"],
)
def test_bad_file_shows_error_on_its_checklist_item_and_saves_nothing(
    client: Client, world: World, media: Path, upload: SimpleUploadedFile, max_mb: int, message: str
) -> None:
    login(client, world.community_coordinator)
    patients_before = Patient.objects.count()
    with override_settings(REFERRAL_DOCUMENT_MAX_MB=max_mb):
        response = client.post(
            CREATE, new_patient_data(world, action="submit", doc_pathology=pdf(), doc_imaging=upload)
        )
    assert response.status_code == 400
    form = response.context["form"]
    assert message in form.errors["doc_imaging"][0]
    assert "doc_pathology" not in form.errors
    html = html_of(response)
    assert "Attached: <strong>pathology.pdf</strong>" in html  # the good file is kept, listed
    assert 'value="Newcomer"' in html  # typed values are kept
    assert Patient.objects.count() == patients_before
    assert not Referral.objects.exists()
    assert not ReferralDocument.objects.exists()
    # Only the good file is stored, as a pending upload of its uploader; the refused one is not.
    (kept,) = PendingUpload.objects.all()
    assert kept.owner == world.community_coordinator and kept.original_name == "pathology.pdf"
    assert [p.relative_to(media).as_posix() for p in stored_files(media)] == [kept.file.name]
    assert PENDING_PDF.fullmatch(str(kept.file.name))


def test_failure_after_attaching_rolls_back_rows_and_files(
    client: Client, world: World, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> Referral:
        raise ValidationError({"move": "The center is not taking referrals today."})

    monkeypatch.setattr("referrals.services.referral_move", refuse)
    login(client, world.community_coordinator)
    patients_before = Patient.objects.count()
    response = client.post(
        CREATE, new_patient_data(world, action="submit", doc_pathology=pdf(), doc_labs=pdf("labs.pdf"))
    )
    assert response.status_code == 400
    assert "The center is not taking referrals today." in html_of(response)
    assert Patient.objects.count() == patients_before
    assert not Referral.objects.exists()
    assert not ReferralDocument.objects.exists()
    # What stays is the two files, kept for the next round as pending uploads: no document's file.
    kept = PendingUpload.objects.all()
    assert sorted(kept.values_list("original_name", flat=True)) == ["labs.pdf", "pathology.pdf"]
    assert sorted(p.relative_to(media).as_posix() for p in stored_files(media)) == sorted(
        str(p.file.name) for p in kept
    )


def test_missing_required_fields_are_named_next_to_the_field(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    data = form_data(world, reason="", performance_status="", to_center="")
    response = client.post(CREATE, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {"reason", "performance_status", "to_center"}
    assert not Referral.objects.exists()


def test_new_patient_without_name_mrn_or_point_person_names_those_fields(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.post(CREATE, new_patient_data(world, family_name="", mrn="", primary_point_person=""))
    errors = response.context["form"].errors
    assert "family_name" in errors and "mrn" in errors and "primary_point_person" in errors
    assert not Patient.objects.filter(given_name="Nora").exists()


def test_service_error_lands_on_the_named_field(client: Client, world: World) -> None:
    taken = world.shared_patient.identifiers.get(site=world.practice).mrn
    login(client, world.community_coordinator)
    response = client.post(CREATE, new_patient_data(world, mrn=taken))
    assert response.status_code == 400
    assert "already has this MRN" in response.context["form"].errors["mrn"][0]
    assert not Patient.objects.filter(given_name="Nora").exists()


def test_second_open_referral_links_to_the_open_one(client: Client, world: World) -> None:
    first = draft_referral(world)
    login(client, world.community_coordinator)
    response = client.post(CREATE, form_data(world))
    assert response.status_code == 400
    assert "already has an open referral" in response.context["form"].errors["to_center"][0]
    assert f'href="{detail_url(first)}"' in html_of(response)
    assert Referral.objects.count() == 1


# The referral page and its moves


def test_referral_page_shows_fields_checklist_documents_and_patient_link(client: Client, world: World) -> None:
    referral = draft_referral(world)
    document = referral_attach_document(
        actor=world.community_coordinator, referral=referral, kind="pathology", upload=pdf()
    )
    login(client, world.community_oncologist)
    response = client.get(detail_url(referral))
    html = html_of(response)
    assert response.status_code == 200
    assert "Primary refractory LBCL" in html
    assert "R-CHOP x6; R-ICE x2" in html
    assert reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk}) in html
    # The patient's shared timeline, one click away (the page was a dead end without it).
    assert f'href="{reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})}">Timeline</a>' in html
    assert document_url(document) in html
    # Each item names the document, so a missing one does not read as the typed field missing.
    assert html.count('<span class="muted">(document not attached)</span>') == 5
    assert "(missing)" not in html
    assert (
        "Documents not attached: Imaging report, Recent lab results, History and physical, "
        "Prior therapies summary, Insurance documents." in html
    )
    assert "no-store" in response["Cache-Control"]


def test_move_history_shows_who_where_and_when_in_the_viewer_time_zone(client: Client, world: World) -> None:
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        referral = submitted(world)
    login(client, world.center_coordinator)
    html = html_of(client.get(detail_url(referral)))
    assert "20 Nov 2026, 16:00 CST" in html  # 22:00 UTC in Chicago
    assert "Rita Riverbend" in html
    assert "(Riverbend Oncology)" in html


def test_center_coordinator_sees_acknowledge_button_and_practice_does_not(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.center_coordinator)
    assert 'value="acknowledge"' in html_of(client.get(detail_url(referral)))
    login(client, world.community_coordinator)
    html = html_of(client.get(detail_url(referral)))
    assert 'value="acknowledge"' not in html
    assert 'value="withdraw"' in html


def test_center_acknowledges_and_is_redirected_with_a_message(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.center_coordinator)
    response = client.post(move_url(referral), {"move": "acknowledge", "note": "Intake nurse assigned."})
    assert response.status_code == 302
    assert response["Location"] == detail_url(referral)
    referral.refresh_from_db()
    assert referral.state == State.RECEIVED
    html = html_of(client.get(detail_url(referral)))
    assert "is now received by the center" in html
    assert "Intake nurse assigned." in html


def test_practice_posting_acknowledge_gets_the_error_and_state_is_unchanged(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.community_coordinator)
    response = client.post(move_url(referral), {"move": "acknowledge"})
    assert response.status_code == 400
    assert "Only the receiving center can acknowledge" in html_of(response)
    referral.refresh_from_db()
    assert referral.state == State.SUBMITTED


def test_decline_without_reason_is_refused_with_the_error(client: Client, world: World) -> None:
    referral = advance(submitted(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    login(client, world.center_coordinator)
    response = client.post(move_url(referral), {"move": "decline", "decline_reason": "  "})
    assert response.status_code == 400
    html = html_of(response)
    assert '<a href="#id_decline_reason">Reason for declining: Say why the referral is declined.</a>' in html
    assert 'id="id_decline_reason"' in html  # the link's target
    referral.refresh_from_db()
    assert referral.state == State.RECEIVED


def test_a_note_over_its_limit_is_refused_on_the_note_of_that_move(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.center_coordinator)
    response = client.post(move_url(referral), {"move": "acknowledge", "note": "x" * (NOTE_MAX_LENGTH + 1)})
    assert response.status_code == 400
    html = html_of(response)
    assert '<a href="#id_note">Note (optional): Ensure this value has at most' in html
    textarea = rf'<textarea name="note" id="id_note"[^>]*maxlength="{NOTE_MAX_LENGTH}"[^>]*aria-invalid="true"'
    assert re.search(textarea, html)
    referral.refresh_from_db()
    assert referral.state == State.SUBMITTED


def test_schedule_consult_with_a_date_plans_the_consult(client: Client, world: World) -> None:
    referral = advance(submitted(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    login(client, world.center_coordinator)
    response = client.post(move_url(referral), {"move": "schedule_consult", "consult_on": "2026-12-03"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == State.CONSULT_SCHEDULED
    assert Milestone.objects.get(referral=referral, kind="consult").planned_on == dt.date(2026, 12, 3)


def test_schedule_consult_without_a_date_asks_for_it(client: Client, world: World) -> None:
    referral = advance(submitted(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    login(client, world.center_coordinator)
    response = client.post(move_url(referral), {"move": "schedule_consult"})
    assert response.status_code == 400
    assert "Enter the consult date." in html_of(response)


def test_read_only_member_sees_no_buttons_and_cannot_move(client: Client, world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@riverbend.test")
    referral = draft_referral(world)
    login(client, reader)
    html = html_of(client.get(detail_url(referral)))
    assert 'name="move"' not in html
    assert "Add a document" not in html
    response = client.post(move_url(referral), {"move": "submit"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.state == State.DRAFT


def test_practice_adds_a_document_while_the_referral_is_open(client: Client, world: World, media: Path) -> None:
    referral = submitted(world)
    login(client, world.community_coordinator)
    response = client.post(document_add_url(referral), {"kind": "imaging", "file": pdf("pet-ct.pdf")})
    assert response.status_code == 302
    document = referral.documents.get()
    assert document.original_name == "pet-ct.pdf"
    # Stored under a generated name (see the hostile names below), not the uploader's.
    assert [path.relative_to(media).as_posix() for path in stored_files(media)] == [document.file.name]
    assert STORED_PDF.fullmatch(str(document.file))


def test_bad_document_upload_shows_the_error(client: Client, world: World, media: Path) -> None:
    referral = submitted(world)
    login(client, world.community_coordinator)
    upload = SimpleUploadedFile("x.exe", EXE, content_type="application/octet-stream")
    response = client.post(document_add_url(referral), {"kind": "imaging", "file": upload})
    assert response.status_code == 400
    assert "not accepted" in html_of(response)
    assert '<a href="#id_file">File: This type of file is not accepted.' in html_of(response)
    assert not referral.documents.exists()
    assert stored_files(media) == []


def test_document_downloads_as_attachment_with_its_name_and_no_caching(client: Client, world: World) -> None:
    referral = draft_referral(world)
    document = referral_attach_document(
        actor=world.community_coordinator, referral=referral, kind="pathology", upload=pdf("biopsy report.pdf")
    )
    login(client, world.center_coordinator)
    response = client.get(document_url(document))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("attachment;")
    assert "biopsy report.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


# Stored names and download names: what the uploader typed is data, never a path.

UNICODE_TITLE = "Überweisung für Dr. Ōtani \u2013 東京の検査結果 "
LONG_UNICODE = UNICODE_TITLE * 10 + ".pdf"


def attach(world: World, referral: Referral, name: str) -> ReferralDocument:
    upload = SimpleUploadedFile(name, PDF, content_type="application/octet-stream")
    return referral_attach_document(actor=world.community_coordinator, referral=referral, kind="imaging", upload=upload)


@pytest.mark.parametrize(
    ("name", "kept", "disposition"),
    [
        # The upload's own handling keeps only the last part of a path.
        ("../../etc/passwd.pdf", "passwd.pdf", 'attachment; filename="passwd.pdf"'),
        ('a"b\r\nX-Header: 1.pdf', 'a"bX-Header: 1.pdf', 'attachment; filename="a_bX-Header: 1.pdf"'),
        ("setup.exe", "setup.exe", 'attachment; filename="setup.pdf"'),
        ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf", None),
    ],
)
def test_a_hostile_file_name_is_kept_as_data_and_downloads_under_a_safe_name(
    client: Client, world: World, media: Path, name: str, kept: str, disposition: str | None
) -> None:
    referral = submitted(world)
    document = attach(world, referral, name)
    assert STORED_PDF.fullmatch(str(document.file)), document.file.name
    assert [path.relative_to(media).as_posix() for path in stored_files(media)] == [document.file.name]
    assert document.original_name == kept
    login(client, world.center_coordinator)
    response = client.get(document_url(document))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (disposition or f'attachment; filename="{kept}"')
    page = html_of(client.get(detail_url(referral)))
    assert f">{escape(kept)}</a>" in page
    assert "<img src=x" not in page


def test_a_long_unicode_name_downloads_as_utf8_with_an_ascii_fallback(
    client: Client, world: World, media: Path
) -> None:
    referral = submitted(world)
    document = attach(world, referral, LONG_UNICODE)
    assert STORED_PDF.fullmatch(str(document.file))
    assert document.original_name.startswith(UNICODE_TITLE * 2)
    assert document.original_name.endswith(".pdf") and len(document.original_name) == 255
    login(client, world.center_coordinator)
    disposition = client.get(document_url(document))["Content-Disposition"]
    match = re.fullmatch(r'attachment; filename="([^"]+)"; filename\*=UTF-8\'\'(\S+)', disposition)
    assert match, disposition
    assert match[1].startswith("Uberweisung fur Dr. Otani Uberweisung") and match[1].endswith(".pdf")
    offered = unquote(match[2])
    assert offered.startswith(UNICODE_TITLE * 2) and offered.endswith(".pdf")
    assert len(offered) == MAX_DOWNLOAD_NAME
    assert f">{document.original_name}</a>" in html_of(client.get(detail_url(referral)))


def test_a_document_stored_before_names_were_generated_still_downloads(
    client: Client, world: World, media: Path
) -> None:
    # Older uploads were stored under the uploader's (storage-cleaned) name; they stay where they are.
    referral = submitted(world)
    stored = default_storage.save("referrals/2025/06/biopsy_report.pdf", ContentFile(PDF))
    document = ReferralDocument.objects.create(
        referral=referral,
        kind="pathology",
        file=stored,
        original_name="biopsy report.pdf",
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=world.community_coordinator,
    )
    login(client, world.center_coordinator)
    response = client.get(document_url(document))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == 'attachment; filename="biopsy report.pdf"'


# The outsider


@pytest.mark.parametrize("route", ["detail", "move", "document-add", "document"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_for_the_shared_patients_referral(
    client: Client, world: World, media: Path, route: str, method: str
) -> None:
    referral = submitted(world)
    document = referral_attach_document(
        actor=world.community_coordinator, referral=referral, kind="pathology", upload=pdf()
    )
    url = {
        "detail": detail_url(referral),
        "move": move_url(referral),
        "document-add": document_add_url(referral),
        "document": document_url(document),
    }[route]
    login(client, world.outsider)
    data = {"move": "acknowledge", "kind": "imaging", "file": pdf()} if method == "post" else {}
    response = getattr(client, method)(url, data)
    assert response.status_code in ({404} if method == "get" else {404, 405})
    assert "Sharedcare" not in html_of(response)
    referral.refresh_from_db()
    assert referral.state == State.SUBMITTED
    assert referral.documents.count() == 1


def test_outsider_list_shows_nothing_of_the_shared_patient(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.outsider)
    html = html_of(client.get(LIST))
    assert "Sharedcare" not in html
    assert detail_url(referral) not in html
    assert "No referrals yet." in html


# The list


def test_list_shows_referrals_newest_first_with_sites_urgency_and_local_submitted_time(
    client: Client, world: World
) -> None:
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        older = submitted(world)
    newer = draft_referral(world, patient_at(world.practice, world.community_coordinator, family_name="Zeta"))
    login(client, world.community_coordinator)
    response = client.get(LIST)
    html = html_of(response)
    assert [row.referral for row in response.context["rows"]] == [newer, older]
    assert "Riverbend Oncology" in html and "Lakeside CAR-T Center" in html
    assert "Urgent (within a week)" in html
    assert "20 Nov 2026, 16:00 CST" in html
    assert "Not yet (draft)" in html
    assert "no-store" in response["Cache-Control"]


def test_list_filters_by_state(client: Client, world: World) -> None:
    draft = draft_referral(world, patient_at(world.practice, world.community_coordinator, family_name="Drafty"))
    sent = submitted(world)
    login(client, world.community_coordinator)
    response = client.get(LIST, {"state": "submitted"})
    assert [row.referral for row in response.context["rows"]] == [sent]
    assert '<option value="submitted" selected>' in html_of(response)
    unfiltered = client.get(LIST, {"state": "nonsense"})
    assert {row.referral for row in unfiltered.context["rows"]} == {draft, sent}


@pytest.mark.parametrize("persona", ["center_coordinator", "community_coordinator"])
def test_overdue_acknowledgement_is_flagged_on_both_sides(client: Client, world: World, persona: str) -> None:
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        referral = submitted(world)
    with time_machine.travel(TUESDAY_AFTER_DEADLINE, tick=False):
        login(client, getattr(world, persona))
        list_html = html_of(client.get(LIST))
        detail_html = html_of(client.get(detail_url(referral)))
        dashboard_html = html_of(dashboard_queue(client))
    assert "Acknowledgement overdue" in list_html
    assert "Acknowledgement overdue" in detail_html
    assert "23 Nov 2026, 16:00 CST" in detail_html  # the deadline, in Chicago time
    assert "Acknowledgement overdue" in dashboard_html


def test_no_overdue_flag_before_the_deadline(client: Client, world: World) -> None:
    with time_machine.travel(FRIDAY_AFTERNOON, tick=False):
        referral = submitted(world)
        login(client, world.center_coordinator)
        assert "Acknowledgement overdue" not in html_of(client.get(detail_url(referral)))
        assert "No acknowledgement is overdue." in html_of(dashboard_queue(client))


def make_referrals(world: World, count: int) -> None:
    """`count` referrals of new patients: half waiting on the center (overdue), half with a consult this week."""
    today = timezone.localdate(timezone.now(), world.center.zone)
    for index in range(count):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        referral = submitted(world, patient)
        if index % 2:
            advance(
                referral,
                [(Move.ACKNOWLEDGE, world.center_coordinator), (Move.SCHEDULE_CONSULT, world.center_coordinator)],
                consult_on=today + dt.timedelta(days=2),
            )
        else:
            referral_attach_document(actor=world.community_coordinator, referral=referral, kind="labs", upload=pdf())
    Referral.objects.filter(state=State.SUBMITTED).update(acknowledge_by=timezone.now() - dt.timedelta(hours=1))


@pytest.mark.parametrize("url", [LIST, DASHBOARD, MY_WORK], ids=["referral-list", "dashboard", "work-queue"])
def test_query_count_does_not_grow_with_referrals_or_their_records(client: Client, world: World, url: str) -> None:
    def get() -> Any:
        return dashboard_queue(client) if url == MY_WORK else client.get(url)

    login(client, world.center_coordinator)
    record = small_record(world)
    make_referrals(world, 2)
    get()  # warm caches (content types, site groups)
    with CaptureQueriesContext(connection) as two:
        get()
    # More referrals, and more on the patients' records (milestones, toxicities, alerts,
    # documents, hand-offs, comments, a third care-team site).
    grow_record(record)
    another_record(world)
    make_referrals(world, 10)
    get()  # the filter's choices, read again after the care teams changed
    with CaptureQueriesContext(connection) as twelve:
        response = get()
    if url == LIST:
        assert len(response.context["rows"]) == 15
    elif url == MY_WORK:
        queue = response.context["work_queue"]
        # The grown record's second referral waits on the center too; the records' steps overdue or
        # due this week join the consults, past the queue's limit of ten (one more row is read).
        assert (len(queue.rows("waiting")), len(queue.rows("overdue")), len(queue.rows("milestones_due"))) == (7, 6, 11)
    else:
        assert len(response.context["rows"]) == response.context["page"].paginator.count > 12
    assert len(twelve) == len(two), [q["sql"] for q in twelve.captured_queries]


def test_referral_page_query_count_does_not_grow_with_documents_and_moves(client: Client, world: World) -> None:
    # Under review before and after, so the page shows the same sections (the plan form too).
    referral = advance(
        submitted(world), [(Move.ACKNOWLEDGE, world.center_coordinator), (Move.START_REVIEW, world.center_coordinator)]
    )
    login(client, world.center_coordinator)
    client.get(detail_url(referral))
    with CaptureQueriesContext(connection) as before:
        client.get(detail_url(referral))
    for kind in ("imaging", "labs", "history"):
        referral_attach_document(actor=world.community_coordinator, referral=referral, kind=kind, upload=pdf())
    referral = advance(referral, [(Move.SCHEDULE_CONSULT, world.center_coordinator)], consult_on=dt.date(2027, 1, 4))
    with CaptureQueriesContext(connection) as after:
        client.get(detail_url(referral))
    assert len(after) == len(before)


def test_list_paginates(client: Client, world: World) -> None:
    for _ in range(26):
        draft_referral(world, patient_at(world.practice, world.community_coordinator))
    login(client, world.community_coordinator)
    first = client.get(LIST)
    assert len(first.context["rows"]) == 25
    assert "Page 1 of 2" in html_of(first)
    assert len(client.get(LIST, {"page": 2}).context["rows"]) == 1


# The dashboard work queue


def test_dashboard_work_queue_shows_referral_waiting_on_the_center(client: Client, world: World) -> None:
    referral = submitted(world)
    login(client, world.center_coordinator)
    response = dashboard_queue(client)
    html = html_of(response)
    assert response.context["work_queue"].rows("waiting") == [referral]
    waiting_section = html[html.index("Referrals waiting on my site") : html.index("Overdue acknowledgements")]
    assert detail_url(referral) in waiting_section
    assert "New referral" not in html + html_of(client.get(DASHBOARD))  # center staff do not refer


def test_dashboard_work_queue_shows_drafts_to_the_practice_and_a_new_referral_link(
    client: Client, world: World
) -> None:
    referral = draft_referral(world)
    login(client, world.community_oncologist)
    assert dashboard_queue(client).context["work_queue"].rows("waiting") == [referral]
    assert f'href="{CREATE}"' in html_of(client.get(DASHBOARD))


def consult_in_three_days(world: World) -> tuple[Referral, dt.date]:
    today = timezone.localdate(timezone.now(), world.center.zone)
    referral = advance(submitted(world), [(Move.ACKNOWLEDGE, world.center_coordinator)])
    referral_move(
        actor=world.center_coordinator,
        referral=referral,
        move=Move.SCHEDULE_CONSULT,
        consult_on=today + dt.timedelta(days=3),
    )
    return referral, today


def test_dashboard_work_queue_shows_milestones_due_this_week(client: Client, world: World) -> None:
    consult_in_three_days(world)
    login(client, world.community_oncologist)
    html = html_of(dashboard_queue(client))
    assert "Consult at the center" in html
    section = html[html.index("Milestones due or overdue") :]
    assert "Sharedcare, Sharon" in section


def test_dashboard_work_queue_lists_overdue_milestones_first_and_flags_them(client: Client, world: World) -> None:
    referral, today = consult_in_three_days(world)
    consult = referral.milestones.get()
    Milestone.objects.filter(pk=consult.pk).update(planned_on=today - dt.timedelta(days=2))
    login(client, world.community_oncologist)
    response = dashboard_queue(client)
    assert [m for m, _label in response.context["work_queue"].rows("milestones_due")] == [consult]
    section = html_of(response)[html_of(response).index("Milestones due or overdue") :]
    assert "Overdue" in section.split("</section>", 1)[0]


def test_dashboard_work_queue_has_empty_states(client: Client, world: World) -> None:
    login(client, world.outsider)
    html = html_of(dashboard_queue(client))
    assert "Nothing is waiting on your sites." in html
    assert "No acknowledgement is overdue." in html
    assert "No milestone is due" in html


def test_htmx_filter_of_the_dashboard_skips_the_work_queue(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.get(DASHBOARD, {"phase": "referral"}, headers={"HX-Request": "true"})
    assert "work_queue" not in response.context
    assert "Referrals waiting on my site" not in html_of(response)


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_anonymous_user_is_sent_to_login(client: Client, db: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_center_sets_the_product_and_the_plan_recomputes_dates(
    center_coordinator_client: Client, world: World
) -> None:
    from carecoord.models import Product
    from referrals.milestones.services import milestone_set_infusion
    from referrals.models import Milestone
    from referrals.schedule import MilestoneKind

    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 3, 1))
    stricter = Product.objects.create(
        brand_name="Localcel",
        generic_name="localcel",
        short_name="loc-cel",
        target="CD19",
        disease_areas=["lbcl"],
        no_driving_days=56,
    )
    url = reverse("referral-plan", kwargs={"referral_id": referral.pk})
    response = center_coordinator_client.post(url, {"product": stricter.pk, "hand_back_day": 28})
    assert response.status_code == 302
    planned = dict(Milestone.objects.filter(referral=referral).values_list("kind", "planned_on"))
    assert planned[MilestoneKind.NO_DRIVING_END] == dt.date(2027, 4, 26)
    assert planned[MilestoneKind.HAND_BACK] == dt.date(2027, 3, 29)


def test_the_practice_cannot_set_the_plan_and_a_bad_day_names_the_field(world: World) -> None:

    referral = accepted_referral(world)
    url = reverse("referral-plan", kwargs={"referral_id": referral.pk})
    refused = login(Client(), world.community_oncologist).post(url, {"product": "", "hand_back_day": 21})
    assert refused.status_code == 400
    assert "Only the treating center" in str(refused.context["plan_form"].errors)
    bad = login(Client(), world.center_coordinator).post(url, {"product": "", "hand_back_day": 400})
    assert bad.status_code == 400
    assert "hand_back_day" in bad.context["plan_form"].errors
