"""Every route, every role, an object in scope: each role gets what its capabilities allow.

For each role of `carecoord.roles.Role` there is a member at the treating center, a site on the
shared patient's care team. Every route of the URL configuration is requested with every
method by every member, on objects of the shared patient; what must come back is the route's
rule in `tests.route_rules` (see its docstring). A route missing from that table fails
`test_every_route_is_classified`. The same objects, seen from a site off the care team, are
walked role by role in `test_permission_matrix`.

Each request runs in a savepoint that is rolled back, so a write one route lets through does
not change what the next one sees; a refused request is checked to have written nothing (its
session and the audit trail aside).
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carecoord.models import CareTeamLink
from carecoord.roles import ROLE_CAPABILITIES, ROLES_THAT_REGISTER_PATIENTS, Role
from education.selectors import current_versions
from handoffs.services import handoff_save, handoff_send, handoff_start
from tests.factories import member
from tests.helpers import (
    REFERRAL_FIELDS,
    World,
    draft_handoff,
    login,
    service_values,
    ship_education,
    transition,
)
from tests.route_rules import (
    BOOKKEEPING,
    CAPABILITY_NEEDS,
    METHODS,
    ROUTE_RULES,
    ROUTES,
    WRITE,
    Need,
    Rule,
    build_samples,
    url_of,
)

pytestmark = pytest.mark.django_db

UNSAFE = tuple(method for method in METHODS if method not in {"get", "options"})
REDIRECTS = {301, 302, 303}


def member_meets(need: Need, role: str) -> bool:
    """Whether a member in `role` at the treating center meets `need` on the samples."""
    if need in {Need.PUBLIC, Need.SIGNED_IN, Need.SITE_MEMBER, Need.KEY}:
        return True  # KEY: the sample's key is a right one
    if need in CAPABILITY_NEEDS:
        return need.value in ROLE_CAPABILITIES[role]
    if need is Need.REGISTER:
        return role in ROLES_THAT_REGISTER_PATIENTS
    if need is Need.SITE_COORDINATOR:
        # The sample template is the center's, and the received hand-off's site names no point person.
        return role == Role.COORDINATOR
    # REFER: the members work at the center, referrals start at a practice. OWN: the samples
    # belong to other people. STAFF: no member is staff. NONE: the route has no such method.
    return False


def refusal(need: Need) -> set[int]:
    """How a request that does not meet `need` is answered."""
    if need is Need.NONE:
        return {405}
    if need is Need.OWN:
        return {404}
    if need is Need.STAFF:
        return {302, 403}
    return {403}


def options_answers(rule: Rule, role: str) -> set[int]:
    """How OPTIONS may be answered to a member in `role`: it asks for no more than a GET.

    It describes the route (most pages have none: 405) and needs nothing beyond seeing the
    object behind the URL, so a write need never refuses it; a page may refuse it as it refuses
    the GET, and someone else's object (`OWN`) is 404 as for every method.
    """
    allowed = {200, 405} | REDIRECTS
    if Need.OWN in {rule.read, rule.write}:
        allowed |= {404}
    if rule.read is not Need.NONE and not member_meets(rule.read, role):
        allowed |= refusal(rule.read)
    return allowed


@pytest.fixture
def samples(world: World, settings: Any, tmp_path: Path) -> dict[str, Any]:
    """For each URL kwarg, an object of the shared patient; named variants for some routes."""
    settings.MEDIA_ROOT = str(tmp_path)
    samples = build_samples(world)
    samples["site_id"] = world.center.pk
    samples["center_link_id"] = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center).pk
    samples["draft_handoff_id"] = draft_handoff(world).pk
    # From the practice to the center, which names no point person: its coordinators acknowledge.
    received = handoff_start(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        template=transition(),
        from_site=world.practice,
        to_site=world.center,
    )
    handoff_save(actor=world.community_coordinator, handoff=received, values=service_values())
    samples["received_handoff_id"] = handoff_send(actor=world.community_coordinator, handoff=received).pk
    return samples


def create_payloads(world: World) -> dict[str, dict[str, Any]]:
    """Valid bodies for the API routes that create: the patient they concern is in the body,
    so the gate is only reached with one (a referral from the center stays invalid: 400)."""
    patient = str(world.shared_patient.pk)
    ship_education()
    center_link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    return {
        "api:patient-list": {
            "site": world.center.pk,
            "mrn": "MATRIX-1",
            "given_name": "Mat",
            "family_name": "Rix",
            "date_of_birth": "1970-01-01",
            "sex": "female",
            "disease_area": "lbcl",
        },
        "api:care-team-link-list": {
            "patient": patient,
            "site": world.unrelated_practice.pk,
            "capacity": CareTeamLink.Capacity.COMMUNITY_PRACTICE,
        },
        "api:point-person-list": {"link": center_link.pk, "user": world.center_coordinator.pk, "rank": "backup"},
        "api:referral-list": {
            "patient": patient,
            "from_site": world.practice.pk,
            "to_center": world.center.pk,
            "referring_physician": world.center_coordinator.pk,
            **REFERRAL_FIELDS,
        },
        "api:toxicity-event-list": {
            "patient": patient,
            "site": world.center.pk,
            "kind": "infection",
            "onset_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "grade": 2,
            "infection_site": "Lung",
            "organism": "E. coli",
        },
        "api:infection-list": {
            "patient": patient,
            "site": world.center.pk,
            "body_site": "lung",
            "grade": 2,
            "setting": "ward",
            "onset_on": world.center.today().isoformat(),
        },
        "api:prophylaxis-item-list": {
            "patient": patient,
            "site": world.center.pk,
            "kind": "pjp",
            "agent": "TMP-SMX 480 mg daily",
            "start_on": world.center.today().isoformat(),
        },
        "api:vaccination-list": {
            "patient": patient,
            "site": world.center.pk,
            "vaccine": "Influenza (inactivated)",
            "due_on": world.center.today().isoformat(),
        },
        "api:lab-result-list": {
            "patient": patient,
            "site": world.center.pk,
            "kind": "igg",
            "value": 350,
            "taken_on": timezone.localdate(timezone=world.center.zone).isoformat(),
        },
        "api:lab-result-bulk": {
            "patient": patient,
            "site": world.center.pk,
            "text": "IgG 350 mg/dL\nANC 0.4",
            "taken_on": timezone.localdate(timezone=world.center.zone).isoformat(),
        },
        "api:education-given-list": {
            "patient": patient,
            "site": world.center.pk,
            "version": current_versions().values_list("pk", flat=True)[0],
            "recipient": "caregiver",
            "given_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        },
        "api:therapy-line-list": {
            "patient": patient,
            "site": world.center.pk,
            "number": 2,
            "regimen": "Axi-cel bridging: R-GemOx",
            "drug_classes": ["chemoimmunotherapy"],
            "started_on": "2025-09-01",
        },
        "api:handoff-list": {
            "patient": patient,
            "template": transition().pk,
            "from_site": world.center.pk,
            "to_site": world.practice.pk,
        },
    }


def send(client: Client, method: str, url: str, payload: dict[str, Any]) -> tuple[int, set[str]]:
    """One request, rolled back: its status and the tables it wrote to (bookkeeping aside).

    The client's cookies are rolled back with the database, so signing out (or in) on one route
    does not change how the next one is asked.
    """
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        if method in {"get", "options"}:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, data=payload, content_type="application/json")
        transaction.set_rollback(True)
    client.cookies = cookies
    written = {match[1] for query in queries.captured_queries if (match := WRITE.match(query["sql"]))}
    return response.status_code, {table for table in written if not table.startswith(BOOKKEEPING)}


def test_every_route_is_classified() -> None:
    unclassified = sorted(ROUTES.keys() - ROUTE_RULES.keys())
    assert not unclassified, f"say who may use these routes in tests/route_rules.py: {unclassified}"


def test_the_table_names_only_existing_routes() -> None:
    assert not sorted(ROUTE_RULES.keys() - ROUTES.keys())


def test_every_api_route_that_creates_has_a_payload(world: World) -> None:
    creating = {
        name
        for name, route in ROUTES.items()
        if name.startswith("api:")
        and not route.kwargs
        and name in ROUTE_RULES
        and ROUTE_RULES[name].write is not Need.NONE
    }
    assert creating == create_payloads(world).keys()


@pytest.mark.parametrize("role", list(Role))
def test_member_gets_what_the_role_allows_on_every_route(
    client: Client, world: World, samples: dict[str, Any], role: Role
) -> None:
    login(client, member(world.center, role, email=f"matrix-{role}@lakeside.test"))
    payloads = create_payloads(world)
    failures: list[str] = []
    for name in sorted(ROUTES.keys() & ROUTE_RULES.keys()):
        rule = ROUTE_RULES[name]
        url = url_of(ROUTES[name], rule, samples)
        status, _ = send(client, "get", url + (f"?{rule.query.format(**samples)}" if rule.query else ""), {})
        allowed = {200, 405} | REDIRECTS if member_meets(rule.read, role) else refusal(rule.read)
        if status not in allowed:
            failures.append(f"GET {name}: {status}, expected one of {sorted(allowed)}")
        may_write = rule.write is not Need.NONE and member_meets(rule.write, role)
        statuses = set()
        for method in UNSAFE:
            status, written = send(client, method, url, payloads.get(name, {}))
            statuses.add(status)
            if may_write:
                if status in {403, 404}:
                    failures.append(f"{method.upper()} {name}: refused ({status}) though the role may write")
                continue
            # Refused by the write gate, or, for a role that may not even read, by the read gate.
            allowed = refusal(rule.write) | {405}
            if not member_meets(rule.read, role):
                allowed |= refusal(rule.read)
            if status not in allowed:
                failures.append(f"{method.upper()} {name}: {status}, expected one of {sorted(allowed)}")
            if written:
                failures.append(f"{method.upper()} {name}: refused ({status}) but wrote to {sorted(written)}")
        if may_write and statuses == {405}:
            failures.append(f"{name}: the table says it writes, but every unsafe method answered 405")
        status, written = send(client, "options", url, {})
        if status not in (allowed := options_answers(rule, role)):
            failures.append(f"OPTIONS {name}: {status}, expected one of {sorted(allowed)}")
        if written:
            failures.append(f"OPTIONS {name}: wrote to {sorted(written)}")
    assert not failures, f"{role} at the treating center ({len(failures)}):\n" + "\n".join(failures)


# Who the OWN samples belong to (see `build_samples`).
OWNERS = {
    "alert_id": "community_oncologist",
    "notice_id": "community_oncologist",
    "membership_id": "center_coordinator",
    "token_id": "center_coordinator",
    "feed_id": "community_oncologist",
}


def test_the_owner_reaches_what_is_theirs(client: Client, world: World, samples: dict[str, Any]) -> None:
    own = [
        name
        for name in ROUTES.keys() & ROUTE_RULES.keys()
        if Need.OWN in {ROUTE_RULES[name].read, ROUTE_RULES[name].write}
    ]
    for name in sorted(own):
        rule, route = ROUTE_RULES[name], ROUTES[name]
        (kwarg,) = route.kwargs & OWNERS.keys()
        login(client, getattr(world, OWNERS[kwarg]))
        url = url_of(route, rule, samples)
        status, _ = send(client, "get", url, {})
        assert status in ({200, 405} if rule.read is Need.OWN else {405}), f"GET {name}: {status}"
        if rule.write is Need.OWN:
            status, _ = send(client, "post", url, {})
            assert status not in {403, 404, 405}, f"POST {name}: {status}"
