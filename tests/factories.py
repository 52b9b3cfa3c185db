"""Test data built through the services, so grants are exactly what production writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from carecoord.models import CareTeamLink, Patient, Site, User
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_add_site
from carecoord.services.memberships import membership_start
from carecoord.services.patients import patient_register

PASSWORD = "correct-horse-battery-staple"


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Site {n}")
    kind = Site.Kind.COMMUNITY_PRACTICE
    time_zone = "America/Chicago"
    address = "1 Main Street"
    phone_24_7 = "+1 555 010 0000"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    phone = "+1 555 010 1111"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def member(site: Site, role: str = Role.COORDINATOR, **user_fields: Any) -> User:
    user = UserFactory.create(**user_fields)
    membership_start(user=user, site=site, role=role, starts_on=dt.date(2020, 1, 1))
    return user


_mrn_counter = iter(range(100000, 10**9))


def patient_at(site: Site, actor: User, *, shared_with: Site | None = None, **fields: Any) -> Patient:
    """A patient registered at `site` by `actor`, optionally shared with a treating center."""
    values: dict[str, Any] = {
        "given_name": "Test",
        "family_name": f"Patient{next(_mrn_counter)}",
        "date_of_birth": dt.date(1960, 5, 17),
        "sex": Patient.Sex.FEMALE,
        "disease_area": "lbcl",
    }
    values.update(fields)
    patient = patient_register(actor=actor, site=site, mrn=f"MRN{next(_mrn_counter)}", **values)
    if shared_with is not None:
        care_team_add_site(
            actor=actor, patient=patient, site=shared_with, capacity=CareTeamLink.Capacity.TREATING_CENTER
        )
    return patient
