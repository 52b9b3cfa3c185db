"""Every route, walked with outsiders: nothing of another site's patient comes back.

The walk reads the URL configuration itself, so a new page or API route joins the matrix
without anyone adding it here. A route whose URL names an object must answer 404 for an
object the outsider cannot see, for every method and whatever the outsider's role; a list
must not show a foreign object. A route with a kwarg this module does not know fails the
test until a sample is added. Members of the care team, role by role, are walked in
`test_role_matrix`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from candidates.models import TherapyLine, TransplantCandidacy
from candidates.serializers import LINE_VALUES
from carecoord.models import CareTeamLink, Patient, PointPerson, SiteMembership, TimelineEntry
from carecoord.roles import Role
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplateVersion
from referrals.models import Milestone, Referral, ReferralDocument
from tests.factories import member
from tests.helpers import World, login
from tests.route_rules import (
    GUESSED_KEYS,
    KEY_ROUTES,
    METHODS,
    ROUTE_RULES,
    Need,
    Route,
    all_routes,
    app_routes,
    build_samples,
)
from toxicity.models import Alert

pytestmark = pytest.mark.django_db

# Routes that carry no patient data and are meant for everyone signed in (or anonymous).
PUBLIC_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.read is Need.PUBLIC}
# Routes whose writes concern only the person signed in (signing in, their account).
PERSONAL_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.write in {Need.PUBLIC, Need.SIGNED_IN}}


@pytest.fixture
def foreign(world: World, settings: Any, tmp_path: Path) -> dict[str, Any]:
    """For each URL kwarg, an object that the outsider must not reach."""
    settings.MEDIA_ROOT = str(tmp_path)
    return build_samples(world)


# Kwargs that name objects everybody may see (the site directory, the product catalog and the
# education material hold no patient data).
SHARED_KWARGS = {"site_id", "product_id", "material_id", "material_version_id"}


def foreign_markers(world: World) -> list[str]:
    patient = world.shared_patient
    markers = [patient.family_name, str(patient.pk)]
    markers += list(patient.identifiers.values_list("mrn", flat=True))
    return markers


def test_the_matrix_walks_pages_and_api_routes() -> None:
    names = {r.name for r in app_routes()}
    assert {"dashboard", "patient-detail", "api:patient-list", "api:patient-detail", "api:care-team-link-end"} <= names


@pytest.mark.parametrize("role", list(Role))
def test_outsider_gets_404_for_every_method_on_foreign_objects(
    client: Client, world: World, foreign: dict[str, Any], role: Role
) -> None:
    """Whatever their role at their own site, nothing of the shared patient is theirs to reach."""
    # world.outsider is the unrelated practice's coordinator.
    outsider = world.outsider if role == Role.COORDINATOR else member(world.unrelated_practice, role)
    login(client, outsider)
    before = _counts()
    failures = []
    for route in app_routes():
        unknown = route.kwargs - foreign.keys() - SHARED_KWARGS
        assert not unknown, f"{route.name}: add a foreign sample for URL kwarg(s) {sorted(unknown)}"
        if not route.kwargs - {"format"} - SHARED_KWARGS:
            continue
        # A key in the URL is the credential: the outsider was given none, and guesses.
        samples = foreign | GUESSED_KEYS if route.name in KEY_ROUTES else foreign
        url = reverse(route.name, kwargs={name: samples.get(name, world.center.pk) for name in route.kwargs})
        # A route without a GET may refuse it before looking the object up: 405 tells nothing.
        has_get = route.name not in ROUTE_RULES or ROUTE_RULES[route.name].read is not Need.NONE
        for method in METHODS:
            response = request(client, method, url)
            # OPTIONS too: what a route takes is no secret, but that this object exists is.
            allowed = {404} if method == "get" and has_get else {404, 405}
            if response.status_code not in allowed:
                failures.append(f"{method.upper()} {url} answered {response.status_code}")
    assert not failures, f"{outsider} ({role}):\n" + "\n".join(failures)
    assert _counts() == before, f"the outsider ({role}) changed data"


@pytest.mark.parametrize("route", [r for r in app_routes() if not (r.kwargs - {"format"})], ids=str)
def test_outsider_lists_show_no_foreign_object(
    client: Client, world: World, foreign: dict[str, Any], route: Route
) -> None:
    kwargs = {"format": "json"} if "format" in route.kwargs else {}
    url = reverse(route.name, kwargs=kwargs)
    # A search that must name a patient (the FHIR searches) names the foreign one: 404, as its objects.
    rule = ROUTE_RULES.get(route.name)
    query = rule.query.format(**foreign) if rule is not None and rule.query else ""
    allowed = {200, 403, 405} | ({404} if query else set())
    login(client, world.outsider)
    for method in ("get", "options"):
        response = request(client, method, f"{url}?{query}" if query else url, follow=True)
        assert response.status_code in allowed, f"{method.upper()} {url} answered {response.status_code}"
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
            errors="replace"
        )
        for marker in foreign_markers(world):
            assert marker not in body, f"{method.upper()} {url} shows {marker!r} to the outsider"


@pytest.mark.parametrize("route", [r for r in app_routes() if not (r.kwargs - {"format"})], ids=str)
def test_outsider_cannot_create_into_a_foreign_patient(
    client: Client, world: World, foreign: dict[str, Any], route: Route
) -> None:
    if route.name in PUBLIC_ROUTES | PERSONAL_ROUTES:
        return
    kwargs = {"format": "json"} if "format" in route.kwargs else {}
    url = reverse(route.name, kwargs=kwargs)
    login(client, world.outsider)
    payload = {
        "patient": str(world.shared_patient.pk),
        "link": foreign["link_id"],
        "site": world.unrelated_practice.pk,
        "capacity": "community_practice",
        "user": world.outsider.pk,
        "rank": "backup",
    }
    before = _counts()
    response = client.post(url, data=payload, content_type="application/json")
    assert response.status_code in {400, 403, 404, 405}, f"POST {url} answered {response.status_code}"
    assert _counts() == before, f"POST {url} changed data for the outsider"


def test_anonymous_is_refused_everywhere_but_public_routes(
    client: Client, world: World, foreign: dict[str, Any]
) -> None:
    for route in app_routes():
        if route.name in PUBLIC_ROUTES:
            continue
        if route.name in KEY_ROUTES:
            # The key is the credential, signed in or not: right, it answers; guessed, 404.
            right = {name: foreign[name] for name in route.kwargs}
            assert client.get(reverse(route.name, kwargs=right)).status_code == 200, route.name
            assert client.get(reverse(route.name, kwargs=GUESSED_KEYS)).status_code == 404, route.name
            continue
        kwargs = {name: foreign.get(name, world.center.pk) for name in route.kwargs}
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in {302, 401, 403}, f"anonymous GET {route.name}: {response.status_code}"
        if response.status_code == 302:
            assert "login" in response["Location"]


def test_outsider_is_kept_out_of_the_admin(client: Client, world: World) -> None:
    login(client, world.outsider)
    for route in all_routes():
        if route.name.startswith("admin:") and not route.kwargs and route.name not in {"admin:login", "admin:logout"}:
            response = client.get(reverse(route.name))
            assert response.status_code == 302 and "/admin/login/" in response["Location"], route.name


def request(client: Client, method: str, url: str, **extra: Any) -> Any:
    """`method` on `url` with no payload: an empty JSON body for the methods that take one."""
    if method in {"get", "options"}:
        return getattr(client, method)(url, **extra)
    return getattr(client, method)(url, data=None, content_type="application/json", **extra)


def _counts() -> tuple[object, ...]:
    return (
        Patient.objects.count(),
        CareTeamLink.objects.count(),
        CareTeamLink.objects.filter(ended_at__isnull=False).count(),
        PointPerson.objects.count(),
        SiteMembership.objects.count(),
        hash(tuple(Patient.objects.order_by("pk").values_list("updated_at", flat=True))),
        hash(tuple(Referral.objects.order_by("pk").values_list("state", flat=True))),
        ReferralDocument.objects.count(),
        hash(tuple(Milestone.objects.order_by("pk").values_list("updated_at", flat=True))),
        TimelineEntry.objects.count(),
        Alert.objects.filter(acknowledged_at__isnull=False).count(),
        hash(tuple(Handoff.objects.order_by("pk").values_list("state", "updated_at"))),
        HandoffQuestion.objects.count(),
        str(list(TherapyLine.objects.order_by("pk").values_list(*LINE_VALUES, "site_id", "recorded_by_id"))),
        hash(tuple(TransplantCandidacy.objects.order_by("pk").values_list("status", "updated_at"))),
        str(list(HandoffTemplateVersion.objects.order_by("pk").values_list("status", "schema"))),
    )
