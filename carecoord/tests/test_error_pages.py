"""The "not found" and "not allowed" pages carry the header every page has: the signed-in
person's own roles and sites, and nothing of what was asked for."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from carecoord.roles import Role
from tests.factories import member
from tests.helpers import World, login

pytestmark = pytest.mark.django_db


def _header(html: str) -> str:
    return re.sub(r"\s+", " ", html.split("</header>", 1)[0])


def test_an_outsider_asking_for_a_shared_patient_sees_their_own_role_and_nothing_of_the_patient(
    client: Client, world: World
) -> None:
    login(client, world.outsider)
    response = client.get(reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 404
    html = response.content.decode()
    assert '<span class="account__sites"> Coordinator at Prairie Hematology </span>' in _header(html)
    assert "Page not found" in html
    for secret in ("Sharedcare", "Sharon", str(world.shared_patient.pk), world.center.name, world.practice.name):
        assert secret not in html


def test_an_unknown_address_shows_the_role_line_too(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "at Riverbend Oncology" in _header(response.content.decode())


def test_signed_out_the_not_found_page_names_nobody(client: Client, world: World) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "account__who" not in response.content.decode()


def test_an_api_address_still_answers_json_404(client: Client, world: World) -> None:
    login(client, world.outsider)
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_role_that_may_not_record_sees_the_site_page_with_its_role_line(client: Client, world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@riverbend.test")
    login(client, reader)
    response = client.get(reverse("toxicity-record", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 403
    html = response.content.decode()
    assert '<span class="account__sites"> Read-only at Riverbend Oncology </span>' in _header(html)
    assert "<h1>Not allowed</h1>" in html
    for secret in ("Sharedcare", "Sharon", str(world.shared_patient.pk), "record care events"):
        assert secret not in html
