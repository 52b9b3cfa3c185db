"""The audit trail: changes and reads recorded, append-only, searched and exported by site administrators."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit import reads as audit_reads
from audit.admin import AuditEntryAdmin
from audit.models import AppendOnlyError, AuditEntry
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, User
from carecoord.reads import shown as declare_shown
from carecoord.request_context import request_context
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_end_site, care_team_name_point_person
from carecoord.services.memberships import membership_start
from carecoord.services.patients import patient_update
from handoffs.models import Handoff
from referrals.milestones.services import milestone_set_infusion
from referrals.models import Milestone, ReferralDocument
from referrals.workflow import Move
from tests.factories import SiteFactory, UserFactory, member, patient_at
from tests.helpers import World, accepted_referral, advance, api_token_header, draft_referral, login, sent_handoff
from tests.route_rules import build_samples
from toxicity.models import ToxicityEvent

pytestmark = pytest.mark.django_db

AUDIT = "/audit/"
EXPORT = "/audit/export/"
FIND = "/audit/find-patient/"
READS = [AuditEntry.Action.VIEW, AuditEntry.Action.DOWNLOAD]


def reads() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=READS).order_by("pk"))


def read_by(user: User, patient: Patient, what: str = "viewed patient") -> AuditEntry:
    """One read of `patient` by `user`, answered and written as the middleware does."""
    with request_context(RequestFactory().get("/")) as context:
        context.request.user = user
        declare_shown(patient, what=what)
        assert audit_reads.write_reads(context, HttpResponse()) == 1
    return AuditEntry.objects.latest("pk")


def superuser() -> User:
    return UserFactory.create(email="root@carecoord.test", is_staff=True, is_superuser=True)


def staff_at(world: World, site_name: str = "center") -> User:
    site = world.center if site_name == "center" else world.unrelated_practice
    return member(site, Role.COORDINATOR, email=f"admin@{site_name}.test", is_staff=True)


def streamed(response: Any) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(cast(Iterator[bytes], response.streaming_content)).decode()


def shown(response: Any) -> list[AuditEntry]:
    assert response.status_code == 200, response.content
    return list(response.context["page"].object_list)


# --- changes ----------------------------------------------------------------------------------


def test_a_change_through_the_api_records_who_when_from_which_site_and_what(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_coordinator))
    before = timezone.now()
    url = f"/api/patients/{world.shared_patient.pk}/"

    response = client.patch(url, {"caregiver_name": "Carl Caregiver"}, format="json", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_type="carecoord.patient")
    # Token authentication happens inside the DRF view: the user it found is the actor.
    assert entry.actor_id == world.community_coordinator.pk
    assert entry.actor_email == "coordinator@riverbend.test"
    assert entry.site_id == world.practice.pk
    assert entry.patient_id == world.shared_patient.pk
    assert entry.object_id == str(world.shared_patient.pk)
    assert entry.changes == {"caregiver_name": ["", "Carl Caregiver"]}
    assert entry.what == "updated patient"
    assert entry.ip_address == "10.1.2.3"
    assert before <= entry.at <= timezone.now()


def test_a_change_made_outside_a_request_is_recorded_as_the_systems(world: World) -> None:
    patient_update(actor=world.community_coordinator, patient=world.shared_patient, caregiver_name="Sam")

    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_type="carecoord.patient")
    assert (entry.actor_id, entry.actor_email, entry.site_id, entry.ip_address) == (None, "", None, None)
    assert entry.what == "updated patient by the system"
    assert entry.changes == {"caregiver_name": ["", "Sam"]}


def test_a_save_that_changes_nothing_but_the_timestamp_records_nothing(world: World) -> None:
    patient = Patient.objects.get(pk=world.shared_patient.pk)
    patient.save()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_creating_a_patient_records_its_rows_with_their_values(world: World) -> None:
    patient = patient_at(world.practice, world.community_coordinator, given_name="Nora", family_name="Newcase")

    created = AuditEntry.objects.filter(patient=patient, action=AuditEntry.Action.CREATE)
    by_type = {entry.object_type: entry for entry in created}
    assert set(by_type) == {
        "carecoord.patient",
        "carecoord.patientidentifier",
        "carecoord.careteamlink",
        "carecoord.timelineentry",  # "Registered at Riverbend Oncology"
    }
    assert by_type["carecoord.patient"].changes["family_name"] == [None, "Newcase"]
    assert by_type["carecoord.patient"].changes["date_of_birth"] == [None, "1960-05-17"]
    assert by_type["carecoord.careteamlink"].changes["site"] == [None, world.practice.pk]


def test_registering_a_patient_records_the_registering_site_on_every_entry(world: World) -> None:
    # The patient row is written before its care-team link: the site cannot come from the team.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_coordinator))
    payload = {
        "site": world.practice.pk,
        "mrn": "RB-AUDIT-1",
        "given_name": "Nora",
        "family_name": "Newcase",
        "date_of_birth": "1960-05-17",
        "sex": "female",
        "disease_area": "lbcl",
    }

    response = client.post("/api/patients/", payload, format="json")

    assert response.status_code == 201, response.content
    created = AuditEntry.objects.filter(patient_id=response.json()["id"], action=AuditEntry.Action.CREATE)
    assert {entry.object_type for entry in created} >= {"carecoord.patient", "carecoord.careteamlink"}
    assert {(entry.actor_id, entry.site_id) for entry in created} == {
        (world.community_coordinator.pk, world.practice.pk)
    }


def test_deleting_point_persons_when_a_site_leaves_records_what_they_were(world: World) -> None:
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    person = care_team_name_point_person(
        actor=world.center_coordinator, link=link, user=world.center_coordinator, rank=PointPerson.Rank.PRIMARY
    )
    care_team_end_site(actor=world.center_coordinator, link=link)

    deleted = AuditEntry.objects.get(action=AuditEntry.Action.DELETE)
    assert (deleted.object_type, deleted.object_id) == ("carecoord.pointperson", str(person.pk))
    assert deleted.patient_id == world.shared_patient.pk
    assert deleted.changes["user"] == [world.center_coordinator.pk, None]
    ended = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_type="carecoord.careteamlink")
    assert ended.changes["ended_at"][0] is None and ended.changes["ended_at"][1]


def test_a_referral_move_made_with_a_conditional_update_is_recorded(world: World) -> None:
    referral = draft_referral(world)
    advance(referral, [(Move.SUBMIT, world.community_coordinator)])

    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, object_type="referrals.referral")
    assert entry.changes["state"] == ["draft", "submitted"]
    assert entry.patient_id == world.shared_patient.pk
    assert entry.object_id == str(referral.pk)


def test_planned_dates_written_in_bulk_are_recorded_one_entry_per_milestone(world: World) -> None:
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 10))
    created = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_type="referrals.milestone")
    assert created.count() == Milestone.objects.filter(referral=referral).count() > 1

    milestone_set_infusion(
        actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 12), reason="Bed"
    )
    moved = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_type="referrals.milestone")
    infusion = moved.get(object_id=str(Milestone.objects.get(referral=referral, kind="infusion").pk))
    assert infusion.changes["planned_on"] == ["2027-01-10", "2027-01-12"]


def test_sending_and_acknowledging_a_handoff_are_recorded(world: World) -> None:
    handoff = sent_handoff(world)
    entries = AuditEntry.objects.filter(object_type="handoffs.handoff", object_id=str(handoff.pk))
    sent = entries.get(action=AuditEntry.Action.UPDATE, changes__state=["draft", "sent"])
    assert sent.changes["sent_by"] == [None, handoff.sent_by_id]


# --- reads ------------------------------------------------------------------------------------


@pytest.fixture
def objects(world: World, settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    samples = build_samples(world)
    return {
        "document": ReferralDocument.objects.get(pk=samples["document_id"]),
        "event": ToxicityEvent.objects.get(pk=samples["event_id"]),
        "handoff": Handoff.objects.get(pk=samples["handoff_id"]),
    }


def _read_routes(world: World, objects: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    patient = world.shared_patient
    event: ToxicityEvent = objects["event"]
    handoff: Handoff = objects["handoff"]
    document: ReferralDocument = objects["document"]
    return [
        (f"/patients/{patient.pk}/", "viewed patient", AuditEntry.Action.VIEW, patient),
        (f"/patients/{patient.pk}/timeline/", "viewed timeline", AuditEntry.Action.VIEW, patient),
        (f"/api/patients/{patient.pk}/", "viewed patient", AuditEntry.Action.VIEW, patient),
        (f"/api/patients/{patient.pk}/timeline/", "viewed timeline", AuditEntry.Action.VIEW, patient),
        (f"/toxicity/events/{event.pk}/", "viewed toxicity event", AuditEntry.Action.VIEW, event),
        (f"/api/toxicity-events/{event.pk}/", "viewed toxicity event", AuditEntry.Action.VIEW, event),
        (f"/handoffs/{handoff.pk}/", "viewed hand-off", AuditEntry.Action.VIEW, handoff),
        (f"/handoffs/{handoff.pk}/pdf/", "downloaded hand-off PDF", AuditEntry.Action.DOWNLOAD, handoff),
        (f"/api/handoffs/{handoff.pk}/", "viewed hand-off", AuditEntry.Action.VIEW, handoff),
        (
            f"/referrals/documents/{document.pk}/",
            "downloaded referral document",
            AuditEntry.Action.DOWNLOAD,
            document,
        ),
        (
            f"/api/documents/{document.pk}/download/",
            "downloaded referral document",
            AuditEntry.Action.DOWNLOAD,
            document,
        ),
    ]


def test_each_read_route_records_exactly_one_entry(world: World, objects: dict[str, Any]) -> None:
    client = login(APIClient(), world.center_coordinator)
    for url, what, action, obj in _read_routes(world, objects):
        before = len(reads())
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        entries = reads()[before:]
        assert len(entries) == 1, (url, [e.what for e in entries])
        entry = entries[0]
        assert (entry.what, entry.action) == (what, action), url
        assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk)), url
        assert entry.patient_id == world.shared_patient.pk, url
        assert (entry.actor_id, entry.site_id) == (world.center_coordinator.pk, world.center.pk), url


def test_a_refused_read_records_nothing(world: World, objects: dict[str, Any]) -> None:
    client = login(APIClient(), world.outsider)
    for url, *_ in _read_routes(world, objects):
        assert client.get(url).status_code == 404, url
    assert reads() == []


# --- append-only ------------------------------------------------------------------------------


@pytest.fixture
def entry(world: World) -> AuditEntry:
    return read_by(world.center_coordinator, world.shared_patient)


def test_the_model_refuses_to_change_or_delete_an_entry(entry: AuditEntry) -> None:
    entry.what = "nothing to see"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).what == "viewed patient"


def test_the_database_refuses_updates_and_deletes_that_bypass_the_model(entry: AuditEntry) -> None:
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(what="nothing to see")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.get(pk=entry.pk).what == "viewed patient"


def test_deleting_a_patient_keeps_its_entries(world: World, entry: AuditEntry) -> None:
    Patient.objects.filter(pk=world.shared_patient.pk).delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.patient_id == world.shared_patient.pk
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, object_type="carecoord.patient").exists()


def test_the_admin_offers_no_add_change_or_delete(world: World, entry: AuditEntry) -> None:
    model_admin = AuditEntryAdmin(AuditEntry, admin.site)
    request = RequestFactory().get("/admin/audit/auditentry/")
    request.user = superuser()
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    request.user = staff_at(world)
    assert not model_admin.has_view_permission(request, entry)


# --- the page ---------------------------------------------------------------------------------


def _entries(world: World) -> dict[str, AuditEntry]:
    """Reads at known times: by two people, about the shared and the foreign patient."""
    made = {}
    plan = [
        ("shared-early", world.center_coordinator, world.shared_patient, dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)),
        ("shared-late", world.community_oncologist, world.shared_patient, dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC)),
        ("foreign", world.outsider, world.foreign_patient, dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC)),
    ]
    for name, user, patient, at in plan:
        with time_machine.travel(at, tick=False):
            made[name] = read_by(user, patient, what="viewed timeline")
    return made


def test_the_page_lists_entries_newest_first_with_the_patient_filter_by_id(client: Client, world: World) -> None:
    made = _entries(world)
    login(client, superuser())
    assert [e.pk for e in shown(client.get(AUDIT)) if e.action == "view"] == [
        made["shared-late"].pk,
        made["foreign"].pk,
        made["shared-early"].pk,
    ]
    only = shown(client.get(AUDIT, {"patient": str(world.foreign_patient.pk)}))
    assert {e.patient_id for e in only} == {world.foreign_patient.pk}
    assert [e.pk for e in only if e.action == "view"] == [made["foreign"].pk]


def _mrn_of(patient: Patient) -> str:
    return PatientIdentifier.objects.filter(patient=patient).values_list("mrn", flat=True).first() or ""


def test_a_patient_found_by_mrn_is_filtered_by_id_and_the_mrn_stays_out_of_the_url(
    client: Client, world: World
) -> None:
    _entries(world)
    login(client, superuser())
    mrn = _mrn_of(world.foreign_patient)

    response = client.post(FIND, {"mrn": f" {mrn.lower()} "})

    assert response.status_code == 302
    assert response["Location"] == f"{AUDIT}?patient={world.foreign_patient.pk}"
    assert mrn not in response["Location"]
    page = client.get(response["Location"])
    assert {e.patient_id for e in shown(page)} == {world.foreign_patient.pk}
    assert "Patient: <strong>Foreignsite, Frank</strong>" in page.content.decode()


def test_the_page_never_lists_every_patient(client: Client, world: World) -> None:
    login(client, superuser())
    # No entry matches, so any patient name on the page could only come from a patient picker.
    response = client.get(AUDIT, {"user": "nobody@example.test"})
    assert response.status_code == 200 and not shown(response)
    page = response.content.decode()
    assert world.shared_patient.family_name not in page
    assert world.foreign_patient.family_name not in page


def test_an_mrn_outside_the_administrators_scope_is_not_found(client: Client, world: World) -> None:
    login(client, staff_at(world, "prairie"))
    response = client.post(FIND, {"mrn": _mrn_of(world.shared_patient)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Patient MRN: No patient whose entries you may search has this MRN." in body
    assert world.shared_patient.family_name not in body
    assert client.post(FIND, {"mrn": ""}).status_code == 400


def test_an_mrn_used_at_two_sites_offers_both_patients(client: Client, world: World) -> None:
    mrn = _mrn_of(world.shared_patient)
    twin = patient_at(world.unrelated_practice, world.outsider, family_name="Twinmrn")
    PatientIdentifier.objects.filter(patient=twin).update(mrn=mrn)
    login(client, superuser())
    response = client.post(FIND, {"mrn": mrn})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{AUDIT}?patient={twin.pk}"' in body
    assert f'href="{AUDIT}?patient={world.shared_patient.pk}"' in body


def test_the_patient_page_links_its_audit_trail_for_administrators_only(client: Client, world: World) -> None:
    url = f"/patients/{world.shared_patient.pk}/"
    link = f'href="{AUDIT}?patient={world.shared_patient.pk}"'
    login(client, world.center_coordinator)
    assert link not in client.get(url).content.decode()
    login(client, staff_at(world))
    assert link in client.get(url).content.decode()


def test_the_page_filters_by_user_email(client: Client, world: World) -> None:
    made = _entries(world)
    login(client, superuser())
    only = shown(client.get(AUDIT, {"user": "Oncologist@Riverbend.test"}))
    assert [e.pk for e in only] == [made["shared-late"].pk]


def test_the_page_filters_by_dates_both_included(client: Client, world: World) -> None:
    made = _entries(world)
    login(client, superuser())
    only = shown(client.get(AUDIT, {"date_from": "2026-03-05", "date_to": "2026-03-09"}))
    assert {e.pk for e in only} == {made["foreign"].pk, made["shared-late"].pk}


def test_bad_filters_answer_400_naming_the_field(client: Client, world: World) -> None:
    login(client, superuser())
    response = client.get(AUDIT, {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert response.status_code == 400
    assert "To: The end date is before the start date." in response.content.decode()
    response = client.get(AUDIT, {"patient": str(uuid.uuid4())})
    assert response.status_code == 400
    assert "Patient: This patient is not one whose entries you may search." in response.content.decode()


def test_people_who_are_not_site_administrators_are_refused(client: Client, world: World) -> None:
    assert client.get(AUDIT).status_code == 302
    login(client, world.center_coordinator)
    assert client.get(AUDIT).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert "Audit trail" not in client.get("/").content.decode()


def test_site_administrators_find_the_page_in_the_navigation(client: Client, world: World) -> None:
    login(client, staff_at(world))
    assert 'href="/audit/"' in client.get("/").content.decode()


def test_a_staff_member_of_another_site_sees_no_entry_about_patients_outside_their_scope(
    client: Client, world: World
) -> None:
    made = _entries(world)
    login(client, staff_at(world, "prairie"))
    response = client.get(AUDIT)
    assert {e.pk for e in shown(response) if e.action == "view"} == {made["foreign"].pk}
    assert world.shared_patient.family_name not in response.content.decode()
    assert client.get(AUDIT, {"patient": str(world.shared_patient.pk)}).status_code == 400
    rows = list(csv.DictReader(io.StringIO(streamed(client.get(EXPORT)))))
    assert str(world.shared_patient.pk) not in {row["patient_id"] for row in rows}


def test_a_staff_member_sees_entries_acted_from_their_site_without_the_patients_name(
    client: Client, world: World
) -> None:
    made = _entries(world)
    # The center leaves the care team: its staff no longer see the patient, but keep the
    # record of what was done from their site.
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    care_team_end_site(actor=world.center_coordinator, link=link)
    login(client, staff_at(world))
    response = client.get(AUDIT)
    assert made["shared-early"].pk in {e.pk for e in shown(response)}
    assert made["shared-late"].pk not in {e.pk for e in shown(response)}
    assert world.shared_patient.family_name not in response.content.decode()


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_number_of_entries(client: Client, world: World) -> None:
    login(client, staff_at(world))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(AUDIT).status_code == 200
        return len(queries)

    _entries(world)
    few = count()
    for _ in range(150):
        read_by(world.community_oncologist, world.shared_patient, what="viewed")
    many = count()
    assert many == few
    assert len(client.get(AUDIT).context["page"].object_list) == 100


# --- CSV export -------------------------------------------------------------------------------


def test_the_export_is_the_filtered_set_as_csv_and_is_itself_recorded(client: Client, world: World) -> None:
    made = _entries(world)
    admin_user = superuser()
    login(client, admin_user)
    response = client.get(EXPORT, {"patient": str(world.shared_patient.pk), "date_to": "2026-03-31"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [row["at_utc"] for row in rows] == ["2026-03-09T12:00:00+00:00", "2026-03-01T12:00:00+00:00"]
    first = rows[0]
    assert first["actor_email"] == "oncologist@riverbend.test"
    assert first["site"] == "Riverbend Oncology"
    assert first["patient_id"] == str(world.shared_patient.pk)
    assert first["what"] == "viewed timeline"
    assert first["object_type"] == "carecoord.patient"
    assert made["foreign"].pk not in {e.pk for e in AuditEntry.objects.filter(patient=world.shared_patient)}

    export = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (export.actor_id, export.patient_id) == (admin_user.pk, world.shared_patient.pk)
    assert export.what == "exported audit entries (one patient, to 2026-03-31)"


def test_the_export_gives_each_moment_on_the_exporters_clock_too(client: Client, world: World) -> None:
    _entries(world)
    admin_user = superuser()
    membership_start(user=admin_user, site=world.center, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    login(client, admin_user)
    response = client.get(EXPORT, {"patient": str(world.shared_patient.pk), "date_to": "2026-03-31"})

    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert rows[0]["at_utc"] == "2026-03-09T12:00:00+00:00"
    assert (rows[0]["at_local"], rows[0]["time_zone"]) == ("2026-03-09T07:00:00-05:00", "America/Chicago")
    assert (rows[1]["at_local"], rows[1]["time_zone"]) == ("2026-03-01T06:00:00-06:00", "America/Chicago")


def test_the_export_defuses_cells_a_spreadsheet_would_run(client: Client, world: World) -> None:
    patient_update(actor=world.community_coordinator, patient=world.shared_patient, caregiver_name="=HYPERLINK(1)")
    login(client, superuser())
    body = streamed(client.get(EXPORT))
    rows = list(csv.DictReader(io.StringIO(body)))
    changes = next(row["changes"] for row in rows if row["what"] == "updated patient by the system")
    assert '"=HYPERLINK(1)"' in changes
    assert not any(value.startswith("=") for row in rows for value in row.values())


def test_an_invalid_export_filter_answers_400_naming_the_field(client: Client, world: World) -> None:
    login(client, superuser())
    response = client.get(EXPORT, {"user": "not-an-email"})
    assert response.status_code == 400
    assert response.content.decode().startswith("User (email):")
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_site_factory_sites_do_not_leak_into_the_patient_choices(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Hilltop Oncology")
    outsider_patient = patient_at(other, member(other, Role.COORDINATOR), family_name="Elsewhere")
    login(client, staff_at(world))
    choices = {str(value) for value, _ in client.get(AUDIT).context["form"].fields["patient"].choices}
    assert str(world.shared_patient.pk) in choices
    assert str(outsider_patient.pk) not in choices
