"""One clinical fact, one alert: racing requests make one change and one set of alerts, and an
API write retried with its Idempotency-Key is answered without being made twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from carecoord.models import IdempotentRequest, OutgoingEmail, SiteMembership
from carecoord.services.memberships import membership_revoke_now
from tests.helpers import World, api_token_header, at_once, grade_2_event, name_point_persons
from toxicity.models import Alert, ToxicityAssessment, ToxicityEvent
from toxicity.services import toxicity_assess, toxicity_record, toxicity_resolve

GRADE_3: dict[str, Any] = {"temperature_c": 39.2, "vasopressors": 1}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_reassessments_at_once_make_one_assessment_and_one_set_of_alerts(world: World) -> None:
    event = grade_2_event(world)
    assessed_at = timezone.now() - dt.timedelta(minutes=5)

    def assess() -> ToxicityAssessment:
        fresh = ToxicityEvent.objects.get(pk=event.pk)
        return toxicity_assess(
            actor=world.community_oncologist, event=fresh, site=world.practice, assessed_at=assessed_at, inputs=GRADE_3
        )

    first, second = at_once(assess, assess)
    assert isinstance(first, ToxicityAssessment) and isinstance(second, ToxicityAssessment)
    assert first.pk == second.pk  # the repeat gets what the first made
    assert ToxicityAssessment.objects.filter(event=event).count() == 2  # the first and this one
    assert Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE).count() == 4
    assert OutgoingEmail.objects.filter(dedupe_key__startswith="toxicity-alert").count() == 3 + 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clinicians_raising_the_grade_at_once_alert_once(world: World) -> None:
    event = grade_2_event(world)
    now = timezone.now()

    def assess_as(user: Any, site: Any, minutes: int) -> Callable[[], Any]:
        return lambda: toxicity_assess(
            actor=user,
            event=ToxicityEvent.objects.get(pk=event.pk),
            site=site,
            assessed_at=now - dt.timedelta(minutes=minutes),
            inputs=GRADE_3,
        )

    at_once(
        assess_as(world.community_oncologist, world.practice, 3), assess_as(world.center_coordinator, world.center, 4)
    )
    assert ToxicityAssessment.objects.filter(event=event).count() == 3  # both are in the course
    assert Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE).count() == 4  # one rise, one set


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_resolutions_at_once_resolve_once_and_the_second_is_told(world: World) -> None:
    event = grade_2_event(world)

    def resolve() -> ToxicityEvent:
        return toxicity_resolve(
            actor=world.center_coordinator,
            event=ToxicityEvent.objects.get(pk=event.pk),
            site=world.center,
            resolved_on=timezone.localdate(),
            outcome="recovered",
        )

    results = at_once(resolve, resolve)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and "resolved" in str(refused[0])
    assert Alert.objects.filter(event=event, reason=Alert.Reason.RESOLVED).count() == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_submitted_record_is_one_event(world: World) -> None:
    name_point_persons(world)
    onset = timezone.now() - dt.timedelta(hours=1)

    def record() -> ToxicityEvent:
        return toxicity_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            kind="crs",
            onset_at=onset,
            inputs=GRADE_3,
        )

    first, second = at_once(record, record)
    assert first.pk == second.pk
    assert ToxicityEvent.objects.count() == 1
    assert Alert.objects.filter(reason=Alert.Reason.RECORDED).count() == 4


@pytest.mark.django_db
def test_a_retried_api_write_with_its_key_is_answered_and_not_made_twice(world: World) -> None:
    name_point_persons(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_oncologist))
    payload = {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "kind": "infection",
        "onset_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "grade": 3,
        "infection_site": "Lung",
    }
    first = client.post("/api/toxicity-events/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post("/api/toxicity-events/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ToxicityEvent.objects.count() == 1 and Alert.objects.count() == 4

    other = client.post("/api/toxicity-events/", {**payload, "grade": 4}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()
    IdempotentRequest.objects.create(user=world.community_oncologist, key="busy", fingerprint="x")
    busy = client.post("/api/toxicity-events/", payload, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert busy.status_code == 409
    # Without a key, a second write is a second write (here, the same entry: still one event).
    assert client.post("/api/toxicity-events/", payload, format="json").status_code == 201
    assert ToxicityEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_write_is_answered_the_same_on_retry(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_oncologist))
    bad = {"patient": str(world.shared_patient.pk), "site": world.practice.pk, "kind": "rash"}
    first = client.post("/api/toxicity-events/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    again = client.post("/api/toxicity-events/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


@pytest.mark.django_db
def test_a_stored_answer_is_not_replayed_to_someone_who_lost_access(world: World) -> None:
    """The key's stored answer holds patient data: once the person's access shrinks it goes,
    and the retry is checked like any request."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=api_token_header(world.community_oncologist))
    payload = {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "kind": "infection",
        "onset_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "grade": 2,
    }
    assert client.post("/api/toxicity-events/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k3").status_code == 201
    membership = SiteMembership.objects.get(user=world.community_oncologist, site=world.practice)
    membership_revoke_now(membership=membership)
    retried = client.post("/api/toxicity-events/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    assert retried.status_code in {400, 403, 404} and "Idempotent-Replayed" not in retried
    assert not IdempotentRequest.objects.filter(user=world.community_oncologist, key="k3", status_code=201).exists()
