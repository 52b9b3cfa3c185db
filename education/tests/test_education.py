"""Education material (versions edited by site administrators), education given (the timeline and
the audit trail) and the wallet card PDF, through the services and the pages."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.models import TimelineEntry
from carecoord.pdf import html_to_document
from carecoord.roles import Role
from education.models import EducationGiven, EducationMaterialVersion
from education.selectors import current_versions
from education.services import education_record, material_create, material_revise
from education.wallet_card import wallet_card_html, wallet_card_of
from referrals.milestones.services import milestone_set_infusion
from tests.factories import member
from tests.helpers import (
    World,
    accepted_referral,
    login,
    queries_of_get,
    ship_education,
    treated_with_carvykti,
)

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def admin_user(world: World) -> Any:
    user = member(world.center, Role.COORDINATOR, email="admin@lakeside.test", full_name="Ada Admin")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _first_version(user: Any) -> EducationMaterialVersion:
    return material_create(
        actor=user,
        name="Fever at home",
        phase="hand_back",
        audience="patient",
        title="Fever at home",
        body="Call the center.",
    )


# --- Material and its versions -----------------------------------------------------------------


def test_editing_a_material_saves_the_next_version_and_keeps_the_old_one(world: World, admin_user: Any) -> None:
    first = _first_version(admin_user)
    second = material_revise(actor=admin_user, material=first.material, title="Fever at home", body="Call at once.")
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert first.body == "Call the center."
    assert current_versions().get(material=first.material) == second


def test_only_site_administrators_edit_material(world: World, admin_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        _first_version(world.center_coordinator)
    first = _first_version(admin_user)
    with pytest.raises(PermissionDenied):
        material_revise(actor=world.center_coordinator, material=first.material, title="x", body="y")


def test_an_unchanged_edit_is_refused_on_the_text(world: World, admin_user: Any) -> None:
    first = _first_version(admin_user)
    with pytest.raises(ValidationError) as refused:
        material_revise(actor=admin_user, material=first.material, title=first.title, body=first.body)
    assert "body" in refused.value.message_dict


def test_the_editor_page_saves_a_version_and_names_the_field_in_error(
    client: Client, world: World, admin_user: Any
) -> None:
    first = _first_version(admin_user)
    login(client, admin_user)
    url = reverse("education-material-edit", kwargs={"material_id": first.material_id})
    refused = client.post(url, {"title": "Fever at home", "body": ""})
    assert refused.status_code == 400
    assert "Write the material&#x27;s text." in refused.content.decode()
    saved = client.post(url, {"title": "Fever at home", "body": "Take your temperature twice a day."})
    assert saved.status_code == 302
    assert first.material.versions.count() == 2


def test_a_coordinator_may_read_but_not_edit_material(client: Client, world: World, admin_user: Any) -> None:
    first = _first_version(admin_user)
    login(client, world.center_coordinator)
    assert client.get(reverse("education-material-list")).status_code == 200
    version_url = reverse("education-material-version", kwargs={"material_version_id": first.pk})
    assert "Call the center." in client.get(version_url).content.decode()
    edit_url = reverse("education-material-edit", kwargs={"material_id": first.material_id})
    assert client.get(edit_url).status_code == 403
    assert client.post(edit_url, {"title": "x", "body": "y"}).status_code == 403


# --- Education given ----------------------------------------------------------------------------


def test_education_given_is_on_the_timeline_and_in_the_audit_trail(world: World, admin_user: Any) -> None:
    version = _first_version(admin_user)
    given = education_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        version=version,
        recipient="caregiver",
        given_at=timezone.now() - dt.timedelta(hours=2),
    )
    entry = TimelineEntry.objects.get(patient=world.shared_patient, kind=TimelineEntry.Kind.EDUCATION)
    assert entry.title == "Education given to the caregiver: Fever at home"
    assert entry.actor == world.community_coordinator and entry.site == world.practice
    assert (entry.subject_type, entry.subject_id) == ("education.educationgiven", given.pk)
    audit = AuditEntry.objects.get(object_type="education.educationgiven", object_id=str(given.pk))
    assert audit.action == AuditEntry.Action.CREATE
    assert audit.patient_id == world.shared_patient.pk


def test_education_given_in_the_future_is_refused_on_its_field(world: World, admin_user: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        education_record(
            actor=world.community_coordinator,
            patient=world.shared_patient,
            site=world.practice,
            version=_first_version(admin_user),
            recipient="patient",
            given_at=timezone.now() + dt.timedelta(days=2),
        )
    assert "given_at" in refused.value.message_dict


def test_a_read_only_member_may_not_record_education(world: World, admin_user: Any) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    with pytest.raises(PermissionDenied):
        education_record(
            actor=reader,
            patient=world.shared_patient,
            site=world.practice,
            version=_first_version(admin_user),
            recipient="patient",
            given_at=timezone.now(),
        )


def test_the_coordinator_records_education_on_the_patient_page(client: Client, world: World) -> None:
    ship_education()
    version = current_versions().get(material__name="Hand-back: going home")
    login(client, world.community_coordinator)
    url = reverse("education-patient", kwargs={"patient_id": world.shared_patient.pk})
    page = client.get(url).content.decode()
    assert "Going home after CAR-T" in page
    refused = client.post(
        url, {"site": world.practice.pk, "version": version.pk, "recipient": "", "given_at": "2026-12-01T10:00"}
    )
    assert refused.status_code == 400
    assert "Choose who was taught." in refused.content.decode()
    saved = client.post(
        url, {"site": world.practice.pk, "version": version.pk, "recipient": "patient", "given_at": "2026-12-01T10:00"}
    )
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    given = EducationGiven.objects.get(patient=world.shared_patient)
    assert (given.version, given.given_by, given.site) == (version, world.community_coordinator, world.practice)
    assert "Going home after CAR-T" in client.get(url).content.decode()


def test_the_patient_education_page_reads_a_fixed_number_of_queries(client: Client, world: World) -> None:
    ship_education()
    versions = list(current_versions())
    login(client, world.community_coordinator)
    url = reverse("education-patient", kwargs={"patient_id": world.shared_patient.pk})

    def give(count: int) -> None:
        for n in range(count):
            education_record(
                actor=world.community_coordinator,
                patient=world.shared_patient,
                site=world.practice,
                version=versions[n % len(versions)],
                recipient="patient",
                given_at=timezone.now() - dt.timedelta(minutes=n + 1 + EducationGiven.objects.count()),
            )

    give(1)
    small = queries_of_get(client, url)
    give(6)
    assert queries_of_get(client, url) == small


PATIENT_ROW = 'SELECT "carecoord_patient"."id", "carecoord_patient"."given_name"'


def test_recording_education_loads_the_patient_once_and_checks_the_role_on_it(client: Client, world: World) -> None:
    ship_education()
    version = current_versions().get(material__name="Hand-back: going home")
    url = reverse("education-patient", kwargs={"patient_id": world.shared_patient.pk})
    given = {"site": world.practice.pk, "version": version.pk, "recipient": "patient", "given_at": "2026-12-01T10:00"}
    login(client, world.community_coordinator)
    client.get(url)  # the session's first request: its bookkeeping is not the page's
    for data, status in (({**given, "recipient": ""}, 400), (given, 302)):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data)
        assert response.status_code == status
        patient_reads = [q for q in captured.captured_queries if q["sql"].startswith(PATIENT_ROW)]
        assert len(patient_reads) == 1, [q["sql"][:200] for q in patient_reads]
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    assert login(Client(), reader).post(url, given).status_code == 403
    assert EducationGiven.objects.filter(patient=world.shared_patient).count() == 1


def test_an_outsider_gets_404_for_the_patient_education_and_wallet_card(client: Client, world: World) -> None:
    login(client, world.outsider)
    for name in ("education-patient", "education-wallet-card"):
        url = reverse(name, kwargs={"patient_id": world.shared_patient.pk})
        assert client.get(url).status_code == 404
        assert client.post(url, {}).status_code == 404


# --- The wallet card ------------------------------------------------------------------------------


def test_the_wallet_card_carries_product_day_0_center_and_restrictions_and_no_more(world: World) -> None:
    referral = accepted_referral(world)
    treated_with_carvykti(world, referral)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
    card = wallet_card_of(world.shared_patient)
    assert card.product == "Carvykti (ciltacabtagene autoleucel)"
    assert card.day_zero == dt.date(2027, 1, 11)
    assert card.center == world.center.name and card.center_phone == world.center.phone_24_7
    assert card.no_driving_until is not None and card.stay_near_until is not None

    page = html_to_document(wallet_card_html(card, dt.date(2027, 1, 12))).pages
    text = " ".join(box.text for p in page for box in p._page_box.descendants() if hasattr(box, "text"))
    assert "Carvykti (ciltacabtagene autoleucel)" in text
    assert "11 Jan 2027" in text and world.center.phone_24_7 in text
    assert f"No driving or operating heavy machinery until {card.no_driving_until:%d %b %Y}" in text
    assert "Tocilizumab must be available" in text
    patient = world.shared_patient
    assert f"{patient.date_of_birth:%d %b %Y}" not in text  # minimum PHI: no date of birth
    assert len(page) == 1


def test_downloading_the_wallet_card_is_a_pdf_recorded_as_a_download(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.get(reverse("education-wallet-card", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "wallet-card.pdf" in response["Content-Disposition"]
    read = AuditEntry.objects.filter(patient_id=world.shared_patient.pk, action=AuditEntry.Action.DOWNLOAD).get()
    assert read.actor == world.community_oncologist
