"""Demonstration data: fictional sites, staff and synthetic patients (`manage.py seed_demo`).

Everything is written through the services, so grants are exactly what production writes,
and every row is found again by a stable key (site name, email, MRN) so that seeding twice
changes nothing. All people, addresses and numbers are invented; phone numbers use the
555-01xx range reserved for fiction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, Site, SiteMembership, User
from carecoord.models.patients import DiseaseArea, Phase
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_add_site, care_team_name_point_person
from carecoord.services.memberships import membership_start
from carecoord.services.patients import patient_register, patient_set_identifier

# Known to everyone who reads the README: the command refuses to run with DEBUG off unless told.
DEMO_PASSWORD = "shared-care-demo-2026"  # noqa: S105
ADMIN_EMAIL = "admin@carecoord.test"
# Every demo account's second factor: one published authenticator key, like the password.
# Only accounts on the reserved .test domain get it; `manage.py demo_code EMAIL` prints the
# current code, and an authenticator app given DEMO_TOTP_KEY_BASE32 shows the same codes.
DEMO_DEVICE_NAME = "Demo authenticator (published key)"
DEMO_TOTP_KEY_HEX = "63617265636f6f72642d64656d6f2d3230323621"
DEMO_TOTP_KEY_BASE32 = "MNQXEZLDN5XXEZBNMRSW23ZNGIYDENRB"
DEMO_EMAIL_SUFFIX = ".test"
MEMBERSHIPS_START = dt.date(2024, 1, 2)


@dataclass(frozen=True)
class DemoSite:
    key: str
    name: str
    kind: str
    time_zone: str
    address: str
    phone_24_7: str
    domain: str
    mrn_prefix: str
    treating_center: str | None = None  # key of the center a practice refers to


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    phone: str
    # (site key, role, title) for each membership
    memberships: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)


CENTER = Site.Kind.ACADEMIC_CENTER
PRACTICE = Site.Kind.COMMUNITY_PRACTICE

SITES: tuple[DemoSite, ...] = (
    DemoSite(
        key="greatlakes",
        name="Great Lakes University CAR-T Center",
        kind=CENTER,
        time_zone="America/Chicago",
        address="2400 North Lakeview Drive, Cellular Therapy Pavilion 4th floor\nChicago, IL 60614",
        phone_24_7="+1 312 555 0140",
        domain="greatlakes-cart.test",
        mrn_prefix="GLU",
    ),
    DemoSite(
        key="frontrange",
        name="Front Range Academic Cellular Therapy Center",
        kind=CENTER,
        time_zone="America/Denver",
        address="1750 East Aspen Parkway, Building C\nAurora, CO 80045",
        phone_24_7="+1 303 555 0188",
        domain="frontrange-cart.test",
        mrn_prefix="FRC",
    ),
    DemoSite(
        key="prairieview",
        name="Prairie View Oncology Associates",
        kind=PRACTICE,
        time_zone="America/Chicago",
        address="815 West Main Street, Suite 200\nPeoria, IL 61606",
        phone_24_7="+1 309 555 0112",
        domain="prairieview-onc.test",
        mrn_prefix="PVO",
        treating_center="greatlakes",
    ),
    DemoSite(
        key="hoosiervalley",
        name="Hoosier Valley Cancer Care",
        kind=PRACTICE,
        time_zone="America/Indiana/Indianapolis",
        address="3300 Wabash Avenue\nLafayette, IN 47905",
        phone_24_7="+1 765 555 0167",
        domain="hoosiervalley-onc.test",
        mrn_prefix="HVC",
        treating_center="greatlakes",
    ),
    DemoSite(
        key="mesaridge",
        name="Mesa Ridge Hematology & Oncology",
        kind=PRACTICE,
        time_zone="America/Denver",
        address="640 Horizon Drive, Suite 110\nGrand Junction, CO 81506",
        phone_24_7="+1 970 555 0123",
        domain="mesaridge-onc.test",
        mrn_prefix="MRH",
        treating_center="frontrange",
    ),
    DemoSite(
        key="sonoranvalley",
        name="Sonoran Valley Oncology",
        kind=PRACTICE,
        time_zone="America/Phoenix",
        address="1200 North Fort Valley Road\nFlagstaff, AZ 86001",
        phone_24_7="+1 928 555 0199",
        domain="sonoranvalley-onc.test",
        mrn_prefix="SVO",
        treating_center="frontrange",
    ),
)
SITES_BY_KEY = {site.key: site for site in SITES}

# One person per role at every site: (role, given name, family name, title).
_STAFF_BY_SITE: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "greatlakes": (
        (Role.COORDINATOR, "Cora", "Lindqvist", "CAR-T nurse coordinator"),
        (Role.PHYSICIAN, "Marcus", "Okafor", "Cellular therapy attending"),
        (Role.NURSE, "Nadia", "Brennan", "Cellular therapy nurse"),
        (Role.PHARMACIST, "Paul", "Hendricks", "Clinical pharmacist"),
        (Role.READ_ONLY, "Rosa", "Whitfield", "Financial counselor"),
    ),
    "frontrange": (
        (Role.COORDINATOR, "Carmen", "Delgado", "CAR-T nurse coordinator"),
        (Role.PHYSICIAN, "Martin", "Sorensen", "Cellular therapy attending"),
        (Role.NURSE, "Naomi", "Redcloud", "Cellular therapy nurse"),
        (Role.PHARMACIST, "Priya", "Raman", "Clinical pharmacist"),
        (Role.READ_ONLY, "Ruth", "Calloway", "Quality analyst"),
    ),
    "prairieview": (
        (Role.COORDINATOR, "Claire", "Moberg", "Oncology nurse navigator"),
        (Role.PHYSICIAN, "Olivia", "Stanton", "Medical oncologist"),
        (Role.NURSE, "Nora", "Kessler", "Infusion nurse"),
        (Role.PHARMACIST, "Peter", "Vance", "Oncology pharmacist"),
        (Role.READ_ONLY, "Ryan", "Abbott", "Front desk"),
    ),
    "hoosiervalley": (
        (Role.COORDINATOR, "Celia", "Hartman", "Oncology nurse navigator"),
        (Role.PHYSICIAN, "Owen", "Pruitt", "Medical oncologist"),
        (Role.NURSE, "Nell", "Garrison", "Infusion nurse"),
        (Role.PHARMACIST, "Pam", "Yoder", "Oncology pharmacist"),
        (Role.READ_ONLY, "Rita", "Coleman", "Medical records"),
    ),
    "mesaridge": (
        (Role.COORDINATOR, "Cody", "Barela", "Oncology nurse navigator"),
        (Role.PHYSICIAN, "Oscar", "Lujan", "Hematologist-oncologist"),
        (Role.NURSE, "Nina", "Archuleta", "Infusion nurse"),
        (Role.PHARMACIST, "Phoebe", "Tafoya", "Oncology pharmacist"),
        (Role.READ_ONLY, "Russ", "Medina", "Scheduler"),
    ),
    "sonoranvalley": (
        (Role.COORDINATOR, "Cassie", "Yazzie", "Oncology nurse navigator"),
        (Role.PHYSICIAN, "Omar", "Haddad", "Medical oncologist"),
        (Role.NURSE, "Noelle", "Begay", "Infusion nurse"),
        (Role.PHARMACIST, "Pedro", "Ochoa", "Oncology pharmacist"),
        (Role.READ_ONLY, "Renee", "Farrow", "Front desk"),
    ),
}


def _staff() -> tuple[DemoPerson, ...]:
    people: list[DemoPerson] = []
    for site_index, site in enumerate(SITES):
        for role_index, (role, given, family, title) in enumerate(_STAFF_BY_SITE[site.key]):
            people.append(
                DemoPerson(
                    email=f"{role.replace('_', '-')}@{site.domain}",
                    full_name=f"{given} {family}",
                    phone=f"+1 312 555 01{site_index}{role_index}",
                    memberships=((site.key, role, title),),
                )
            )
    # One person working at two sites: a center physician who also holds an outreach clinic.
    people.append(
        DemoPerson(
            email="outreach-physician@greatlakes-cart.test",
            full_name="Irene Castellanos",
            phone="+1 312 555 0190",
            memberships=(
                ("greatlakes", Role.PHYSICIAN, "Cellular therapy attending (outreach)"),
                ("hoosiervalley", Role.PHYSICIAN, "Visiting hematologist, monthly clinic"),
            ),
        )
    )
    # One person with a different role at each site: what they may do depends on the site they
    # act for (read-only at the center, coordinator at the practice).
    people.append(
        DemoPerson(
            email="dual-role@greatlakes-cart.test",
            full_name="Dana Whitcombe",
            phone="+1 312 555 0191",
            memberships=(
                ("greatlakes", Role.READ_ONLY, "Quality analyst"),
                ("hoosiervalley", Role.COORDINATOR, "Oncology nurse navigator (two days a week)"),
            ),
        )
    )
    return tuple(people)


STAFF = _staff()

# Surnames nobody has, so nobody mistakes a demo patient for a real one.
_GIVEN_NAMES = (
    "Alma", "Bruno", "Celeste", "Dario", "Edith", "Felix", "Gloria", "Hector", "Ingrid", "Jasper",
    "Kira", "Leon", "Mabel", "Nestor", "Opal", "Quentin", "Rosalind", "Silas", "Tamsin", "Ulric",
    "Vera",
)  # fmt: skip
_FAMILY_NAMES = ("Demoson", "Sampleton", "Testwell", "Fictorio", "Mockridge", "Placeholt")
_DISEASE_AREAS = (
    DiseaseArea.LBCL,
    DiseaseArea.MULTIPLE_MYELOMA,
    DiseaseArea.FL,
    DiseaseArea.MCL,
    DiseaseArea.B_ALL,
    DiseaseArea.CLL_SLL,
    DiseaseArea.MZL,
)
_SEXES = (Patient.Sex.FEMALE, Patient.Sex.MALE)
PATIENT_COUNT = 42  # three in every phase


@dataclass(frozen=True)
class DemoPatient:
    practice: str
    mrn: str
    center_mrn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    disease_area: str
    phase: str  # the phase its story (referrals.demo) brings it to; derived, never stored by hand
    caregiver_name: str
    caregiver_relationship: str
    caregiver_phone: str


def _patients() -> tuple[DemoPatient, ...]:
    practices = [site for site in SITES if site.kind == PRACTICE]
    phases = list(Phase)
    patients = []
    for n in range(PATIENT_COUNT):
        practice = practices[n % len(practices)]
        center = SITES_BY_KEY[practice.treating_center or ""]
        disease = _DISEASE_AREAS[n % len(_DISEASE_AREAS)]
        # B-ALL patients are young; everyone else is an adult of typical lymphoma/myeloma age.
        birth_year = 2004 + n % 5 if disease == DiseaseArea.B_ALL else 1945 + (n * 7) % 35
        family_name = _FAMILY_NAMES[n % len(_FAMILY_NAMES)]
        patients.append(
            DemoPatient(
                practice=practice.key,
                mrn=f"{practice.mrn_prefix}-{10001 + n}",
                center_mrn=f"{center.mrn_prefix}-{50001 + n}",
                given_name=_GIVEN_NAMES[n % len(_GIVEN_NAMES)],
                family_name=family_name,
                date_of_birth=dt.date(birth_year, 1 + n % 12, 1 + (n * 3) % 28),
                sex=_SEXES[n % 2],
                disease_area=disease,
                phase=phases[n % len(phases)],
                caregiver_name=f"Casey {family_name}",
                caregiver_relationship=("Spouse", "Daughter", "Son", "Partner", "Parent")[n % 5],
                caregiver_phone=f"+1 312 555 01{n:02d}",
            )
        )
    return tuple(patients)


PATIENTS = _patients()


@dataclass
class SeedResult:
    """What one run created (all zeros on a second run) and the logins to show."""

    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (email, role, site)
    holders: dict[tuple[str, str], User] = field(default_factory=dict)  # (site key, role) -> person

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1


def _site(spec: DemoSite, result: SeedResult) -> Site:
    site, created = Site.objects.get_or_create(
        name=spec.name,
        defaults={
            "kind": spec.kind,
            "time_zone": spec.time_zone,
            "address": spec.address,
            "phone_24_7": spec.phone_24_7,
        },
    )
    if created:
        site.full_clean()
        result.count("sites")
    return site


def _user(email: str, full_name: str, phone: str, password_hash: str, result: SeedResult, **extra: bool) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "phone": phone, "password": password_hash, **extra}
    )
    if created:
        validate_password(DEMO_PASSWORD, user)
        result.count("users")
    _demo_authenticator(user)
    return user


def _demo_authenticator(user: User) -> None:
    if not user.email.endswith(DEMO_EMAIL_SUFFIX):
        raise ValueError("Demo authenticators are only for demo accounts on the .test domain.")
    TOTPDevice.objects.get_or_create(
        user=user, name=DEMO_DEVICE_NAME, defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
    )


def seed(*, password: str = DEMO_PASSWORD) -> SeedResult:
    """Create (or find again) every demo row; returns what was created and the logins."""
    result = SeedResult()
    # One slow hash for every demo account: these passwords protect nothing.
    password_hash = make_password(password)
    with transaction.atomic():
        sites = {spec.key: _site(spec, result) for spec in SITES}

        admin = _user(
            ADMIN_EMAIL, "Demo Administrator", "+1 555 0199", password_hash, result, is_staff=True, is_superuser=True
        )
        result.logins.append((admin.email, "administrator (Django admin)", "-"))

        # (site key, role) -> the demo person holding it
        holders: dict[tuple[str, str], User] = {}
        for person in STAFF:
            user = _user(person.email, person.full_name, person.phone, password_hash, result)
            for site_key, role, title in person.memberships:
                site = sites[site_key]
                if not SiteMembership.objects.filter(user=user, site=site, role=role).exists():
                    membership_start(user=user, site=site, role=role, starts_on=MEMBERSHIPS_START, title=title)
                    result.count("memberships")
                holders.setdefault((site_key, role), user)
                result.logins.append((user.email, Role(role).label, site.name))

        for spec in PATIENTS:
            _patient(spec, sites, holders, result)
    result.holders = holders
    return result


def registered_patient(*, actor: User, site: Site, mrn: str, **fields: Any) -> tuple[Patient, bool]:
    """The demo patient with `mrn` at `site`, registered by `actor` with `fields` the first time;
    whether it was registered now."""
    identifier = PatientIdentifier.objects.select_related("patient").filter(site=site, mrn=mrn).first()
    if identifier is not None:
        return identifier.patient, False
    return patient_register(actor=actor, site=site, mrn=mrn, **fields), True


def registered_demo_patient(spec: DemoPatient, practice: Site, actor: User) -> tuple[Patient, bool]:
    """`spec`'s patient at its practice (`registered_patient`), registered by `actor` if new."""
    return registered_patient(
        actor=actor,
        site=practice,
        mrn=spec.mrn,
        given_name=spec.given_name,
        family_name=spec.family_name,
        date_of_birth=spec.date_of_birth,
        sex=spec.sex,
        disease_area=spec.disease_area,
        caregiver_name=spec.caregiver_name,
        caregiver_relationship=spec.caregiver_relationship,
        caregiver_phone=spec.caregiver_phone,
    )


def _patient(
    spec: DemoPatient, sites: dict[str, Site], holders: dict[tuple[str, str], User], result: SeedResult
) -> None:
    practice = sites[spec.practice]
    center_key = SITES_BY_KEY[spec.practice].treating_center or ""
    center = sites[center_key]
    practice_coordinator = holders[(spec.practice, Role.COORDINATOR)]
    center_coordinator = holders[(center_key, Role.COORDINATOR)]

    patient, created = registered_demo_patient(spec, practice, practice_coordinator)
    if created:
        result.count("patients")

    if not CareTeamLink.objects.open().filter(patient=patient, site=center).exists():
        care_team_add_site(
            actor=practice_coordinator,
            patient=patient,
            site=center,
            capacity=CareTeamLink.Capacity.TREATING_CENTER,
            from_site=practice,
        )
        result.count("care-team links")
    if not PatientIdentifier.objects.filter(patient=patient, site=center).exists():
        patient_set_identifier(actor=center_coordinator, patient=patient, site=center, mrn=spec.center_mrn)

    # Each site's own coordinator names its point persons: the nurse first, the coordinator as backup.
    for site_key, site in ((spec.practice, practice), (center_key, center)):
        link = CareTeamLink.objects.open().get(patient=patient, site=site)
        coordinator = holders[(site_key, Role.COORDINATOR)]
        for rank, person in (
            (PointPerson.Rank.PRIMARY, holders[(site_key, Role.NURSE)]),
            (PointPerson.Rank.BACKUP, coordinator),
        ):
            if not PointPerson.objects.filter(link=link, rank=rank).exists():
                care_team_name_point_person(actor=coordinator, link=link, user=person, rank=rank)
                result.count("point persons")


def sites_by_key() -> dict[str, Site]:
    """The demo sites, by their key, as seeded."""
    by_name = {site.name: site for site in Site.objects.filter(name__in=[spec.name for spec in SITES])}
    return {spec.key: by_name[spec.name] for spec in SITES}


def handed_back_patient() -> Patient | None:
    """The demo's patient whose record shows what follows the infusion (the counts of the first
    weeks with their ICAHT grade, the prevention plan, education and the wallet card, and the
    transition hand-off carrying them): the first patient in follow-up, by name, handed back to
    their practice at day +21 and now at about day +75. Every app's demo seeds this one."""
    return Patient.objects.filter(phase=Phase.FOLLOW_UP).order_by("family_name", "given_name", "pk").first()
