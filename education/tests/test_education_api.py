"""The education API: the material (read-only) and education given, scoped like every patient record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carecoord.models import TimelineEntry
from carecoord.roles import Role
from education.models import EducationGiven
from education.selectors import current_versions
from tests.factories import member
from tests.helpers import World, api, results, ship_education

pytestmark = pytest.mark.django_db

LIST = reverse("api:education-given-list")


def _payload(world: World, **fields: object) -> dict[str, object]:
    ship_education()
    return {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "version": current_versions().values_list("pk", flat=True)[0],
        "recipient": "caregiver",
        "given_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        **fields,
    }


def test_recording_education_given_answers_the_record_and_writes_the_timeline(world: World) -> None:
    response = api(world.community_coordinator).post(LIST, _payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recipient"] == "caregiver"
    assert body["given_by"]["id"] == world.community_coordinator.pk
    assert body["version"]["number"] == 1
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.EDUCATION, patient=world.shared_patient).exists()
    detail = api(world.center_coordinator).get(body["url"])
    assert detail.status_code == 200


def test_bad_input_answers_400_naming_the_field(world: World) -> None:
    client = api(world.community_coordinator)
    response = client.post(LIST, _payload(world, recipient="neighbour"), format="json")
    assert response.status_code == 400 and "recipient" in response.json()
    future = (timezone.now() + dt.timedelta(days=3)).isoformat()
    response = client.post(LIST, _payload(world, given_at=future), format="json")
    assert response.status_code == 400 and "given_at" in response.json()


def test_a_read_only_member_gets_403(world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    response = api(reader).post(LIST, _payload(world), format="json")
    assert response.status_code == 403
    assert not EducationGiven.objects.exists()


def test_the_outsider_neither_records_nor_reads_education_given(world: World) -> None:
    api(world.community_coordinator).post(LIST, _payload(world), format="json")
    given = EducationGiven.objects.get()
    outsider = api(world.outsider)
    assert outsider.post(LIST, _payload(world, site=world.unrelated_practice.pk), format="json").status_code == 400
    assert results(outsider.get(LIST)) == []
    detail = reverse("api:education-given-detail", kwargs={"given_id": given.pk})
    assert outsider.get(detail).status_code == 404


def test_the_list_reads_a_fixed_number_of_queries(world: World) -> None:
    client = api(world.center_coordinator)
    coordinator = api(world.community_coordinator)
    coordinator.post(LIST, _payload(world), format="json")
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        assert len(results(client.get(LIST))) == 1
    for minutes in range(2, 8):
        at = (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()
        coordinator.post(LIST, _payload(world, given_at=at), format="json")
    with CaptureQueriesContext(connection) as seven:
        assert len(results(client.get(LIST))) == 7
    assert len(seven) == len(one)


def test_the_material_is_listed_with_its_versions_for_everyone_signed_in(world: World) -> None:
    ship_education()
    response = api(world.outsider).get(reverse("api:education-material-list"), {"phase": "hand_back"})
    assert response.status_code == 200
    names = {material["name"] for material in results(response)}
    assert names == {"Hand-back: going home", "Hand-back: for the community clinician"}
    assert all(material["versions"][0]["number"] == 1 for material in results(response))
