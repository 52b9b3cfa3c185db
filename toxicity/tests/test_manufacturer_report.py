"""A secondary malignancy prompts its report to the product's manufacturer, and records when it
was made and by whom: the service, the event page, the API and the work queue."""

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
from carecoord.models import Patient, TimelineEntry
from carecoord.roles import Role
from tests.factories import member, patient_at
from tests.helpers import World, accepted_referral, api, dashboard_queue, login, treated_with_carvykti
from toxicity.models import ManufacturerReport, ToxicityEvent
from toxicity.services import manufacturer_report_record, toxicity_record

pytestmark = pytest.mark.django_db


def malignancy(world: World, patient: Patient | None = None) -> ToxicityEvent:
    return toxicity_record(
        actor=world.center_coordinator,
        patient=patient or world.shared_patient,
        site=world.center,
        kind="secondary_malignancy",
        onset_at=timezone.now() - dt.timedelta(days=2),
        ctcae_grade=3,
        note="Peripheral T-cell lymphoma on biopsy.",
    )


def report(world: World, event: ToxicityEvent, **extra: Any) -> ManufacturerReport:
    return manufacturer_report_record(
        actor=world.center_coordinator,
        event=event,
        site=world.center,
        reported_at=timezone.now() - dt.timedelta(hours=1),
        **extra,
    )


def test_the_report_records_when_to_whom_and_by_whom_with_a_timeline_entry_and_an_audit_row(world: World) -> None:
    treated_with_carvykti(world, accepted_referral(world))
    event = malignancy(world)
    made = report(world, event, reference="JNJ-2027-001")
    assert made.reported_to.startswith("Janssen Biotech, Inc.: Janssen Biotech, 1-800-526-7736")
    assert (made.recorded_by, made.site, made.reference) == (world.center_coordinator, world.center, "JNJ-2027-001")
    entry = TimelineEntry.objects.get(title="Secondary malignancy reported to the manufacturer")
    assert entry.subject_id == event.pk and entry.actor == world.center_coordinator
    assert AuditEntry.objects.filter(object_type="toxicity.manufacturerreport", object_id=str(made.pk)).exists()


def test_a_report_is_made_once_and_only_for_a_secondary_malignancy(world: World) -> None:
    event = malignancy(world)
    report(world, event)
    with pytest.raises(ValidationError) as twice:
        report(world, event)
    assert "event" in twice.value.message_dict
    infection = toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="infection",
        onset_at=timezone.now() - dt.timedelta(hours=3),
        ctcae_grade=2,
    )
    with pytest.raises(ValidationError):
        report(world, infection)


def test_a_report_in_the_future_is_refused_on_its_field(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        manufacturer_report_record(
            actor=world.center_coordinator,
            event=malignancy(world),
            site=world.center,
            reported_at=timezone.now() + dt.timedelta(days=3),
        )
    assert "reported_at" in refused.value.message_dict


def test_a_read_only_member_may_not_record_the_report(world: World) -> None:
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    with pytest.raises(PermissionDenied):
        manufacturer_report_record(actor=reader, event=malignancy(world), site=world.center, reported_at=timezone.now())


def test_the_event_page_prompts_the_report_with_the_route_and_records_it(client: Client, world: World) -> None:
    treated_with_carvykti(world, accepted_referral(world))
    event = malignancy(world)
    login(client, world.center_coordinator)
    url = reverse("toxicity-event", kwargs={"event_id": event.pk})
    page = client.get(url).content.decode()
    assert "Report to the manufacturer" in page
    assert "Janssen Biotech, 1-800-526-7736" in page
    action = reverse("toxicity-manufacturer-report", kwargs={"event_id": event.pk})
    refused = client.post(action, {"site": world.center.pk, "reported_at": ""})
    assert refused.status_code == 400
    assert 'id="id_report_reported_at_error"' in refused.content.decode()
    stamp = timezone.localtime(timezone=world.center.zone) - dt.timedelta(hours=1)
    done = client.post(action, {"site": world.center.pk, "reported_at": stamp.strftime("%Y-%m-%dT%H:%M")})
    assert done.status_code == 302
    page = client.get(url).content.decode()
    assert "Record the report as made" not in page
    assert f"recorded by {world.center_coordinator.full_name}" in page


def test_pending_reports_are_on_the_work_queue_in_a_fixed_number_of_queries(client: Client, world: World) -> None:
    event = malignancy(world)
    login(client, world.center_coordinator)
    dashboard_queue(client)
    with CaptureQueriesContext(connection) as one:
        response = dashboard_queue(client)
    assert [e.pk for e in response.context["work_queue"].rows("manufacturer reports")] == [event.pk]
    assert "Malignancies to report to the manufacturer" in response.content.decode()

    for _ in range(3):
        malignancy(world, patient_at(world.practice, world.community_coordinator, shared_with=world.center))
    with CaptureQueriesContext(connection) as four:
        response = dashboard_queue(client)
    assert len(response.context["work_queue"].rows("manufacturer reports")) == 4
    assert len(four) == len(one), [q["sql"] for q in four.captured_queries]

    report(world, event)
    pending = dashboard_queue(client).context["work_queue"].rows("manufacturer reports")
    assert event.pk not in [e.pk for e in pending]


def test_the_outsider_sees_no_pending_report(client: Client, world: World) -> None:
    malignancy(world)
    login(client, world.outsider)
    assert dashboard_queue(client).context["work_queue"].rows("manufacturer reports") == []


def test_the_api_records_the_report_and_shows_it_on_the_event(world: World) -> None:
    event = malignancy(world)
    url = reverse("api:toxicity-event-manufacturer-report", kwargs={"event_id": event.pk})
    client = api(world.center_coordinator)
    refused = client.post(url, {"site": world.center.pk}, format="json")
    assert refused.status_code == 400 and "reported_at" in refused.json()
    at = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    made = client.post(url, {"site": world.center.pk, "reported_at": at, "reference": "CASE-1"}, format="json")
    assert made.status_code == 201
    assert made.json()["manufacturer_report"]["reference"] == "CASE-1"
    again = client.post(url, {"site": world.center.pk, "reported_at": at}, format="json")
    assert again.status_code == 400 and "event" in again.json()
    detail = client.get(reverse("api:toxicity-event-detail", kwargs={"event_id": event.pk})).json()
    assert detail["manufacturer_report"]["recorded_by"]["id"] == world.center_coordinator.pk
    assert api(world.outsider).post(url, {"site": world.center.pk, "reported_at": at}, format="json").status_code == 404
