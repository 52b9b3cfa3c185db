"""Who the load run's users are and what each of them works on, read from the database.

Each simulated user is one person of the dataset, a coordinator or a nurse at a center or a
practice, signing in with the dataset's password and their own authenticator. The plan
gives the client (bench/load/locustfile.py, which imports no Django) what a browser would
know after a few clicks: some of the person's patients with the site they write as, some
referrals and hand-offs. Alerts are found by the client on the alert list, as a person does.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.access import patients_visible_to, sites_that_can
from carecoord.models import Site, SiteMembership, User
from carecoord.roles import Capability, Role
from carecoord.selectors.sites import active_memberships_of
from handoffs.selectors import handoffs_visible_to
from referrals.selectors import referrals_visible_to

ROLES = (Role.COORDINATOR, Role.NURSE)
PATIENTS_EACH = 30
REFERRALS_EACH = 20
HANDOFFS_EACH = 10


@dataclass(frozen=True)
class Authenticator:
    """What an authenticator app holds to show a person's codes (django-otp's TOTP device)."""

    key: str  # hex
    step: int
    t0: int
    digits: int
    drift: int


@dataclass
class PatientRef:
    id: str
    site: int  # the person's site on the care team that may record care (comments, toxicities)


@dataclass
class Persona:
    email: str
    role: str
    site_kind: str  # "center" or "practice": where the person works (their first membership)
    authenticator: Authenticator
    patients: list[PatientRef] = field(default_factory=list)
    referrals: list[int] = field(default_factory=list)
    handoffs: list[int] = field(default_factory=list)


def authenticator_of(user: User) -> Authenticator:
    """The person's confirmed authenticator; one is made for a person who has none yet, as
    enrolling would (the dataset gives one to its named personas only)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return Authenticator(device.key, device.step, device.t0, device.digits, device.drift)


def candidates(first: tuple[str, ...] = ()) -> list[User]:
    """Active coordinators and nurses in an active membership, the emails in `first` first, then
    site by site in turn (a center's, a practice's…), so that any prefix mixes sites and roles."""
    memberships = (
        SiteMembership.objects.filter(role__in=ROLES, user__is_active=True)
        .select_related("user", "site")
        .order_by("site_id", "user_id")
    )
    by_site: dict[int, list[User]] = defaultdict(list)
    seen: set[int] = set()
    for membership in memberships:
        if membership.is_active_today() and membership.user_id not in seen:
            seen.add(membership.user_id)
            by_site[membership.site_id].append(membership.user)
    ordered = [user for row in zip_longest(*by_site.values()) for user in row if user is not None]
    named = [user for email in first for user in ordered if user.email == email]
    return named + [user for user in ordered if user not in named]


def persona_of(user: User) -> Persona | None:
    """The plan of one person, or None when they see no patient they may record care for."""
    membership = next(m for m in active_memberships_of(user) if m.role in ROLES)
    rng = random.Random(user.email)  # the same plan for the same database, run after run
    visible = patients_visible_to(user, Capability.RECORD_CARE)
    patients = list(visible.filter(pk__in=_sample(rng, visible, PATIENTS_EACH)).order_by("pk"))
    if not patients:
        return None
    refs = []
    for patient in patients:
        sites = sites_that_can(user, patient, Capability.RECORD_CARE)
        if sites:
            refs.append(PatientRef(str(patient.pk), sites[0].pk))
    return Persona(
        email=user.email,
        role=membership.role,
        site_kind="center" if membership.site.kind == Site.Kind.ACADEMIC_CENTER else "practice",
        authenticator=authenticator_of(user),
        patients=refs,
        referrals=_sample(rng, referrals_visible_to(user), REFERRALS_EACH),
        handoffs=_sample(rng, handoffs_visible_to(user), HANDOFFS_EACH),
    )


def _sample(rng: random.Random, rows: QuerySet[Any], size: int) -> list[Any]:
    """`size` primary keys of `rows` drawn by `rng` (all of them when there are fewer)."""
    keys = sorted(rows.values_list("pk", flat=True))
    return rng.sample(keys, min(size, len(keys)))


def hash_for_production(password: str, emails: list[str]) -> None:
    """Store the people's password hashed as the production settings check it (PBKDF2, Django's
    default). A dataset built under the test settings hashes with MD5, which production refuses;
    and signing in should cost what it costs."""
    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode(password, hasher.salt())
    User.objects.filter(email__in=emails).exclude(password__startswith=f"{hasher.algorithm}$").update(password=encoded)


def build_plan(users: int, *, password: str, first: tuple[str, ...] = ()) -> dict[str, object]:
    """The plan for `users` simulated users, each a different person (a person's code works
    once, and a shared session would hide the cost of sessions)."""
    personas: list[Persona] = []
    for user in candidates(first):
        persona = persona_of(user)
        if persona is not None:
            personas.append(persona)
        if len(personas) == users:
            break
    if len(personas) < users:
        raise SystemExit(
            f"This database has {len(personas)} coordinators and nurses who see patients, not {users}: "
            "build the full dataset, or run with fewer users."
        )
    hash_for_production(password, [p.email for p in personas])
    return {"password": password, "personas": [asdict(p) for p in personas]}
