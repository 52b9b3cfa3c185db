"""What the page benchmark measures: every main page and API list or detail, as a persona.

Shared by `bench.pages.run` (timings) and `bench.pages.explain` (query plans). Each target is a
GET through `django.test.Client`, signed in as `tests.helpers.login` signs in (both factors
passed), against `bench.pages.urls` (the app's URLs plus the bare view). The dashboard's work
queue is a request of its own (`/work/`, asked by htmx once the dashboard arrived); its
"milestones due" list is a part called as a function, in a request of its own as the queue
calls it (what a request looks up once, such as the person's groups, is looked up once). Comments have no
list of their own in the API (they come with the timeline; /api/patients/<id>/comments/ only
takes a POST).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.test import Client, RequestFactory

from bench.dataset import Dataset
from bench.dataset.people import PRACTICES, SMALL_PRACTICE
from bench.pages.urls import BARE
from carecoord.models import User
from carecoord.request_context import request_context
from carecoord.selectors.sites import active_memberships_of
from handoffs.models import Handoff
from referrals.models import Referral
from referrals.selectors import milestones_due
from tests.helpers import login
from toxicity.models import Alert, ToxicityEvent
from workspace.digests.services import send_due_digests
from workspace.work_queue import WORK_QUEUE_LIMIT

PAGE, API, PART = "page", "API", "part of the dashboard"
HTMX = {"HX-Request": "true"}
# The lists whose cost must not grow with the patients a person sees (goal: ≤ 1.2x from 50 to all).
FLAT = {
    "dashboard": "/",
    "work queue": "/work/",  # the dashboard's, after the page (htmx)
    "patient list": "/?page=2",  # the dashboard's results only (htmx), page 2 (1 when there is one)
    # The dashboard's results only (htmx): one practice's candidates (`CANDIDATES_SITE`), the same
    # rows for the small practice's coordinator and the network coordinator, a member there too.
    "CAR-T candidates, one practice's": "/?candidates=any&site={site}",
    "referral list": "/referrals/",
    "alerts list": "/toxicity/alerts/",
    "hand-offs list, every patient": "/handoffs/",
    "milestones due": "/milestones/due/",
    "API patients": "/api/patients/",
    "API referrals": "/api/referrals/",
    "API alerts": "/api/alerts/",
    "API toxicity events": "/api/toxicity-events/",
    "API hand-offs": "/api/handoffs/",
}


HTMX_LISTS = ("work queue", "patient list", "CAR-T candidates, one practice's")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Target:
    name: str
    kind: str  # PAGE, API or PART
    persona: str
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    call: Callable[[], object] | None = None  # a PART: timed as a function call
    flat: bool = False  # one of the FLAT lists, as one of the three people who see more and more


def candidates_site(user: User) -> int:
    """The practice whose CAR-T candidates the flatness table lists for `user`: the small one
    where they are a member there (its coordinator, the network coordinator), else their own.

    Unfiltered, the person who sees 50 patients has 8 candidates where the network coordinator
    has a page of 50: the rows shown, not the patients seen, made the second page cost 1.5 times
    the first (a page of 50 is more than 50 patients can hold beside the rest of the busy
    practice's lists). The network coordinator's page of every practice's candidates is
    measured against the bare view with the other pages."""
    sites = [membership.site for membership in active_memberships_of(user)]
    small = next((site for site in sites if site.name == PRACTICES[SMALL_PRACTICE][0]), sites[0])
    return small.pk


class Personas:
    """One signed-in client per persona, made once."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.users = {key: User.objects.get(pk=user_id) for key, user_id in dataset.personas.items()}
        self.clients = {key: login(Client(), user) for key, user in self.users.items()}


def ensure_digests(personas: Personas) -> None:
    """Each persona's weekly digest of this week, sent through the app, for the digest page."""
    send_due_digests(users=list(personas.users.values()), ignore_schedule=True)


def in_a_request[T](user: User, call: Callable[[], T]) -> T:
    """`call()` as a view would make it for `user`: in a request of its own (`request_context`)."""
    request = RequestFactory().get("/")
    request.user = user
    with request_context(request):
        return call()


def targets(personas: Personas) -> list[Target]:
    """Every measured request, as the center coordinator (about 5,000 patients) unless named
    (the CAR-T candidates of every practice: the center's coordinator has none), then the flat
    lists as the people who see 50, 500 and every patient."""
    dataset = personas.dataset
    patient = dataset.showcase_patient
    center = personas.users["center_coordinator"]
    referral = Referral.objects.filter(patient_id=patient).order_by("pk").values_list("pk", flat=True).first()
    event = ToxicityEvent.objects.filter(patient_id=patient).order_by("pk").values_list("pk", flat=True).first()
    handoff = Handoff.objects.filter(patient_id=patient).order_by("pk").values_list("pk", flat=True).first()
    alert = Alert.objects.filter(recipient=center).order_by("-pk").values_list("pk", flat=True).first()
    cc = "center_coordinator"

    def due() -> object:
        today = active_memberships_of(center)[0].site.today()
        return in_a_request(
            center, lambda: list(milestones_due(center, today, today + dt.timedelta(days=6))[: WORK_QUEUE_LIMIT + 1])
        )

    pages = {
        "dashboard": "/",
        "work queue (the dashboard's, after the page, htmx)": "/work/",
        "patient list (dashboard results, htmx)": "/?page=2",
        "CAR-T candidates (dashboard results, htmx)": "/?candidates=any",
        "patient page": f"/patients/{patient}/",
        "timeline page, 350 events": f"/patients/{patient}/timeline/",
        "referral list": "/referrals/",
        "referral page": f"/referrals/{referral}/",
        "alerts list": "/toxicity/alerts/",
        "toxicity event page": f"/toxicity/events/{event}/",
        "hand-offs list": f"/handoffs/patients/{patient}/",
        "hand-offs list, every patient": "/handoffs/",
        "milestones due page": "/milestones/due/",
        "hand-off page": f"/handoffs/{handoff}/",
        "digest page": "/digest/",
        "account page": "/account/",
    }
    apis = {
        "API patients": "/api/patients/",
        "API patient": f"/api/patients/{patient}/",
        "API referrals": "/api/referrals/",
        "API referral": f"/api/referrals/{referral}/",
        "API timeline, 350 events": f"/api/patients/{patient}/timeline/",
        "API alerts": "/api/alerts/",
        "API alert": f"/api/alerts/{alert}/",
        "API toxicity events": "/api/toxicity-events/",
        "API toxicity event": f"/api/toxicity-events/{event}/",
        "API hand-offs": "/api/handoffs/",
        "API hand-off": f"/api/handoffs/{handoff}/",
    }
    found = [Target(name, PAGE, cc, url, HTMX if "htmx" in name else {}) for name, url in pages.items()]
    found += [
        Target(
            "CAR-T candidates of every practice, as the network coordinator (50 rows; htmx)",
            PAGE,
            "sees_all",
            "/?candidates=any",
            HTMX,
        )
    ]
    found += [Target("milestones due", PART, cc, call=due)]
    found += [Target(name, API, cc, url) for name, url in apis.items()]
    sites = {persona: candidates_site(personas.users[persona]) for persona in ("sees_50", "sees_500", "sees_all")}
    found += [  # each list's three people one after the other (`bench.pages.run.measure`)
        Target(
            name,
            API if name.startswith("API") else PAGE,
            persona,
            url.format(site=site),
            HTMX if name in HTMX_LISTS else {},
            flat=True,
        )
        for name, url in FLAT.items()
        for persona, site in sites.items()
    ]
    return found


BARE_TARGET = Target("bare view (one indexed query)", PAGE, "center_coordinator", BARE)


def run_once(personas: Personas, target: Target) -> tuple[float, int, int]:
    """One timed request (or call): milliseconds, the answer's status and its size in bytes (0
    for a call)."""
    started = time.perf_counter()
    if target.call is not None:
        target.call()
        status, size = 200, 0
    else:
        response = personas.clients[target.persona].get(target.url, headers=target.headers)
        status, size = response.status_code, len(response.content)
    return (time.perf_counter() - started) * 1000, status, size
