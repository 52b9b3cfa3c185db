"""Test data built through the services, so grants are exactly what production writes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import factory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from candidates.services import therapy_line_record
from carecoord.models import CareTeamLink, Patient, PatientDeath, Site, User
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_join
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
    phone_24_7 = "+1 312 555 0100"  # dialable: the admin checks it (carecoord.phones)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    phone = "+1 312 555 0111"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def authenticator(user: User) -> TOTPDevice:
    """The person's confirmed authenticator app (made on first use), as enrollment leaves it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(user: User) -> str:
    """A code the person's authenticator app would show now, not yet used.

    A code works once; when this time step's code was used already, the next step's code
    (which the device accepts within its tolerance) is the one to give."""
    device = authenticator(user)
    device.refresh_from_db()
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    generator.time = time.time()
    if device.last_t is not None and generator.t() <= device.last_t:
        generator.time += device.step
    return f"{generator.token():0{device.digits}d}"


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
        # Already shared when the test starts: the join without the sharing email, which tests
        # of sharing itself make through care_team_add_site.
        care_team_join(actor=actor, patient=patient, site=shared_with, capacity=CareTeamLink.Capacity.TREATING_CENTER)
    return patient


def first_line_vrd(patient: Patient, actor: User, site: Site, **fields: Any) -> None:
    """A myeloma first line of VRd (with lenalidomide) from 6 Jan 2025, recorded by `actor` at `site`."""
    values: dict[str, Any] = {
        "number": 1,
        "regimen": "VRd",
        "drug_classes": ["pi", "imid"],
        "lenalidomide": True,
        "started_on": dt.date(2025, 1, 6),
    } | fields
    therapy_line_record(actor=actor, patient=patient, site=site, **values)


def death_on_file(patient: Patient, site: Site, actor: User, died_on: dt.date, cause: str = "relapse") -> None:
    """A death already on file (as the demo or a past record left it), written without the
    service that records one, whose effects the tests of `referrals.deaths` check."""
    PatientDeath.objects.create(patient=patient, died_on=died_on, cause=cause, site=site, recorded_by=actor)
