"""An alert email that does not go out is seen: in the app, by /health/, and by the administrators
once the relay is back."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from carecoord.health import health_report, heartbeat_record
from carecoord.models import OutgoingEmail, Site
from carecoord.outages import report_recovered_outages
from tests.factories import UserFactory
from tests.helpers import World, dashboard_queue, login, name_point_persons
from toxicity.models import Alert
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 20, 18, 0, tzinfo=dt.UTC)  # noon in Chicago
LATER = NOW + dt.timedelta(minutes=settings.EMAIL_UNDELIVERED_WARNING_MINUTES + 1)


def record(world: World) -> None:
    toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="crs",
        onset_at=NOW - dt.timedelta(hours=1),
        inputs={"temperature_c": 39.0, "vasopressors": 1},
    )


def beating(at: dt.datetime) -> None:
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE):
        heartbeat_record(queue, at)


def test_an_alert_email_not_delivered_after_a_few_minutes_is_shown_to_its_sites(client: Client, world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        record(world)
    alerts = Alert.objects.filter(site=world.practice)
    assert all(a.email is not None and a.email.urgent for a in alerts)
    patient_page = reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        login(client, world.community_coordinator)
        assert b"not delivered" not in client.get(patient_page).content  # not yet: it may still go out
    with time_machine.travel(LATER, tick=False):
        login(client, world.community_coordinator)
        page = client.get(patient_page).content.decode()
        dashboard = dashboard_queue(client).content.decode()
        timeline = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})).content
    assert "Email to Olive Oncologist" in page and "not delivered since 20 Jan, 12:00 CST" in page
    assert "Email to Rita Riverbend" in page
    assert "Email to Olive Oncologist" in dashboard and "Sharedcare, Sharon" in dashboard
    assert b"Alert emails not delivered." in timeline
    # Once delivered, the banner goes.
    OutgoingEmail.objects.update(status=OutgoingEmail.Status.SENT, sent_at=LATER)
    with time_machine.travel(LATER, tick=False):
        assert b"not delivered" not in client.get(patient_page).content


def test_undelivered_since_is_on_the_viewers_clock(world: World) -> None:
    """The center sees the practice's undelivered alerts on the center's clock, the practice on its own."""
    Site.objects.filter(pk=world.practice.pk).update(time_zone="America/New_York")
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        record(world)
    patient_page = reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})
    with time_machine.travel(LATER, tick=False):
        at_center = login(Client(), world.center_coordinator).get(patient_page).content.decode()
        at_practice = login(Client(), world.community_coordinator).get(patient_page).content.decode()
    assert "Email to Olive Oncologist" in at_center and "not delivered since 20 Jan, 12:00 CST" in at_center
    assert "Email to Olive Oncologist" in at_practice and "not delivered since 20 Jan, 13:00 EST" in at_practice


def test_the_outsider_never_sees_another_sites_undelivered_alerts(client: Client, world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        record(world)
    with time_machine.travel(LATER, tick=False):
        login(client, world.outsider)
        assert b"not delivered" not in dashboard_queue(client).content


def test_health_says_ok_when_every_part_answers(client: Client, world: World) -> None:
    beating(NOW)
    with time_machine.travel(NOW + dt.timedelta(seconds=40), tick=False):
        response = client.get(reverse("health"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "redis", "workers", "alert_emails"}
    assert body["checks"]["workers"]["queues"][settings.CELERY_ALERT_QUEUE]["heartbeat_age_seconds"] == 40


def test_health_is_503_and_says_why_when_alerts_wait_or_a_queue_has_no_worker(client: Client, world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        record(world)
        beating(NOW)
    with time_machine.travel(LATER, tick=False):
        report = health_report()
        response = client.get(reverse("health"))
    assert response.status_code == 503
    alerts = report["checks"]["alert_emails"]
    assert (alerts["ok"], alerts["undelivered"], alerts["oldest_undelivered_age_seconds"]) == (False, 3, 360)
    assert report["checks"]["workers"]["ok"] is False  # no heartbeat for six minutes
    # No patient data: counts and ages only.
    assert "Sharedcare" not in response.content.decode() and "@" not in response.content.decode()


def test_the_administrators_are_told_once_when_the_relay_is_back(world: World) -> None:
    admin = UserFactory.create(email="admin@carecoord.test", is_staff=True)
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        record(world)
    with time_machine.travel(LATER, tick=False):
        assert report_recovered_outages() is None  # still waiting: the relay is down
    OutgoingEmail.objects.filter(urgent=True).update(status=OutgoingEmail.Status.SENT, sent_at=LATER)
    with time_machine.travel(LATER + dt.timedelta(minutes=1), tick=False):
        report = report_recovered_outages()
        assert report is not None and report.delivered_late == 3
        assert report_recovered_outages() is None  # once
    email = OutgoingEmail.objects.get(recipient=admin)
    # And the coordinators of the sites whose alerts were late (both, here), each once.
    told = set(OutgoingEmail.objects.filter(template="alert-outage-recovered").values_list("to_address", flat=True))
    assert told == {admin.email, world.center_coordinator.email, world.community_coordinator.email}
    assert "3 alert emails delivered late" in email.subject
    assert "the longest waited 6 minutes" in email.body_text
    assert "Sharedcare" not in email.body_text
