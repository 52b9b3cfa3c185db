"""No patient data in places that leak: URLs (they end up in access logs and browser history)
and application logs (docs/clinical-rules.md#minimum-phi)."""

from __future__ import annotations

import logging

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from carecoord.emails import email_claim, email_deliver
from carecoord.models import OutgoingEmail, PatientIdentifier
from tests.factories import PASSWORD
from tests.helpers import (
    CRS_GRADE_3_FORM,
    INFUSED_ON,
    NOW,
    World,
    infused,
    login,
    name_point_persons,
    record_data,
    record_url,
)

# Route parameters that name a thing by its meaningless key; anything else could be PHI. A
# calendar feed's key is random characters (calendars/urls.py).
IDENTIFIER_CONVERTERS = {"IntConverter", "UUIDConverter", "FeedKeyConverter"}


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(walk(pattern.url_patterns, route))
        else:
            found.append((route, pattern))
    return found


def test_every_route_names_things_by_id_only() -> None:
    offenders = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue  # the Django admin's own object URLs; staff only, ids too
        converters = getattr(pattern.pattern, "converters", {})
        for name, converter in converters.items():
            if name == "format":  # DRF's `.json` suffix on the API root
                continue
            if type(converter).__name__ not in IDENTIFIER_CONVERTERS and not name.endswith("_id"):
                offenders.append(f"{route}: {name}")
            if name in {"mrn", "name", "email", "date_of_birth"}:
                offenders.append(f"{route}: {name}")
    assert offenders == []


@pytest.mark.django_db
def test_recording_a_toxicity_and_alerting_logs_no_patient_data(
    client: Client, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    patient = world.shared_patient
    mrns = list(PatientIdentifier.objects.filter(patient=patient).values_list("mrn", flat=True))
    phi = [patient.given_name, patient.family_name, patient.date_of_birth.isoformat(), *mrns]
    infused(world, INFUSED_ON)
    name_point_persons(world)
    with caplog.at_level(logging.DEBUG), time_machine.travel(NOW, tick=False):
        client.post("/login/", {"username": world.community_oncologist.email, "password": "wrong-password"})
        login(client, world.community_oncologist)
        assert client.post(record_url(world), record_data(world, **CRS_GRADE_3_FORM)).status_code == 302
        client.get(f"/patients/{patient.pk}/timeline/")
        client.get(f"/api/patients/{patient.pk}/")
        for email_id in OutgoingEmail.objects.values_list("pk", flat=True):
            email = email_claim(email_id).email
            assert email is not None
            email_deliver(email)
    # Every point person but the oncologist, who recorded it (the center's coordinator was also
    # told of the referral when it was submitted, before the infusion).
    alerts = OutgoingEmail.objects.filter(template="toxicity-alert", status=OutgoingEmail.Status.SENT)
    assert alerts.count() == 3 and len(mail.outbox) == OutgoingEmail.objects.count()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "the steps above log something, or this test proves nothing"
    for value in phi:
        assert value not in logged
    assert PASSWORD not in logged and "wrong-password" not in logged
