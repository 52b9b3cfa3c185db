"""Generated requests against /fhir/ (the FHIR routes are plain views, outside the OpenAPI schema
that `tests/test_api_fuzz.py` drives): whatever the type, id, parameters, Accept header or
method, never a server error, always FHIR JSON (a resource, a Bundle or an OperationOutcome),
and nothing of a patient outside the caller's scope. Referral bundles with any element changed
or removed: never a server error, and a refused one writes nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.models import Patient
from fhir_api.export import RESOURCE_TYPES
from referrals.models import Referral, ReferralDocument
from tests.helpers import World, api_token_header, referral_bundle, small_record

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
    # 403: the center coordinator posting a referral bundle (the intake at /fhir/Bundle).
    assert response.status_code in {200, 400, 401, 403, 404, 405, 406}, (method, path, params, response.status_code)
    if method == "head" or (method == "options" and response.status_code == 405 and not response.content):
        return
    assert response["Content-Type"].startswith("application/fhir+json"), (method, path, response["Content-Type"])
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    if response.status_code != 200:
        assert body["resourceType"] == "OperationOutcome"
    assert fuzzed["foreign_name"] not in response.content.decode()


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=12),
    st.sampled_from(["Patient", "Organization/1", "urn:uuid:x", "2026-13-40", "application/pdf", "JVBERi0=", ""]),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _mutated(bundle: Any, path: list[int], value: Any, delete: bool) -> Any:
    """`bundle` with the element reached by walking `path` (each step an index into the keys or
    items met) replaced by `value`, or deleted."""
    node = bundle
    for step in path:
        children = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not children:
            break
        key = children[step % len(children)]
        child = node[key]
        if not isinstance(child, dict | list) or not child or step % 3 == 0:
            if delete and isinstance(node, dict):
                del node[key]
            else:
                node[key] = value
            return bundle
        node = child
    return bundle


@pytest.fixture
def poster(world: World, tmp_media: Path) -> dict[str, Any]:
    return {
        "authorization": api_token_header(world.community_coordinator),
        "bundle": referral_bundle(
            mrn_site=world.practice, mrn="FUZZ-1", center=world.center, physician=world.community_oncologist
        ),
        "media": tmp_media,
    }


def _rows() -> tuple[int, ...]:
    return (Patient.objects.count(), Referral.objects.count(), ReferralDocument.objects.count())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
    value=JSON_VALUE,
    delete=st.booleans(),
)
def test_no_bundle_breaks_the_intake(
    client: Client, poster: dict[str, Any], path: list[int], value: Any, delete: bool
) -> None:
    """Whatever element of a referral bundle is changed or removed: never a server error, always
    FHIR JSON, and a refused bundle writes nothing (rows or files)."""
    bundle = _mutated(copy.deepcopy(poster["bundle"]), path, value, delete)
    before, files = _rows(), sorted(poster["media"].rglob("*"))
    response = client.post(
        reverse("fhir-bundle"),
        data=json.dumps(bundle),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=poster["authorization"],
    )
    assert response.status_code in {200, 201, 400, 422}, (bundle, response.content)
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    if response.status_code >= 400:
        assert body["resourceType"] == "OperationOutcome"
        assert all(issue.get("expression") for issue in body["issue"])
        assert _rows() == before and sorted(poster["media"].rglob("*")) == files
