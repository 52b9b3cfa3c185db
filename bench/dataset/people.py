"""The network: 12 sites, their staff and role groups, and the named personas.

Sites and their role groups are made through the app (`Site.objects.create`,
`carecoord.access.grants.site_role_groups`); people, memberships and group memberships are
spooled for COPY. A person is in a site-role group exactly while a membership in that role
there is active, as `grants.sync_user_access` puts them (checked by bench/tests/test_dataset.py).
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.dataset.tables import Table, first_free_id
from carecoord.access.grants import site_role_groups
from carecoord.models import Patient, Site
from carecoord.roles import ROLE_CAPABILITIES, Capability, Role

# Every bench person's password (the personas sign in with it); a benchmark's, on this machine only.
PASSWORD = "bench-network-2026"  # noqa: S105

CENTERS = (
    ("Great Lakes University CAR-T Center", "America/Chicago"),
    ("Atlantic Cancer Institute", "America/New_York"),
    ("Rocky Mountain Cellular Therapy Center", "America/Denver"),
    ("Pacific Coast Transplant and Cellular Therapy", "America/Los_Angeles"),
)
PRACTICES = (
    ("Prairie View Oncology", "America/Chicago"),
    ("Lakeshore Hematology Associates", "America/Chicago"),
    ("Hudson Valley Cancer Care", "America/New_York"),
    ("Blue Ridge Oncology", "America/New_York"),
    ("Front Range Hematology", "America/Denver"),
    ("Central Valley Oncology", "America/Los_Angeles"),
    ("Riverbend Cancer Center", "America/Chicago"),  # the medium practice: 500 patients
    ("Mesa Ridge Oncology", "America/Denver"),  # the small practice: 50 patients
)
MEDIUM_PRACTICE, SMALL_PRACTICE = 6, 7
# A site's staff, role by role, in the order people are hired: a fifth are coordinators.
ROLE_CYCLE = (
    Role.COORDINATOR,
    Role.PHYSICIAN,
    Role.NURSE,
    Role.NURSE,
    Role.PHARMACIST,
    Role.PHYSICIAN,
    Role.NURSE,
    Role.READ_ONLY,
    Role.NURSE,
    Role.COORDINATOR,
)
TITLES: dict[str, str] = {
    Role.COORDINATOR: "CAR-T coordinator",
    Role.PHYSICIAN: "Hematologist-oncologist",
    Role.NURSE: "Nurse coordinator",
    Role.PHARMACIST: "Clinical pharmacist",
    Role.READ_ONLY: "Scheduler",
}


def names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = names(
    "Amara Ben Carla Dev Elena Farah Gus Hana Ivan Jada Kofi Lena Mateo Nia Omar Priya Quinn Rosa Sam "
    "Tomas Uma Vera Wes Ximena Yusuf Zoe Aiko Bruno Chen Dana Emeka Freya Goran Hugo Ines Jonah"
)
LAST_NAMES = names(
    "Adams Baptiste Cohen Diaz Evans Fischer Garcia Haddad Ibrahim Jensen Kowalski Lopez Mensah Novak "
    "Okafor Patel Quist Rossi Sato Tanaka Ueda Varga Wright Xu Yilmaz Zhou Brennan Castillo Dubois"
)


@dataclass(frozen=True)
class Persona:
    """A named person the benchmarks sign in as: a coordinator at `sites` (keys C0.., P0..)."""

    key: str
    email: str
    full_name: str
    sites: tuple[str, ...]
    point_person_at: str  # the one site where they are named as point persons like their colleagues


PERSONAS = (
    Persona("center_coordinator", "center.coordinator@bench.test", "Cora Center", ("C0",), "C0"),
    Persona("sees_50", "small.practice@bench.test", "Sam Small", (f"P{SMALL_PRACTICE}",), f"P{SMALL_PRACTICE}"),
    Persona("sees_500", "medium.practice@bench.test", "Mia Medium", (f"P{MEDIUM_PRACTICE}",), f"P{MEDIUM_PRACTICE}"),
    Persona("sees_all", "network.coordinator@bench.test", "Noor Network", tuple(f"P{n}" for n in range(8)), "P0"),
)


@dataclass
class Person:
    id: int
    full_name: str
    email: str
    is_active: bool = True


@dataclass
class SiteInfo:
    """One site as the stories need it: ids, zone, role groups and who works there today."""

    key: str
    id: int
    name: str
    kind: str
    zone: zoneinfo.ZoneInfo
    today: dt.date
    groups: dict[str, int]
    actors: list[Person] = field(default_factory=list)  # active, in a role that records care
    coordinators: list[Person] = field(default_factory=list)  # active coordinators, by name

    @property
    def is_center(self) -> bool:
        return self.kind == Site.Kind.ACADEMIC_CENTER


@dataclass
class Network:
    sites: list[SiteInfo]
    centers: list[SiteInfo]
    practices: list[SiteInfo]
    people: dict[int, Person]
    personas: dict[str, int]  # persona key -> user id
    permissions: dict[str, int]  # capability codename -> permission id

    def site(self, key: str) -> SiteInfo:
        return next(site for site in self.sites if site.key == key)


def practice_sizes(patients: int) -> tuple[int, int]:
    """How many patients the small and the medium practice hold: 50 and 500 at full size."""
    return min(50, patients // 20), min(500, patients // 5)


def _sites(now: dt.datetime) -> list[SiteInfo]:
    infos = []
    for prefix, kind, rows in (
        ("C", Site.Kind.ACADEMIC_CENTER, CENTERS),
        ("P", Site.Kind.COMMUNITY_PRACTICE, PRACTICES),
    ):
        for n, (name, zone) in enumerate(rows):
            site = Site.objects.create(
                name=name, kind=kind, time_zone=zone, address=f"{100 + n} Main Street", phone_24_7="+1 555 010 0000"
            )
            groups = {role: group.pk for role, group in site_role_groups(site).items()}
            infos.append(SiteInfo(f"{prefix}{n}", site.pk, name, kind, site.zone, site.today(now), groups))
    return infos


def _staff_counts(sites: list[SiteInfo], loads: dict[str, int], people: int) -> dict[str, int]:
    """People per site, in proportion to the patients each looks after, at least four each."""
    total = sum(loads.values())
    counts = {site.key: max(4, people * loads[site.key] // total) for site in sites}
    largest = max(counts, key=lambda key: counts[key])
    counts[largest] += people - sum(counts.values())
    return counts


def build_network(*, now: dt.datetime, people: int, loads: dict[str, int], rng: random.Random) -> Network:
    """Sites with their groups (through the app), then people, memberships and group rows (COPY)."""
    sites = _sites(now)
    by_key = {site.key: site for site in sites}
    content_type = ContentType.objects.get_for_model(Patient)
    permissions = {
        p.codename: p.pk for p in Permission.objects.filter(content_type=content_type, codename__in=Capability.values)
    }
    password = make_password(PASSWORD)
    users = Table(
        "carecoord_user",
        "password, last_login, is_superuser, email, full_name, phone, is_active, is_staff, date_joined, "
        "session_generation",
        first_id=first_free_id("carecoord_user"),
    )
    memberships = Table(
        "carecoord_sitemembership",
        "role, title, starts_on, ends_on, site_id, user_id",
        first_id=first_free_id("carecoord_sitemembership"),
    )
    user_groups = Table("carecoord_user_groups", "user_id, group_id", first_id=first_free_id("carecoord_user_groups"))
    everyone: dict[int, Person] = {}
    joined = now - dt.timedelta(days=3 * 365)

    def person(full_name: str, email: str, active: bool = True) -> Person:
        user_id = users.add(password, None, False, email, full_name, "", active, False, joined, 0)
        everyone[user_id] = Person(user_id, full_name, email, active)
        return everyone[user_id]

    def member(who: Person, site: SiteInfo, role: str, starts_on: dt.date, ends_on: dt.date | None = None) -> None:
        memberships.add(role, TITLES[role], starts_on, ends_on, site.id, who.id)
        active_today = starts_on <= site.today and (ends_on is None or ends_on >= site.today)
        if who.is_active and active_today:
            user_groups.add(who.id, site.groups[role])
            if role != Role.READ_ONLY:
                site.actors.append(who)
            if role == Role.COORDINATOR:
                site.coordinators.append(who)

    personas: dict[str, int] = {}
    for persona in PERSONAS:
        who = person(persona.full_name, persona.email)
        personas[persona.key] = who.id
        for key in persona.sites:
            member(who, by_key[key], Role.COORDINATOR, dt.date(2020, 1, 1))
            if key != persona.point_person_at:
                by_key[key].actors.remove(who)  # named as point person at one site only

    counts = _staff_counts(sites, loads, max(len(sites) * 4, people - len(PERSONAS)))
    number = 0
    for site in sites:
        for k in range(counts[site.key]):
            number += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            active = number % 100 != 11  # one in a hundred has left: account closed, no group
            who = person(f"{first} {last}", f"{first}.{last}.{number}@bench.test".lower(), active)
            role = ROLE_CYCLE[k % len(ROLE_CYCLE)]
            member(who, site, role, site.today - dt.timedelta(days=60 + (number * 37) % 1800))
            other = sites[(sites.index(site) + 1 + number % (len(sites) - 1)) % len(sites)]
            if number % 20 == 3:  # worked elsewhere before: an ended membership, no group
                member(who, other, role, dt.date(2019, 3, 1), site.today - dt.timedelta(days=200))
            elif number % 50 == 7:  # starts at another site in two months: no group yet
                member(who, other, role, other.today + dt.timedelta(days=60))
    for site in sites:
        site.coordinators.sort(key=lambda p: p.full_name)
    for table in (users, memberships, user_groups):
        table.load()
    for user_id in personas.values():
        TOTPDevice.objects.create(user_id=user_id, name="Authenticator app", confirmed=True)
    return Network(
        sites=sites,
        centers=[s for s in sites if s.is_center],
        practices=[s for s in sites if not s.is_center],
        people=everyone,
        personas=personas,
        permissions=permissions,
    )


def grant_rows(network: Network, site: SiteInfo) -> list[tuple[int, int]]:
    """(group id, permission id) of every grant `grants.grant_site_on_patient` makes for `site`."""
    return [
        (site.groups[role], network.permissions[codename])
        for role, codenames in ROLE_CAPABILITIES.items()
        for codename in sorted(codenames)
    ]
