"""`DirectOutput` renders every API answer exactly as DRF's own serializers would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework import serializers

from carecoord.api.output import DirectOutput
from handoffs.services import handoff_ask
from referrals.models import Referral
from referrals.services import referral_attach_document
from referrals.workflow import Move
from tests.helpers import (
    CRS_GRADE_2,
    CRS_GRADE_3,
    World,
    advance,
    api,
    draft_referral,
    infused,
    name_point_persons,
    sent,
    started,
)
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert, ToxicityTreatment
from toxicity.serializers import ToxicityEventSummarySerializer
from toxicity.services import toxicity_assess, toxicity_record

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield tmp_path


def a_full_record(world: World) -> list[str]:
    """The shared patient's record with something in every collection, and some relations
    missing (a hand-off not sent, an alert not acknowledged, a referral without product):
    the URLs of every list and detail showing it."""
    accepted = infused(world, timezone.localdate() - dt.timedelta(days=5))
    people = name_point_persons(world)
    submitted = advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
    referral_attach_document(
        actor=world.community_coordinator,
        referral=submitted,
        kind="labs",
        upload=SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf"),
    )
    event = toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=3),
        inputs=CRS_GRADE_2,
    )
    ToxicityTreatment.objects.create(
        event=event,
        kind="tocilizumab",
        given_at=timezone.now() - dt.timedelta(hours=2),
        recorded_by=world.center_coordinator,
        site=world.center,
    )
    toxicity_assess(
        actor=world.center_coordinator,
        event=event,
        site=world.center,
        assessed_at=timezone.now() - dt.timedelta(hours=1),
        inputs=CRS_GRADE_3,
    )
    alert = Alert.objects.filter(recipient=world.center_coordinator).order_by("pk").first()
    assert alert is not None and Alert.objects.filter(recipient=world.center_coordinator).count() > 1
    alert_acknowledge(actor=world.center_coordinator, alert=alert)
    handoff = sent(world)
    handoff_ask(actor=world.community_coordinator, handoff=handoff, body="Which lab?")
    draft = started(world)
    assert Referral.objects.filter(product__isnull=True).exists() and people
    return [
        "/api/sites/",
        "/api/memberships/",
        "/api/patients/",
        f"/api/patients/{world.shared_patient.pk}/",
        f"/api/patients/{world.shared_patient.pk}/timeline/",
        "/api/care-team-links/",
        "/api/point-persons/",
        "/api/referrals/",
        f"/api/referrals/{accepted.pk}/",
        f"/api/referrals/{submitted.pk}/",
        "/api/documents/",
        "/api/milestones/",
        "/api/toxicity-events/",
        f"/api/toxicity-events/{event.pk}/",
        "/api/alerts/",
        f"/api/alerts/{alert.pk}/",
        "/api/handoffs/",
        f"/api/handoffs/{handoff.pk}/",
        f"/api/handoffs/{draft.pk}/",
    ]


def test_every_answer_is_what_drf_renders(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = a_full_record(world)
    client = api(world.center_coordinator)
    direct = {url: client.get(url).json() for url in urls}
    monkeypatch.setattr(DirectOutput, "to_representation", serializers.Serializer.to_representation)
    monkeypatch.setattr(DirectOutput, "get_fields", lambda self: super(DirectOutput, self).get_fields())
    drf = {url: client.get(url).json() for url in urls}
    for url in urls:
        assert direct[url] == drf[url], url
    assert direct["/api/toxicity-events/"]["results"][0]["onset_at"].endswith("Z")


def test_plain_fields_and_nested_briefs_are_read_directly(world: World) -> None:
    serializer = ToxicityEventSummarySerializer(context={"request": None})
    reads = {read.name: read for read in serializer._reads()}
    direct = {name for name, read in reads.items() if read.direct}
    assert {"id", "url", "patient", "kind", "onset_at", "grade", "reporting_site", "reported_by"} <= direct
    assert reads["patient"].attrs == ("patient_id",)


def test_a_model_serializers_fields_are_built_once_and_copied_for_each_serializer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[type] = []
    build_field = serializers.ModelSerializer.build_field

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(type(self))
        return build_field(self, *args, **kwargs)

    monkeypatch.setattr(serializers.ModelSerializer, "build_field", counting)
    first = ToxicityEventSummarySerializer(context={"request": None})
    second = ToxicityEventSummarySerializer(context={"request": None})
    assert set(first.fields) == set(second.fields)
    built_for_first = len(built)
    assert built_for_first <= len(first.fields)  # the fields the Meta names, built for the first
    assert set(second.fields) and len(built) == built_for_first  # none built again for the second
    copies = {name: field for name, field in second.fields.items()}
    for name, field in first.fields.items():
        assert field is not copies[name]
        assert field.parent is first and copies[name].parent is second
