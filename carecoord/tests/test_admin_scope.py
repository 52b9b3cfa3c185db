"""A site administrator who is not a superuser sees and picks in the Django admin only what
belongs to the sites they administer; a superuser still sees everything.

The walks go through `admin.site._registry`, so an admin registered later is checked too:
it must declare its reach (carecoord.admin_scoping) and the data below must give it rows on
both sides of the line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin, ModelAdmin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from candidates.models import IndicationRule
from carecoord.access.grants import sync_user_access
from carecoord.accounts.api_tokens import api_token_create
from carecoord.admin_scoping import ScopedAdminMixin
from carecoord.models import (
    CareTeamLink,
    OutgoingEmail,
    PointPerson,
    Product,
    SiteMembership,
    User,
    WrongSecondFactorCode,
)
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_add_site, care_team_name_point_person
from handoffs.models import HandoffTemplate
from handoffs.services import handoff_start
from infections.models import ProphylaxisDefaults
from labs.models import LabFlagThresholds
from referrals.services import referral_create
from referrals.workflow import Move
from tests.factories import UserFactory, authenticator, member
from tests.helpers import REFERRAL_FIELDS, TRANSITION, World, accepted_referral, advance, change_form_data, login

pytestmark = pytest.mark.django_db

# Whatever names the unrelated practice, its people or its patient.
FOREIGN = ["Prairie", "prairie.test", "Foreignsite", "Otto Outsider"]
# Admins that hold no patient or person and are the same for every site.
UNSCOPED = {Product, IndicationRule}


@pytest.fixture
def staff(world: World) -> User:
    """A site administrator of the community practice, allowed every model in the admin."""
    user = member(world.practice, Role.COORDINATOR, email="admin@riverbend.test", full_name="Ada Admin", is_staff=True)
    content_types = [ContentType.objects.get_for_model(model) for model in admin.site._registry]
    user.user_permissions.add(*Permission.objects.filter(content_type__in=content_types))
    return user


@pytest.fixture
def both_sides(world: World) -> None:
    """Rows of every admin's model at the practice and at the unrelated practice."""
    physician = member(world.unrelated_practice, Role.PHYSICIAN, email="physician@prairie.test", full_name="Phil")
    foreign_link = world.foreign_patient.care_team.get(site=world.unrelated_practice)
    care_team_name_point_person(actor=world.outsider, link=foreign_link, user=physician, rank=PointPerson.Rank.PRIMARY)
    practice_link = world.shared_patient.care_team.get(site=world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator,
        link=practice_link,
        user=world.community_oncologist,
        rank=PointPerson.Rank.PRIMARY,
    )
    care_team_add_site(
        actor=world.outsider,
        patient=world.foreign_patient,
        site=world.center,
        capacity=CareTeamLink.Capacity.TREATING_CENTER,
    )
    accepted_referral(world)
    foreign_referral = referral_create(
        actor=world.outsider,
        patient=world.foreign_patient,
        from_site=world.unrelated_practice,
        to_center=world.center,
        referring_physician=physician,
        **REFERRAL_FIELDS,
    )
    center_moves = [Move.ACKNOWLEDGE, Move.START_REVIEW, Move.SCHEDULE_CONSULT, Move.ACCEPT]
    moves = [(Move.SUBMIT, world.outsider)] + [(move, world.center_coordinator) for move in center_moves]
    advance(foreign_referral, moves, consult_on=dt.date(2026, 12, 1))
    transition = HandoffTemplate.objects.get(name=TRANSITION)
    for patient, to_site in ((world.shared_patient, world.practice), (world.foreign_patient, world.unrelated_practice)):
        handoff_start(
            actor=world.center_coordinator,
            patient=patient,
            template=transition,
            from_site=world.center,
            to_site=to_site,
        )
    HandoffTemplate.objects.create(name="Prairie discharge", owner_site=world.unrelated_practice)
    for site in (world.practice, world.unrelated_practice):
        LabFlagThresholds.objects.create(site=site, igg_below=500)
        ProphylaxisDefaults.objects.create(site=site, antiviral_months=18)
    for person in (world.community_oncologist, world.outsider):
        api_token_create(user=person, name="EHR bridge")
        WrongSecondFactorCode.objects.create(user=person, ip_address="192.0.2.1")
        authenticator(person)
        StaticDevice.objects.create(user=person, name="Backup codes").token_set.create(token="12345678")
        OutgoingEmail.objects.create(
            recipient=person,
            to_address=person.email,
            template="test",
            subject="A test",
            body_text="",
            body_html="",
            dedupe_key=f"test-{person.pk}",
        )


def _admins() -> Iterator[tuple[type[Model], ModelAdmin[Model]]]:
    yield from admin.site._registry.items()


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _request_by(user: User) -> object:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _assert_nothing_foreign(body: str, where: str) -> None:
    for marker in FOREIGN:
        assert marker not in body, f"{marker!r} shown on {where}"


def _closed_to(model_admin: ModelAdmin[Model], user: User) -> bool:
    return not model_admin.has_view_or_change_permission(_request_by(user))  # type: ignore[arg-type]


def test_every_admin_and_inline_declares_how_it_reaches_a_site(staff: User) -> None:
    for model, model_admin in _admins():
        if model in UNSCOPED or _closed_to(model_admin, staff):
            continue
        assert isinstance(model_admin, ScopedAdminMixin), f"{model.__name__} admin is not scoped"
        assert model_admin.reach, f"{model.__name__} admin declares no reach"
        for inline in model_admin.inlines:
            assert issubclass(inline, ScopedAdminMixin), f"{inline.__name__} is not scoped"
            assert issubclass(inline, InlineModelAdmin) and inline.reach, f"{inline.__name__} declares no reach"


@pytest.mark.usefixtures("both_sides")
def test_staff_see_no_row_of_another_site_in_any_list_or_page(client: Client, staff: User) -> None:
    login(client, staff)
    for model, model_admin in _admins():
        listing = client.get(_url(model, "changelist"))
        if _closed_to(model_admin, staff):
            assert listing.status_code == 403, model.__name__
            continue
        assert listing.status_code == 200, model.__name__
        _assert_nothing_foreign(listing.content.decode(), f"the {model.__name__} list")
        theirs = model_admin.get_queryset(_request_by(staff))  # type: ignore[arg-type]
        shown, hidden = 0, 0
        for obj in model._default_manager.all():
            page = client.get(_url(model, "change", obj.pk))
            if theirs.filter(pk=obj.pk).exists():
                shown += 1
                assert page.status_code == 200, f"{model.__name__} {obj.pk}"
                _assert_nothing_foreign(page.content.decode(), f"{model.__name__} {obj.pk}")
            else:
                hidden += 1
                assert page.status_code == 404 or page["Location"] == reverse("admin:index"), model.__name__
        assert shown, f"the test data gives staff no {model.__name__} of their own"
        if model not in UNSCOPED:
            assert hidden, f"the test data gives no {model.__name__} of another site"


@pytest.mark.usefixtures("both_sides")
def test_the_unrelated_site_its_people_and_its_patient_are_not_found(client: Client, world: World, staff: User) -> None:
    login(client, staff)
    foreign = [
        world.unrelated_practice,
        world.outsider,
        world.foreign_patient,
        SiteMembership.objects.get(user=world.outsider),
        PointPerson.objects.get(link__site=world.unrelated_practice),
        world.foreign_patient.referrals.get(),
        world.foreign_patient.handoffs.get(),
    ]
    for obj in foreign:
        response = client.get(_url(type(obj), "change", obj.pk))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), obj


@pytest.mark.usefixtures("both_sides")
def test_add_forms_offer_only_own_sites_people_and_patients(client: Client, world: World, staff: User) -> None:
    login(client, staff)
    for model, model_admin in _admins():
        if model_admin.has_add_permission(_request_by(staff)):  # type: ignore[arg-type]
            page = client.get(_url(model, "add"))
            assert page.status_code == 200, model.__name__
            _assert_nothing_foreign(page.content.decode(), f"the {model.__name__} add form")
    membership_form = client.get(_url(SiteMembership, "add")).content.decode()
    assert world.practice.name in membership_form and world.center.name not in membership_form
    point_person_form = client.get(_url(PointPerson, "add")).content.decode()
    assert str(world.shared_patient.care_team.get(site=world.practice)) in point_person_form
    assert str(world.shared_patient.care_team.get(site=world.center)) not in point_person_form


def test_the_person_search_finds_nobody_from_another_site(client: Client, world: World, staff: User) -> None:
    login(client, staff)
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "carecoord", "model_name": "sitemembership", "field_name": "user", "term": ""},
    ).json()["results"]
    names = {result["text"] for result in found}
    assert world.community_oncologist.full_name in names
    assert world.outsider.full_name not in names and world.center_coordinator.full_name not in names


def test_a_membership_for_another_site_or_its_people_is_refused(client: Client, world: World, staff: User) -> None:
    login(client, staff)
    newcomer = member(world.practice, Role.NURSE, email="nurse@riverbend.test")
    attempts = [
        {"user": newcomer.pk, "site": world.unrelated_practice.pk},
        {"user": newcomer.pk, "site": world.center.pk},
        {"user": world.outsider.pk, "site": world.practice.pk},
    ]
    for attempt in attempts:
        response = client.post(
            _url(SiteMembership, "add"), {**attempt, "role": Role.NURSE, "title": "", "starts_on": "2024-01-01"}
        )
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode(), attempt
    assert not SiteMembership.objects.filter(site__in=[world.unrelated_practice, world.center], user=newcomer).exists()
    assert not SiteMembership.objects.filter(site=world.practice, user=world.outsider).exists()
    accepted = client.post(
        _url(SiteMembership, "add"),
        {
            "user": newcomer.pk,
            "site": world.practice.pk,
            "role": Role.PHYSICIAN,
            "title": "",
            "starts_on": "2024-01-01",
        },
    )
    assert accepted.status_code == 302


def test_staff_save_their_sites_patient_without_touching_the_other_sites_links(
    client: Client, world: World, staff: User
) -> None:
    login(client, staff)
    url = _url(type(world.shared_patient), "change", world.shared_patient.pk)
    page = client.get(url).content.decode()
    assert world.center.name not in page  # the center's link is the center's to manage
    response = client.post(url, change_form_data(page))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert world.shared_patient.care_team.filter(site=world.center, ended_at__isnull=True).exists()


def test_a_person_added_by_staff_joins_one_of_their_sites(client: Client, world: World, staff: User) -> None:
    login(client, staff)
    person = {"email": "new@riverbend.test", "full_name": "Nell New", "password1": "", "password2": ""}
    person |= {"usable_password": "false"}
    memberships = {"memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": ""}
    alone = client.post(_url(User, "add"), {**person, **memberships, "memberships-TOTAL_FORMS": "0"})
    assert alone.status_code == 200 and not User.objects.filter(email="new@riverbend.test").exists()
    joined = client.post(
        _url(User, "add"),
        {
            **person,
            **memberships,
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-site": world.practice.pk,
            "memberships-0-role": Role.NURSE,
            "memberships-0-starts_on": "2024-01-01",
        },
    )
    assert joined.status_code == 302, joined.content.decode()[:3000]
    assert SiteMembership.objects.filter(user__email="new@riverbend.test", site=world.practice).exists()


def test_staff_cannot_make_themselves_superusers(client: Client, staff: User) -> None:
    login(client, staff)
    url = _url(User, "change", staff.pk)
    data = change_form_data(client.get(url).content.decode()) | {"is_superuser": "on"}
    client.post(url, data)
    staff.refresh_from_db()
    assert not staff.is_superuser


def test_staff_whose_membership_has_ended_administer_nothing(client: Client, world: World, staff: User) -> None:
    SiteMembership.objects.filter(user=staff).update(ends_on=dt.date(2021, 1, 1))
    sync_user_access(staff)  # as the quarter-hourly refresh does
    login(client, staff)
    for model, model_admin in _admins():
        if model not in UNSCOPED and not _closed_to(model_admin, staff):
            assert not model_admin.get_queryset(_request_by(staff)).exists(), model.__name__  # type: ignore[arg-type]


@pytest.mark.usefixtures("both_sides")
def test_a_superuser_sees_and_picks_everything(client: Client, world: World) -> None:
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    login(client, superuser)
    for model, model_admin in _admins():
        everything = model._default_manager.count()
        assert model_admin.get_queryset(_request_by(superuser)).count() == everything, model.__name__  # type: ignore[arg-type]
    assert (
        world.foreign_patient.family_name
        in client.get(_url(type(world.foreign_patient), "changelist")).content.decode()
    )
    membership_form = client.get(_url(SiteMembership, "add")).content.decode()
    assert world.unrelated_practice.name in membership_form and world.center.name in membership_form


def test_a_device_of_another_sites_person_is_not_shown_by_its_own_views(
    client: Client, world: World, staff: User
) -> None:
    login(client, staff)
    theirs, foreign = authenticator(world.community_oncologist), authenticator(world.outsider)
    assert client.get(reverse("admin:otp_totp_totpdevice_change", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("admin:otp_totp_totpdevice_change", args=[foreign.pk])).status_code in {302, 404}
    # No secret key or QR code is shown by the admin at all (OTP_ADMIN_HIDE_SENSITIVE_DATA).
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[theirs.pk])).status_code == 403
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[foreign.pk])).status_code == 403


def test_saving_a_row_for_a_site_staff_do_not_administer_is_refused(world: World, staff: User) -> None:
    membership_admin = admin.site._registry[SiteMembership]
    membership = SiteMembership(user=world.community_oncologist, site=world.unrelated_practice, role=Role.NURSE)
    with pytest.raises(PermissionDenied):
        membership_admin.save_model(_request_by(staff), membership, None, change=False)  # type: ignore[arg-type]
    assert not SiteMembership.objects.filter(site=world.unrelated_practice, user=world.community_oncologist).exists()
