"""The death API: the page's rules through /api/patients/{id}/death/, 400 with field messages,
403 for a role that does not record care, 404 for the outsider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.urls import reverse

from carecoord.models import PatientDeath
from carecoord.roles import Role
from referrals.models import Milestone
from tests.factories import member
from tests.helpers import INFUSED_ON, NOW, World, api, infused

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _url(world: World, name: str = "api:patient-death") -> str:
    return reverse(name, kwargs={"patient_id": world.shared_patient.pk})


def _body(world: World, **fields: object) -> dict[str, object]:
    return {"site": world.practice.pk, "died_on": "2027-01-18", "cause": "icans", **fields}


def test_a_death_is_recorded_read_corrected_and_withdrawn(world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    client = api(world.community_coordinator)
    nothing = client.get(_url(world)).json()
    assert nothing["recorded"] is False and nothing["died_on"] is None
    recorded = client.post(_url(world), _body(world), format="json")
    assert recorded.status_code == 200, recorded.content
    body = recorded.json()
    assert (body["recorded"], body["died_on"], body["cause"], body["non_relapse"], body["site"]["id"]) == (
        True,
        "2027-01-18",
        "icans",
        True,
        world.practice.pk,
    )
    assert sorted(body["cancelled_steps"]) == sorted(
        Milestone.objects.filter(referral=referral, status="cancelled").values_list("pk", flat=True)
    )
    center = api(world.center_coordinator)
    assert center.get(_url(world)).json()["cause"] == "icans"
    corrected = center.post(_url(world), _body(world, site=world.center.pk, cause="relapse"), format="json")
    assert corrected.json()["cause"] == "relapse" and corrected.json()["non_relapse"] is False
    withdrawn = center.post(
        _url(world, "api:patient-death-withdraw"), {"site": world.center.pk, "reason": "Wrong MRN"}, format="json"
    )
    assert withdrawn.status_code == 204
    assert client.get(_url(world)).json()["recorded"] is False
    assert not Milestone.objects.filter(referral=referral, status="cancelled").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cause": "old age"}, "cause"),
        ({"died_on": "18/01/2027"}, "died_on"),
        ({"died_on": "2027-03-01"}, "died_on"),
        ({"died_on": None}, "died_on"),
        ({"site": 999999}, "site"),
        ({"detail": "x" * 501}, "detail"),
    ],
)
def test_bad_input_answers_400_naming_the_field(world: World, fields: dict[str, object], field: str) -> None:
    response = api(world.community_coordinator).post(_url(world), _body(world, **fields), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PatientDeath.objects.exists()


def test_withdrawing_without_a_reason_or_a_death_answers_400(world: World) -> None:
    client = api(world.community_coordinator)
    url = _url(world, "api:patient-death-withdraw")
    assert "reason" in client.post(url, {"site": world.practice.pk, "reason": ""}, format="json").json()
    nothing = client.post(url, {"site": world.practice.pk, "reason": "x"}, format="json")
    assert nothing.status_code == 400 and "No death" in nothing.json()["reason"][0]


def test_a_read_only_member_gets_403_and_the_outsider_404(world: World) -> None:
    reader = api(member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    assert reader.post(_url(world), _body(world, site=world.center.pk), format="json").status_code == 403
    outsider = api(world.outsider)
    for name in ("api:patient-death", "api:patient-death-withdraw"):
        body = _body(world, site=world.unrelated_practice.pk, reason="x")
        assert outsider.post(_url(world, name), body, format="json").status_code == 404
    assert outsider.get(_url(world)).status_code == 404
    assert not PatientDeath.objects.exists()
