"""The treatment history: lines of therapy and transplant candidacy, recorded through the
service, the page and the API, audited, and scoped like every patient record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from candidates.models import TherapyLine, TransplantCandidacy
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord.roles import Role
from tests.factories import member
from tests.helpers import World, api, login, queries_of_get, results

pytestmark = pytest.mark.django_db

LIST = reverse("api:therapy-line-list")


def _line(world: World, number: int = 1, **fields: object) -> TherapyLine:
    values: dict[str, object] = {
        "regimen": "VRd",
        "drug_classes": ["pi", "imid"],
        "lenalidomide": True,
        "started_on": dt.date(2025, 1, 6),
    } | fields
    return therapy_line_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        number=number,
        **values,  # type: ignore[arg-type]
    )


def _payload(world: World, **fields: object) -> dict[str, object]:
    return {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "number": 1,
        "regimen": "R-CHOP",
        "drug_classes": ["chemoimmunotherapy"],
        "started_on": "2025-03-01",
        "ended_on": "2025-07-01",
        "best_response": "complete",
        **fields,
    }


def _page(world: World) -> str:
    return reverse("candidates-history", kwargs={"patient_id": world.shared_patient.pk})


# --- The service ------------------------------------------------------------------------------


def test_a_line_is_recorded_by_its_site_and_person_and_audited(world: World) -> None:
    line = _line(world, refractory=True, progressed_on=dt.date(2025, 9, 1))
    assert (line.site, line.recorded_by, line.drug_classes) == (
        world.practice,
        world.community_coordinator,
        ["pi", "imid"],
    )
    audit = AuditEntry.objects.get(object_type="candidates.therapyline", object_id=str(line.pk))
    assert audit.action == AuditEntry.Action.CREATE
    assert audit.patient_id == world.shared_patient.pk


def test_a_line_number_is_recorded_once_per_patient(world: World) -> None:
    _line(world)
    with pytest.raises(ValidationError) as refused:
        _line(world, regimen="KRd")
    assert "already recorded" in refused.value.message_dict["number"][0]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ended_on": dt.date(2024, 12, 1)}, "ended_on"),
        ({"progressed_on": dt.date(2024, 12, 1)}, "progressed_on"),
        ({"drug_classes": []}, "drug_classes"),
        ({"drug_classes": ["chemo"]}, "drug_classes"),
        ({"regimen": " "}, "regimen"),
        ({"best_response": "great"}, "best_response"),
        ({"started_on": dt.date(1900, 1, 1)}, "started_on"),
    ],
)
def test_a_line_that_cannot_be_is_refused_on_its_field(world: World, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _line(world, **fields)
    assert field in refused.value.message_dict
    assert not TherapyLine.objects.exists()


def test_a_start_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        _line(world, started_on=timezone.localdate() + dt.timedelta(days=10))
    assert "started_on" in refused.value.message_dict


def test_prior_therapy_years_before_the_referral_needs_no_confirmation(world: World) -> None:
    # Lines come before a referral by nature: no "far before the referral" question.
    assert _line(world, started_on=dt.date(2019, 5, 1)).pk


def test_a_read_only_member_may_not_record_a_line_nor_candidacy(world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    with pytest.raises(PermissionDenied):
        therapy_line_record(
            actor=reader,
            patient=world.shared_patient,
            site=world.practice,
            number=1,
            regimen="VRd",
            drug_classes=["pi"],
            started_on=dt.date(2025, 1, 1),
        )
    with pytest.raises(PermissionDenied):
        transplant_candidacy_record(actor=reader, patient=world.shared_patient, site=world.practice, status="no")


def test_transplant_candidacy_is_one_row_per_patient_changed_and_audited(world: World) -> None:
    first = transplant_candidacy_record(
        actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, status="unknown"
    )
    again = transplant_candidacy_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        status="no",
        reason="Age and comorbidity",
    )
    assert first.pk == again.pk and TransplantCandidacy.objects.get().status == "no"
    actions = list(
        AuditEntry.objects.filter(object_type="candidates.transplantcandidacy")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    with pytest.raises(ValidationError) as refused:
        transplant_candidacy_record(
            actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, status="maybe"
        )
    assert "status" in refused.value.message_dict


# --- The page -----------------------------------------------------------------------------------


def test_the_coordinator_records_a_line_and_candidacy_from_the_patient_page(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    detail = client.get(reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})).content.decode()
    assert _page(world) in detail
    page = client.get(_page(world)).content.decode()
    assert "No line of therapy recorded yet." in page and "Record the line" in page
    refused = client.post(_page(world), {"site": world.practice.pk, "number": 1, "regimen": "R-CHOP"})
    assert refused.status_code == 400
    assert "Tick at least one drug class" in refused.content.decode()
    saved = client.post(
        _page(world),
        {
            "site": world.practice.pk,
            "number": 1,
            "regimen": "R-CHOP",
            "drug_classes": ["chemoimmunotherapy"],
            "started_on": "2025-03-01",
            "ended_on": "2025-07-01",
            "best_response": "complete",
            "progressed_on": "2025-11-02",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[-2000:]
    line = TherapyLine.objects.get(patient=world.shared_patient)
    audit = AuditEntry.objects.get(object_type="candidates.therapyline", object_id=str(line.pk))
    assert (audit.actor_id, audit.site_id) == (world.community_coordinator.pk, world.practice.pk)
    assert line.progressed_on == dt.date(2025, 11, 2) and not line.refractory
    candidacy_url = reverse("candidates-transplant-candidacy", kwargs={"patient_id": world.shared_patient.pk})
    assert client.post(candidacy_url, {"site": world.practice.pk, "status": ""}).status_code == 400
    assert client.post(candidacy_url, {"site": world.practice.pk, "status": "no", "reason": "Frail"}).status_code == 302
    page = client.get(_page(world)).content.decode()
    assert "R-CHOP" in page and "relapse or progression 2 Nov 2025" in page
    assert "Not a transplant candidate</strong>: Frail" in page


def test_a_read_only_member_sees_the_history_without_forms_and_is_refused_a_post(client: Client, world: World) -> None:
    _line(world)
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    login(client, reader)
    page = client.get(_page(world)).content.decode()
    assert "VRd" in page and "Record the line" not in page
    assert client.post(_page(world), {"number": 2}).status_code == 403
    candidacy_url = reverse("candidates-transplant-candidacy", kwargs={"patient_id": world.shared_patient.pk})
    assert client.post(candidacy_url, {"status": "no"}).status_code == 403
    assert TherapyLine.objects.count() == 1 and not TransplantCandidacy.objects.exists()


def test_an_outsider_gets_404_for_the_history_pages(client: Client, world: World) -> None:
    _line(world)
    login(client, world.outsider)
    for name in ("candidates-history", "candidates-transplant-candidacy"):
        url = reverse(name, kwargs={"patient_id": world.shared_patient.pk})
        assert client.get(url).status_code == 404
        assert client.post(url, {"status": "no", "number": 2}).status_code == 404
    assert TherapyLine.objects.count() == 1 and not TransplantCandidacy.objects.exists()


def test_the_history_page_reads_a_fixed_number_of_queries(client: Client, world: World) -> None:
    login(client, world.community_coordinator)
    _line(world)
    small = queries_of_get(client, _page(world))
    for number in range(2, 7):
        _line(world, number=number, regimen=f"Line {number}", started_on=dt.date(2025, number, 1))
    transplant_candidacy_record(
        actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, status="no"
    )
    assert queries_of_get(client, _page(world)) == small


# --- The API ------------------------------------------------------------------------------------


def test_the_api_records_a_line_and_the_care_team_reads_it(world: World) -> None:
    response = api(world.community_coordinator).post(LIST, _payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["drug_classes"] == ["chemoimmunotherapy"] and body["recorded_by"]["id"] == world.community_coordinator.pk
    )
    center = api(world.center_coordinator)
    assert center.get(body["url"]).status_code == 200
    assert [line["id"] for line in results(center.get(LIST, {"patient": str(world.shared_patient.pk)}))] == [body["id"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"drug_classes": ["chemo"]}, "drug_classes"),
        ({"drug_classes": []}, "drug_classes"),
        ({"number": 0}, "number"),
        ({"started_on": "yesterday"}, "started_on"),
        ({"ended_on": "2025-01-01"}, "ended_on"),
        ({"best_response": "great"}, "best_response"),
    ],
)
def test_bad_input_answers_400_naming_the_field(world: World, fields: dict[str, object], field: str) -> None:
    response = api(world.community_coordinator).post(LIST, _payload(world, **fields), format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_the_outsider_neither_records_nor_reads_lines_or_candidacy(world: World) -> None:
    api(world.community_coordinator).post(LIST, _payload(world), format="json")
    line = TherapyLine.objects.get()
    outsider = api(world.outsider)
    refused = outsider.post(LIST, _payload(world, site=world.unrelated_practice.pk, number=2), format="json")
    assert refused.status_code == 400
    assert results(outsider.get(LIST)) == []
    assert outsider.get(reverse("api:therapy-line-detail", kwargs={"line_id": line.pk})).status_code == 404
    candidacy = reverse("api:patient-transplant-candidacy", kwargs={"patient_id": world.shared_patient.pk})
    assert outsider.get(candidacy).status_code == 404
    assert outsider.post(candidacy, {"site": world.unrelated_practice.pk, "status": "no"}).status_code == 404
    assert TherapyLine.objects.count() == 1 and not TransplantCandidacy.objects.exists()


def test_the_api_records_and_reads_transplant_candidacy(world: World) -> None:
    url = reverse("api:patient-transplant-candidacy", kwargs={"patient_id": world.shared_patient.pk})
    coordinator = api(world.community_coordinator)
    assert coordinator.get(url).status_code == 404
    bad = coordinator.post(url, {"site": world.practice.pk, "status": "maybe"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    saved = coordinator.post(url, {"site": world.practice.pk, "status": "no", "reason": "Age"}, format="json")
    assert saved.status_code == 200 and saved.json()["status"] == "no"
    assert api(world.center_coordinator).get(url).json()["reason"] == "Age"
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    assert api(reader).post(url, {"site": world.practice.pk, "status": "yes"}, format="json").status_code == 403


def test_the_line_list_reads_a_fixed_number_of_queries(world: World) -> None:
    client = api(world.center_coordinator)
    _line(world)
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        assert len(results(client.get(LIST))) == 1
    for number in range(2, 8):
        _line(world, number=number, started_on=dt.date(2025, number, 1))
    with CaptureQueriesContext(connection) as seven:
        assert len(results(client.get(LIST))) == 7
    assert len(seven) == len(one)


def test_a_line_is_corrected_on_its_page_and_the_audit_keeps_the_old_values(client: Client, world: World) -> None:
    line = _line(world)
    login(client, world.community_coordinator)
    url = reverse("candidates-line-edit", kwargs={"line_id": line.pk})
    assert f'href="{url}"' in client.get(_page(world)).content.decode()
    form = client.get(url).content.decode()
    assert 'value="VRd"' in form
    values = {
        "site": world.practice.pk,
        "number": 1,
        "regimen": "VRd",
        "drug_classes": ["pi", "imid"],
        "lenalidomide": "on",
        "started_on": "2025-01-06",
        "ended_on": "2025-09-01",
        "best_response": "partial",
        "refractory": "on",
        "progressed_on": "2025-08-15",
    }
    refused = client.post(url, values | {"ended_on": "2024-01-01"})
    assert refused.status_code == 400 and "cannot end before it started" in refused.content.decode()
    assert client.post(url, values).status_code == 302
    line.refresh_from_db()
    assert line.refractory and line.ended_on == dt.date(2025, 9, 1) and line.best_response == "partial"
    update = AuditEntry.objects.filter(object_type="candidates.therapyline", action=AuditEntry.Action.UPDATE).get()
    assert (update.actor_id, update.site_id) == (world.community_coordinator.pk, world.practice.pk)
    _line(world, number=2, regimen="DPd", drug_classes=["anti_cd38"], lenalidomide=False)
    taken = client.post(url, values | {"number": 2})
    assert taken.status_code == 400 and "Line 2 is already recorded" in taken.content.decode()


def test_a_line_is_not_edited_by_a_read_only_member_nor_reached_by_the_outsider(client: Client, world: World) -> None:
    line = _line(world)
    url = reverse("candidates-line-edit", kwargs={"line_id": line.pk})
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    login(client, reader)
    assert client.get(url).status_code == 403
    assert client.post(url, {"number": 1, "regimen": "X"}).status_code == 403
    login(client, world.outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"number": 1, "regimen": "X"}).status_code == 404
    line.refresh_from_db()
    assert line.regimen == "VRd"


# --- Correcting a line through the API -----------------------------------------------------------


def _detail(line: TherapyLine) -> str:
    return reverse("api:therapy-line-detail", kwargs={"line_id": line.pk})


def test_the_api_completes_a_line_with_patch_and_the_audit_keeps_the_old_values(world: World) -> None:
    line = _line(world)
    center = api(world.center_coordinator)
    changes = {"site": world.center.pk, "ended_on": "2025-09-01", "refractory": True, "best_response": "partial"}
    response = center.patch(_detail(line), changes, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["ended_on"], body["refractory"], body["best_response"]) == ("2025-09-01", True, "partial")
    # What the PATCH left out is kept; the center, which corrected it, signs it now.
    assert (body["regimen"], body["drug_classes"], body["lenalidomide"]) == ("VRd", ["pi", "imid"], True)
    assert (body["site"]["id"], body["recorded_by"]["id"]) == (world.center.pk, world.center_coordinator.pk)
    update = AuditEntry.objects.get(object_type="candidates.therapyline", action=AuditEntry.Action.UPDATE)
    assert (update.actor_id, update.site_id, update.patient_id) == (
        world.center_coordinator.pk,
        world.center.pk,
        world.shared_patient.pk,
    )
    assert update.changes["ended_on"] == [None, "2025-09-01"]
    assert update.changes["refractory"] == [False, True]


def test_the_api_replaces_a_line_with_put(world: World) -> None:
    line = _line(world)
    payload = {key: value for key, value in _payload(world).items() if key != "patient"}
    response = api(world.community_coordinator).put(_detail(line), payload, format="json")
    assert response.status_code == 200, response.json()
    line.refresh_from_db()
    # Every value is the PUT's, the ones it left out at their defaults.
    assert (line.regimen, line.drug_classes, line.lenalidomide) == ("R-CHOP", ["chemoimmunotherapy"], False)
    assert (line.ended_on, line.best_response) == (dt.date(2025, 7, 1), "complete")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ended_on": "2024-01-01"}, "ended_on"),
        ({"progressed_on": "2024-01-01"}, "progressed_on"),
        ({"number": 2}, "number"),
        ({"number": 0}, "number"),
        ({"drug_classes": ["chemo"]}, "drug_classes"),
        ({"drug_classes": []}, "drug_classes"),
        ({"regimen": ""}, "regimen"),
        ({"best_response": "great"}, "best_response"),
        ({"started_on": "soon"}, "started_on"),
        ({"site": None}, "site"),
        ({"site": "unrelated"}, "site"),
    ],
)
def test_a_bad_correction_answers_400_naming_the_field_and_changes_nothing(
    world: World, fields: dict[str, Any], field: str
) -> None:
    line = _line(world)
    _line(world, number=2, regimen="DPd", drug_classes=["anti_cd38"], started_on=dt.date(2025, 10, 1))
    changes: dict[str, Any] = {"site": world.practice.pk} | fields
    if changes["site"] is None:
        del changes["site"]
    elif changes["site"] == "unrelated":
        changes["site"] = world.unrelated_practice.pk
    before = list(TherapyLine.objects.order_by("pk").values())
    response = api(world.community_coordinator).patch(_detail(line), changes, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert list(TherapyLine.objects.order_by("pk").values()) == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_a_line_is_not_corrected_by_a_read_only_member_nor_reached_by_the_outsider(world: World) -> None:
    line = _line(world)
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    correction = {"site": world.practice.pk, "regimen": "Changed"}
    for method in ("put", "patch"):
        assert getattr(api(reader), method)(_detail(line), correction, format="json").status_code == 403
    outsider = api(world.outsider)
    outside = {"site": world.unrelated_practice.pk, "regimen": "Changed"}
    for method in ("put", "patch", "delete"):
        assert getattr(outsider, method)(_detail(line), outside, format="json").status_code == 404
    # No removing a line, as on the pages: the care team gets 405.
    assert api(world.community_coordinator).delete(_detail(line)).status_code == 405
    line.refresh_from_db()
    assert line.regimen == "VRd" and TherapyLine.objects.count() == 1
