"""The Django admin keeps grants exact and shows staff only their own sites' patients."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from carecoord.access import patients_visible_to
from carecoord.accounts.api_tokens import api_token_create
from carecoord.models import SiteMembership
from carecoord.roles import Role
from tests.factories import UserFactory, member
from tests.helpers import World, change_form_data, login

pytestmark = pytest.mark.django_db


def test_membership_added_in_the_admin_grants_access_at_once(client: Client, world: World) -> None:
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    newcomer = UserFactory.create()
    login(client, admin)
    response = client.post(
        reverse("admin:carecoord_sitemembership_add"),
        {"user": newcomer.pk, "site": world.center.pk, "role": Role.NURSE, "title": "", "starts_on": "2024-01-01"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SiteMembership.objects.filter(user=newcomer, site=world.center).exists()
    assert list(patients_visible_to(newcomer)) == [world.shared_patient]


def test_membership_deleted_in_the_admin_withdraws_access(client: Client, world: World) -> None:
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    membership = SiteMembership.objects.get(user=world.community_oncologist)
    login(client, admin)
    response = client.post(reverse("admin:carecoord_sitemembership_delete", args=[membership.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not patients_visible_to(world.community_oncologist).exists()


def test_staff_who_are_not_superusers_see_only_their_sites_patients_in_the_admin(client: Client, world: World) -> None:
    staff = member(world.unrelated_practice, Role.COORDINATOR, is_staff=True)
    staff.user_permissions.add(*_patient_admin_permissions())
    login(client, staff)
    response = client.get(reverse("admin:carecoord_patient_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.foreign_patient.family_name in body
    assert world.shared_patient.family_name not in body
    detail = client.get(reverse("admin:carecoord_patient_change", args=[world.shared_patient.pk]))
    assert detail.status_code in {302, 404}


def _patient_admin_permissions() -> list[Permission]:
    return list(Permission.objects.filter(codename__in=["view_patient", "change_patient"]))


def test_membership_deleted_in_the_admin_ends_that_persons_sessions(client: Client, world: World) -> None:
    oncologist = login(Client(), world.community_oncologist)
    assert oncologist.get(reverse("dashboard")).status_code == 200
    membership = SiteMembership.objects.get(user=world.community_oncologist)
    login(client, UserFactory.create(is_staff=True, is_superuser=True))
    client.post(reverse("admin:carecoord_sitemembership_delete", args=[membership.pk]), {"post": "yes"})
    assert oncologist.get(reverse("dashboard"))["Location"].startswith(reverse("login"))


def test_administrators_revoke_tokens_but_never_see_or_delete_them(client: Client, world: World) -> None:
    token, key = api_token_create(user=world.community_oncologist, name="EHR bridge")
    login(client, UserFactory.create(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:carecoord_apitoken_changelist")).content.decode()
    assert "EHR bridge" in listing and key not in listing
    assert client.get(reverse("admin:carecoord_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:carecoord_apitoken_delete", args=[token.pk])).status_code == 403
    response = client.post(
        reverse("admin:carecoord_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_an_account_closed_in_the_admin_loses_its_sessions_and_tokens(client: Client, world: World) -> None:
    oncologist = login(Client(), world.community_oncologist)
    token, _ = api_token_create(user=world.community_oncologist, name="EHR bridge")
    login(client, UserFactory.create(is_staff=True, is_superuser=True))
    url = reverse("admin:carecoord_user_change", args=[world.community_oncologist.pk])
    data = change_form_data(client.get(url).content.decode())
    assert data.pop("is_active") == "on"

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert oncologist.get(reverse("dashboard"))["Location"].startswith(reverse("login"))
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    ("url_name", "obj", "field", "label"),
    [
        ("admin:carecoord_user_change", "community_oncologist", "phone", "direct phone"),
        ("admin:carecoord_site_change", "practice", "phone_24_7", "24/7 phone number"),
    ],
)
def test_the_admin_refuses_a_number_nobody_can_dial_naming_the_field(
    client: Client, world: World, url_name: str, obj: str, field: str, label: str
) -> None:
    login(client, UserFactory.create(is_staff=True, is_superuser=True))
    url = reverse(url_name, args=[getattr(world, obj).pk])
    data = change_form_data(client.get(url).content.decode())
    data[field] = "call the neighbour"
    response = client.post(url, data)
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors[field]
    assert message.startswith("Enter the ") and label in message and "can be dialled" in message
