"""Every route, walked with outsiders: nothing of another site's patient comes back.

The walk reads the URL configuration itself, so a new page or API route joins the matrix
without anyone adding it here. A route whose URL names an object must answer 404 for an
object the outsider cannot see, for every method and whatever the outsider's role; a list
must not show a foreign object. A route with a kwarg this module does not know fails the
test until a sample is added. Members of the care team, role by role, are walked in
`test_role_matrix`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from carecoord.accounts.api_tokens import api_token_create
from carecoord.health import heartbeat_record
from carecoord.models import CareTeamLink, Patient, PointPerson, SiteMembership, TimelineEntry
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_name_point_person
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplateVersion
from handoffs.services import template_draft
from handoffs.template_editor.services import template_create
from referrals.milestones.services import milestone_plan
from referrals.models import Milestone, Referral, ReferralDocument
from referrals.services import referral_attach_document
from tests.conftest import World, login
from tests.factories import member
from tests.referral_helpers import draft_referral
from tests.route_rules import ROUTE_RULES, Need
from tests.test_handoff_pages import sent_handoff
from toxicity.models import Alert
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db

# Routes that carry no patient data and are meant for everyone signed in (or anonymous).
PUBLIC_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.read is Need.PUBLIC}
# Routes whose writes concern only the person signed in (signing in, their account).
PERSONAL_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.write in {Need.PUBLIC, Need.SIGNED_IN}}
METHODS = ("get", "post", "put", "patch", "delete", "options")


@dataclass(frozen=True)
class Route:
    name: str
    kwargs: frozenset[str]


def _walk(patterns: list[Any], namespace: str = "", kwargs: frozenset[str] = frozenset()) -> Iterator[Route]:
    for pattern in patterns:
        groups = frozenset(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner, kwargs | groups)
        elif isinstance(pattern, URLPattern):
            yield Route(f"{namespace}{pattern.name or ''}", kwargs | groups)


def all_routes() -> list[Route]:
    return sorted(set(_walk(get_resolver().url_patterns)), key=lambda r: r.name)


def app_routes() -> list[Route]:
    routes = [r for r in all_routes() if not r.name.startswith("admin:")]
    unnamed = [r for r in routes if not r.name]
    assert not unnamed, "every route needs a name so the permission matrix can reach it"
    return routes


@pytest.fixture
def foreign(world: World, settings: Any, tmp_path: Path) -> dict[str, Any]:
    """For each URL kwarg, an object that the outsider must not reach."""
    settings.MEDIA_ROOT = str(tmp_path)
    return build_samples(world)


def build_samples(world: World) -> dict[str, Any]:
    """For each URL kwarg, an object of the shared patient (or of the center, for templates)."""
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    person = care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank=PointPerson.Rank.PRIMARY
    )
    referral = draft_referral(world)
    document = referral_attach_document(
        actor=world.community_coordinator,
        referral=referral,
        kind="pathology",
        upload=SimpleUploadedFile("pathology.pdf", b"%PDF-1.4 foreign", content_type="application/pdf"),
    )
    milestone = milestone_plan(
        actor=world.community_coordinator, referral=referral, kind="consult", planned_on=dt.date(2026, 12, 1)
    )
    event = toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind="infection",
        onset_at=timezone.now(),
        ctcae_grade=3,
        infection_site="Lung",
        organism="Aspergillus",
    )
    # Templates hold no patient data, but one owned by the center is not the outsider's to see.
    center_template = template_create(
        actor=world.center_coordinator, name="Lakeside discharge", description="", owner_site=world.center
    )
    center_version = template_draft(
        actor=world.center_coordinator, template=center_template, schema={"sections": [_ONE_SECTION]}
    )
    # Sent, so acknowledging, asking and the PDF are reachable too.
    handoff = sent_handoff(world)
    # Workers answer on both queues, so /health/ is 200 like any public page.
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE):
        heartbeat_record(queue)
    return {
        "event_id": event.pk,
        "template_id": center_template.pk,
        "version_id": center_version.pk,
        "handoff_id": handoff.pk,
        "alert_id": Alert.objects.get(event=event, recipient=world.community_oncologist).pk,
        "patient_id": world.shared_patient.pk,
        "link_id": link.pk,
        "point_person_id": person.pk,
        "membership_id": SiteMembership.objects.get(user=world.center_coordinator).pk,
        "token_id": api_token_create(user=world.center_coordinator, name="EHR bridge")[0].pk,
        "referral_id": referral.pk,
        "document_id": document.pk,
        "milestone_id": milestone.pk,
        "format": "json",
    }


_ONE_SECTION = {"key": "notes", "title": "Notes", "fields": [{"key": "note", "label": "Note", "type": "text"}]}


# Kwargs that name objects everybody may see (the site directory holds no patient data).
SHARED_KWARGS = {"site_id"}


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
        url = reverse(route.name, kwargs={name: foreign.get(name, world.center.pk) for name in route.kwargs})
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
    login(client, world.outsider)
    for method in ("get", "options"):
        response = request(client, method, url, follow=True)
        assert response.status_code in {200, 403, 405}, f"{method.upper()} {url} answered {response.status_code}"
        body = response.content.decode(errors="replace")
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
        str(list(HandoffTemplateVersion.objects.order_by("pk").values_list("status", "schema"))),
    )
