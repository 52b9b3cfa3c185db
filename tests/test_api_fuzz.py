"""Schemathesis against the app's own /api/schema/: no server error, no answer the schema does not describe.

Each generated call is followed by OPTIONS on the same URL, which no schema describes: it must
answer JSON without a server error, whatever the path parameters.

Every operation is called as the center coordinator over a token, on a database holding one of
each object the API serves (referral, milestones, documents, toxicity events, alerts, hand-offs).
Most generated ids are swapped for the ids of those objects (and of one patient outside the
coordinator's scope), so calls reach real objects rather than only 404s.

The schema is loaded at collection and each operation is its own test: `schemathesis.pytest.
from_fixture`, which would load it inside a fixture, does not run under pytest 9.2 (it sets
`Node._nodeid`, which pytest no longer has).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from candidates.services import therapy_line_record
from carecoord.models import Product
from carecoord.services.comments import comment_post
from handoffs.models import Handoff
from referrals.milestones.services import milestone_plan, milestone_set_infusion
from referrals.models import Milestone
from referrals.services import referral_attach_document
from tests.helpers import (
    CRS_GRADE_3,
    NOW,
    World,
    accept,
    api,
    api_token_header,
    draft_referral,
    login,
    name_point_persons,
    sent,
    started,
)
from toxicity.models import Alert
from toxicity.services import toxicity_record

# Hypothesis examples per operation in the fuzzing phase; the examples and coverage phases add
# their own fixed cases. Enough to find the shapes that break, few enough for a couple of minutes.
MAX_EXAMPLES = 15
# How often a generated id is replaced by one of the seeded ids rather than left random.
KNOWN_ID_PROBABILITY = 0.8


@dataclass
class Seeded:
    """Ids of the objects behind the API's URLs, by the name of the parameter that takes them."""

    ids: dict[str, list[Any]]
    authorization: str


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests through the WSGI app stay in the test's transaction, as with Django's test client.

    The handler closes the connection after each request, and with it the transaction holding the
    seeded data: the test client disconnects the same receivers while it calls the app.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def seeded(world: World, tmp_path: Path, in_test_transaction: None) -> Iterator[Seeded]:
    # Day +9 after the 2027-01-11 infusion, so toxicities and alerts have a day to be graded on.
    with (
        time_machine.travel(NOW, tick=False),
        override_settings(MEDIA_ROOT=str(tmp_path), ALLOWED_HOSTS=["localhost"]),
    ):
        name_point_persons(world)
        referral = draft_referral(world)
        # Documents go on an open referral; it is accepted afterwards, so that it has milestones.
        document = referral_attach_document(
            actor=world.community_coordinator,
            referral=referral,
            kind="labs",
            upload=SimpleUploadedFile("labs.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
        )
        referral = accept(world, referral)
        milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 11))
        # The referral is made today for a course that began weeks ago: the early date is confirmed.
        milestone_plan(
            actor=world.center_coordinator,
            referral=referral,
            kind="apheresis",
            planned_on=dt.date(2026, 12, 20),
            confirm_date=True,
        )
        event = toxicity_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            kind="crs",
            onset_at=NOW - dt.timedelta(hours=1),
            inputs=CRS_GRADE_3,
        )
        comment_post(actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, body="Fever")
        sent(world)
        started(world, name="Post-CAR-T transition to community care")
        line = therapy_line_record(
            actor=world.community_coordinator,
            patient=world.shared_patient,
            site=world.practice,
            number=1,
            regimen="VRd",
            drug_classes=["pi", "imid"],
            lenalidomide=True,
            started_on=dt.date(2026, 1, 5),
        )
        center_link = world.shared_patient.care_team.get(site=world.center)
        yield Seeded(
            ids={
                "patient_id": [str(world.shared_patient.pk), str(world.foreign_patient.pk)],
                "referral_id": [referral.pk],
                "milestone_id": list(Milestone.objects.filter(referral=referral).values_list("pk", flat=True)),
                "document_id": [document.pk],
                "event_id": [event.pk],
                "line_id": [line.pk],
                "alert_id": list(Alert.objects.filter(event=event).values_list("pk", flat=True)),
                "handoff_id": list(Handoff.objects.values_list("pk", flat=True)),
                "template_id": list(Handoff.objects.values_list("version__template_id", flat=True).distinct()),
                "link_id": list(world.shared_patient.care_team.values_list("pk", flat=True)),
                "point_person_id": list(center_link.point_persons.values_list("pk", flat=True)),
                "membership_id": list(world.center_coordinator.memberships.values_list("pk", flat=True)),
                "site_id": [world.center.pk, world.practice.pk],
                "product_id": list(Product.objects.values_list("pk", flat=True)[:2]),
                # Bodies and filters refer to the same objects.
                "patient": [str(world.shared_patient.pk)],
                "site": [world.center.pk, world.practice.pk],
                "from_site": [world.center.pk, world.practice.pk],
                "to_site": [world.center.pk, world.practice.pk],
                "to_center": [world.center.pk],
                "referral": [referral.pk],
                "link": [center_link.pk],
                "user": [world.center_coordinator.pk],
                "referring_physician": [world.community_oncologist.pk],
            },
            authorization=api_token_header(world.center_coordinator),
        )


def aim_at_seeded_objects(case: schemathesis.Case, data: st.DataObject, seeded: Seeded) -> None:
    """Most of the time, swap a generated id for a seeded one, so the call reaches a real object."""
    for container in (case.path_parameters, case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name in container:
            known = seeded.ids.get(name)
            if known and data.draw(st.floats(0, 1)) < KNOWN_ID_PROBABILITY:
                container[name] = data.draw(st.sampled_from(known))


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20270111,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {
            # Every other check runs. This one wants a 2xx for any request the schema allows, but
            # the API rightly refuses many of those with 400: rules across fields and objects (an
            # open referral to that center already exists, a move the workflow does not allow, a
            # date before the infusion) are not JSON Schema, and the services are what enforce them.
            "positive_data_acceptance": {"enabled": False},
            # This one wants a 4xx for anything outside the schema, but two conventions of the
            # libraries the API is built on read some such values as "not given": django-filter
            # and DRF's paginator treat an empty query value as absent (`?kind=` lists every site,
            # `?page=` the first page), and DRF's form parsers read a nested object sent as one
            # flat form field as absent too. Both are lenient, not wrong; 5xx and responses that
            # break the schema are still checked on those same negative requests.
            "negative_data_rejection": {"enabled": False},
        },
    }
)
# Loaded once at collection, from the endpoint itself: building the schema needs no database.
# Schemathesis calls the WSGI app as http://localhost/.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


@pytest.mark.fuzz
@schema.parametrize()
@schema.given(data=st.data())
# The seeded objects are shared by the examples of an operation on purpose: what one call
# changed (a milestone completed, a hand-off sent) is state the next call should meet.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_answers_as_its_schema_says(case: schemathesis.Case, data: st.DataObject, seeded: Seeded) -> None:
    aim_at_seeded_objects(case, data, seeded)
    case.call_and_validate(headers={"Authorization": seeded.authorization})
    # OPTIONS is in no schema, so it is no operation of its own: it is asked on the same URL.
    options = schemathesis.Case(
        operation=case.operation,
        method="OPTIONS",
        path=case.path,
        path_parameters=dict(case.path_parameters),
        query=dict(case.query),
    )
    response = options.call(headers={"Authorization": seeded.authorization})
    assert response.status_code < 500, f"OPTIONS {case.formatted_path}: {response.status_code}"
    assert response.headers.get("content-type") == ["application/json"], response.headers


@pytest.mark.parametrize("url", ["/api/referrals/null/", "/api/sites/-1/", "/api/no-such-resource/"])
def test_api_url_matching_no_route_is_a_json_404(world: World, url: str) -> None:
    # Found by the fuzz test: an id the route's pattern refuses got the site's HTML page.
    response = api(world.center_coordinator).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_page_matching_no_route_is_still_the_sites_html_404(world: World) -> None:
    response = login(Client(), world.center_coordinator).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
