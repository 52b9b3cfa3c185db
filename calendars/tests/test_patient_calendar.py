"""A patient's milestones as an `.ics` download from the timeline."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from calendars.ics import milestone_uid
from carecoord.models import PatientIdentifier
from referrals.models import Milestone
from tests.helpers import World, infused, login

pytestmark = pytest.mark.django_db


def test_a_member_downloads_the_patients_milestones_named_by_their_sites_mrn(client: Client, world: World) -> None:
    referral = infused(world, dt.date(2027, 3, 1))
    url = reverse("patient-calendar", kwargs={"patient_id": world.shared_patient.pk})
    login(client, world.center_coordinator)
    timeline = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    assert url in timeline.content.decode()  # the timeline links to it
    before = AuditEntry.objects.count()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="carecoord-milestones.ics"'
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")}
    dated = Milestone.objects.filter(referral=referral, planned_on__isnull=False)
    assert events.keys() == {milestone_uid(pk) for pk in dated.values_list("pk", flat=True)}
    center_mrn = PatientIdentifier.objects.filter(patient=world.shared_patient, site=world.center).first()
    label = f"MRN {center_mrn.mrn}" if center_mrn else "SS"
    assert all(str(e["SUMMARY"]).endswith(f" · {label}") for e in events.values())
    assert world.shared_patient.family_name not in response.content.decode()
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.actor_id, e.action, e.patient_id, e.site_id) for e in entries] == [
        (world.center_coordinator.pk, AuditEntry.Action.DOWNLOAD, world.shared_patient.pk, world.center.pk)
    ]


def test_an_outsider_gets_404_and_nothing_is_recorded(client: Client, world: World) -> None:
    infused(world, dt.date(2027, 3, 1))
    login(client, world.outsider)
    before = AuditEntry.objects.count()
    assert client.get(reverse("patient-calendar", kwargs={"patient_id": world.shared_patient.pk})).status_code == 404
    assert AuditEntry.objects.count() == before


def test_signed_out_is_sent_to_sign_in(client: Client, world: World) -> None:
    response = client.get(reverse("patient-calendar", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 302
    assert "login" in response["Location"]
