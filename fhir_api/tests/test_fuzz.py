"""Generated requests against /fhir/ (the FHIR routes are plain views, outside the OpenAPI schema
that `tests/test_api_fuzz.py` drives): whatever the type, id, parameters, Accept header or
method, never a server error, always FHIR JSON (a resource, a Bundle or an OperationOutcome),
and nothing of a patient outside the caller's scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_api.export import RESOURCE_TYPES
from tests.helpers import World, api_token_header, small_record

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

TYPES = st.sampled_from([*RESOURCE_TYPES, "Observation", "patient", "Bundle", "$everything", ""])
IDS = st.one_of(
    st.integers(min_value=-5, max_value=10**12).map(str),
    st.uuids().map(str),
    st.sampled_from(["referral-document-1", "handoff-1", "..", "%00", "Patient/1"]),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="/?#"), max_size=20),
)
PARAMS = st.dictionaries(
    st.sampled_from(["patient", "_id", "_format", "_count", "subject"]),
    st.one_of(IDS, st.sampled_from(["json", "xml", "application/fhir+xml", "application/fhir+json", "ttl"])),
    max_size=3,
)
ACCEPT = st.sampled_from(["", "*/*", "application/fhir+json", "application/fhir+xml", "text/html", "application/json"])
METHODS = st.sampled_from(["get", "head", "post", "put", "delete", "options"])


@pytest.fixture
def fuzzed(world: World, tmp_media: Path) -> dict[str, str]:
    small_record(world)
    return {
        "authorization": api_token_header(world.center_coordinator),
        "foreign": str(world.foreign_patient.pk),
        "foreign_name": world.foreign_patient.family_name,
        "shared": str(world.shared_patient.pk),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=TYPES,
    resource_id=st.one_of(st.none(), IDS, st.just("FOREIGN"), st.just("SHARED")),
    everything=st.booleans(),
    params=PARAMS,
    accept=ACCEPT,
    method=METHODS,
)
def test_no_request_breaks_the_fhir_endpoints(
    client: Client,
    fuzzed: dict[str, str],
    kind: str,
    resource_id: str | None,
    everything: bool,
    params: dict[str, str],
    accept: str,
    method: str,
) -> None:
    known = {"FOREIGN": fuzzed["foreign"], "SHARED": fuzzed["shared"]}
    path = f"/fhir/{kind}"
    if resource_id is not None:
        path += f"/{known.get(resource_id, resource_id)}" + ("/$everything" if everything else "")
    params = {name: known.get(value, value) for name, value in params.items()}
    headers = {"HTTP_AUTHORIZATION": fuzzed["authorization"]}
    if accept:
        headers["HTTP_ACCEPT"] = accept
    response = getattr(client, method)(path, params if method in {"get", "head"} else None, **headers)
    assert response.status_code in {200, 400, 401, 404, 405, 406}, (method, path, params, response.status_code)
    if method == "head" or (method == "options" and response.status_code == 405 and not response.content):
        return
    assert response["Content-Type"].startswith("application/fhir+json"), (method, path, response["Content-Type"])
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    if response.status_code != 200:
        assert body["resourceType"] == "OperationOutcome"
    assert fuzzed["foreign_name"] not in response.content.decode()
