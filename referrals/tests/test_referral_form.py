"""The referral form: one round of errors, chosen files kept as pending uploads, limits, phones."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from carecoord.models import Patient
from carecoord.roles import Role
from carecoord.services.memberships import membership_start
from carecoord.text_limits import PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH
from referrals.forms import PENDING_GONE
from referrals.models import PendingUpload, Referral
from referrals.pending_uploads import delete_stale_pending_uploads, pending_upload_keep
from referrals.tasks import delete_stale_pending_uploads as cleanup_task
from tests.factories import member
from tests.helpers import REFERRAL_FIELDS, World, login

pytestmark = pytest.mark.django_db

CREATE = reverse("referral-create")
PDF = b"%PDF-1.7\n%a pathology report, well-formed enough for the signature check\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00 not a document"


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


def stored_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def pdf(name: str = "pathology.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "patient_mode": "existing",
        "patient": str(world.shared_patient.pk),
        "from_site": world.practice.pk,
        "to_center": world.center.pk,
        "referring_physician": world.community_oncologist.pk,
        **REFERRAL_FIELDS,
        "action": "draft",
    }
    return data | overrides


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


def html_of(response: Any) -> str:
    return str(response.content.decode())


def kept_for(user: Any) -> PendingUpload:
    (pending,) = PendingUpload.objects.filter(owner=user)
    return pending


# One round


def test_every_error_comes_back_in_one_round_with_the_upload_errors(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    data = new_patient_data(
        world,
        family_name="",
        reason="",
        caregiver_phone="call the neighbour",
        prior_therapies="x" * (PRIOR_THERAPIES_MAX_LENGTH + 1),
        doc_imaging=SimpleUploadedFile("x.exe", EXE, content_type="application/octet-stream"),
    )
    response = client.post(CREATE, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"family_name", "reason", "caregiver_phone", "prior_therapies", "doc_imaging"}
    assert errors["caregiver_phone"] == [
        "Enter the caregiver phone as a number that can be dialled, e.g. +1 312 555 0142."
    ]
    assert "not accepted" in errors["doc_imaging"][0]
    assert not Patient.objects.filter(given_name="Nora").exists()


def test_the_error_summary_heads_the_form_and_links_every_error(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    data = form_data(
        world, reason="", doc_labs=SimpleUploadedFile("x.exe", EXE, content_type="application/octet-stream")
    )
    html = html_of(client.post(CREATE, data))
    summary = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)
    assert summary is not None
    assert 'role="alert"' in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert "There is a problem" in summary.group(0)
    assert '<a href="#id_reason">Reason for referral: This field is required.</a>' in summary.group(0)
    assert '<a href="#id_doc_labs">Recent lab results: This type of file is not accepted.' in summary.group(0)
    # Above the fields: the summary comes before the first input of the form.
    assert html.index("error-summary") < html.index('name="patient_mode"')


def test_required_fields_are_marked_and_the_legend_explains_the_mark(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    html = html_of(client.get(CREATE))
    assert re.search(
        r'<p class="form-legend"><span class="required-mark" aria-hidden="true">\*</span> required</p>', html
    )
    assert '<label for="id_reason" class="is-required">Reason for referral</label>' in html
    assert re.search(r'<textarea name="reason"[^>]*\brequired\b', html)
    assert re.search(r'<textarea name="reason"[^>]*aria-required="true"', html)
    assert re.search(r'<select name="to_center"[^>]*aria-required="true"', html)
    assert '<label for="id_prior_therapies">Prior therapies</label>' in html
    # The checklist's file of the same subject names the document, not the typed field.
    assert '<label for="id_doc_prior_therapies">Prior therapies summary</label>' in html
    # The new patient's name is required where it is shown (for a new patient only).
    assert '<label for="id_family_name" class="is-required">Family name</label>' in html
    assert re.search(r'<input type="text" name="family_name"[^>]*aria-required="true"', html)


# Files kept across a failed round


def test_a_chosen_file_is_kept_across_an_error_and_attached_when_the_referral_saves(
    client: Client, world: World, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, world.community_coordinator)
    response = client.post(CREATE, form_data(world, reason="", doc_pathology=pdf()))
    assert response.status_code == 400
    pending = kept_for(world.community_coordinator)
    assert (pending.original_name, pending.content_type, pending.size) == ("pathology.pdf", "application/pdf", len(PDF))
    html = html_of(response)
    assert "Attached: <strong>pathology.pdf</strong>" in html
    assert f'<input type="hidden" name="pending_pathology" value="{pending.pk}">' in html
    assert 'name="remove_pathology"' in html
    assert stored_files(media) == [pending.file.name]

    # The second round sends the id back, no file: the document is the one chosen first.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE, form_data(world, pending_pathology=pending.pk))
    assert response.status_code == 302
    referral = Referral.objects.get()
    (document,) = referral.documents.all()
    assert (document.kind, document.original_name, document.content_type) == (
        "pathology",
        "pathology.pdf",
        "application/pdf",
    )
    assert document.uploaded_by == world.community_coordinator
    with document.file.open("rb") as stored:
        assert stored.read() == PDF
    assert not PendingUpload.objects.exists()
    assert stored_files(media) == [document.file.name]


def test_a_file_chosen_again_replaces_the_kept_one(
    client: Client, world: World, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, world.community_coordinator)
    client.post(CREATE, form_data(world, reason="", doc_pathology=pdf("first.pdf")))
    first = kept_for(world.community_coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CREATE, form_data(world, reason="", pending_pathology=first.pk, doc_pathology=pdf("second.pdf"))
        )
    second = kept_for(world.community_coordinator)
    assert second.original_name == "second.pdf" and second.pk != first.pk
    assert f'value="{second.pk}"' in html_of(response)
    assert stored_files(media) == [second.file.name]


def test_a_kept_file_marked_remove_is_not_attached_and_is_deleted(
    client: Client, world: World, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    login(client, world.community_coordinator)
    client.post(CREATE, form_data(world, reason="", doc_pathology=pdf()))
    pending = kept_for(world.community_coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE, form_data(world, pending_pathology=pending.pk, remove_pathology="on"))
    assert response.status_code == 302
    assert not Referral.objects.get().documents.exists()
    assert not PendingUpload.objects.exists()
    assert stored_files(media) == []


def test_another_users_pending_upload_is_refused_on_the_files_field(client: Client, world: World) -> None:
    owner = world.community_coordinator
    login(client, owner)
    client.post(CREATE, form_data(world, reason="", doc_pathology=pdf()))
    pending = kept_for(owner)

    colleague = member(world.practice, Role.COORDINATOR, email="colleague@riverbend.test")
    login(client, colleague)
    response = client.post(CREATE, form_data(world, pending_pathology=pending.pk))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["doc_pathology"] == [PENDING_GONE]
    assert "pending_pathology" not in errors
    assert "pathology.pdf" not in html_of(response)
    assert not Referral.objects.exists()
    # Nothing of the owner's was taken, moved or deleted.
    assert kept_for(owner).pk == pending.pk
    assert not PendingUpload.objects.filter(owner=colleague).exists()


def test_a_pending_upload_older_than_a_day_can_no_longer_be_attached(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    with time_machine.travel(timezone.now() - dt.timedelta(days=1, minutes=1)):
        client.post(CREATE, form_data(world, reason="", doc_pathology=pdf()))
    pending = kept_for(world.community_coordinator)
    response = client.post(CREATE, form_data(world, pending_pathology=pending.pk))
    assert response.context["form"].errors["doc_pathology"] == [PENDING_GONE]
    assert not Referral.objects.exists()


# Cleanup


def test_the_cleanup_deletes_pending_uploads_a_day_old_with_their_files(
    world: World, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start):
        old = pending_upload_keep(owner=world.community_coordinator, upload=pdf("old.pdf"))
    with time_machine.travel(start + dt.timedelta(hours=20)):
        recent = pending_upload_keep(owner=world.community_coordinator, upload=pdf("recent.pdf"))
    with time_machine.travel(start + dt.timedelta(hours=23)):
        assert delete_stale_pending_uploads() == 0
    with time_machine.travel(start + dt.timedelta(hours=25)), django_capture_on_commit_callbacks(execute=True):
        assert cleanup_task() == 1
    assert list(PendingUpload.objects.all()) == [recent]
    assert stored_files(media) == [recent.file.name]
    assert old.file.name not in stored_files(media)


def test_the_cleanup_runs_from_the_beat_schedule() -> None:
    from django.conf import settings

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == cleanup_task.name]
    assert len(entries) == 1


# Lengths and phones


def test_a_104000_character_reason_is_refused_naming_the_limit(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.post(CREATE, form_data(world, reason="word " * 20_800))
    assert response.status_code == 400
    (message,) = response.context["form"].errors["reason"]
    assert f"at most {REASON_MAX_LENGTH:,}".replace(",", "") in message.replace(",", "")
    assert not Referral.objects.exists()


def test_free_text_areas_say_their_limit_to_the_browser(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    html = html_of(client.get(CREATE))
    assert re.search(rf'<textarea name="reason"[^>]*maxlength="{REASON_MAX_LENGTH}"', html)
    assert re.search(rf'<textarea name="prior_therapies"[^>]*maxlength="{PRIOR_THERAPIES_MAX_LENGTH}"', html)


def test_a_dialable_caregiver_phone_is_stored_in_international_form(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    response = client.post(CREATE, new_patient_data(world, caregiver_phone="(312) 555-0142"))
    assert response.status_code == 302
    assert Patient.objects.get(given_name="Nora").caregiver_phone == "+1 312-555-0142"


def _options(html: str, name: str) -> list[str]:
    select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return [text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_the_point_person_picker_names_the_role_and_the_practice_when_there_are_several(
    client: Client, world: World
) -> None:
    login(client, world.community_coordinator)
    one = _options(client.get(CREATE).content.decode(), "primary_point_person")
    assert f"{world.community_oncologist.full_name} — Physician" in one
    assert not any(" at " in option for option in one)

    membership_start(
        user=world.community_coordinator, site=world.unrelated_practice, role=Role.NURSE, starts_on=dt.date(2020, 1, 1)
    )
    several = _options(client.get(CREATE).content.decode(), "primary_point_person")
    assert f"{world.community_oncologist.full_name} — Physician at {world.practice.name}" in several
    roles = f"Nurse at {world.unrelated_practice.name}; Coordinator at {world.practice.name}"  # by site name
    assert f"{world.community_coordinator.full_name} — {roles}" in several
