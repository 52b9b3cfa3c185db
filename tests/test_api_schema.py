"""The OpenAPI schema and its Swagger UI: valid, complete, and served without any CDN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.helpers import World, api

pytestmark = pytest.mark.django_db

EXPECTED_PATHS = {
    "/api/sites/",
    "/api/sites/{site_id}/",
    "/api/memberships/",
    "/api/memberships/{membership_id}/",
    "/api/patients/",
    "/api/patients/{patient_id}/",
    "/api/care-team-links/",
    "/api/care-team-links/{link_id}/",
    "/api/care-team-links/{link_id}/end/",
    "/api/point-persons/",
    "/api/point-persons/{point_person_id}/",
}


def schema(client: APIClient) -> dict[str, Any]:
    response = client.get(reverse("api:schema"))
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_endpoint_serves_openapi_3_with_every_resource(world: World) -> None:
    document = schema(api(world.center_coordinator))
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= EXPECTED_PATHS


def test_schema_endpoint_serves_json_on_request(world: World) -> None:
    response = api(world.center_coordinator).get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_schema_documents_patient_writes_with_their_own_shapes(world: World) -> None:
    document = schema(api(world.center_coordinator))
    operations = document["paths"]["/api/patients/"]
    create_body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert create_body.endswith("/PatientCreateRequest")
    assert operations["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Patient")
    patch = document["paths"]["/api/patients/{patient_id}/"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PatchedPatientUpdateRequest"
    )


def test_schema_offers_no_name_search_on_patients(world: World) -> None:
    document = schema(api(world.center_coordinator))
    parameters = {p["name"] for p in document["paths"]["/api/patients/"]["get"]["parameters"]}
    assert parameters == {"phase", "disease_area", "site", "ordering", "page", "count"}


def test_schema_generates_without_warnings_or_errors(tmp_path: Path) -> None:
    # --fail-on-warn turns any drf-spectacular warning into an error, so the schema stays exact.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]


def test_swagger_ui_renders_from_local_static_files_only(world: World) -> None:
    response = api(world.center_coordinator).get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    for cdn in ("cdn.", "unpkg", "jsdelivr", "cdnjs", "googleapis"):
        assert cdn not in html


def test_schema_documents_the_error_answers_of_each_operation(world: World) -> None:
    # Found by the schema fuzz test: only the 2xx answers were documented.
    paths = schema(api(world.center_coordinator))["paths"]
    assert set(paths["/api/sites/"]["get"]["responses"]) == {"200", "400", "401", "404"}
    assert set(paths["/api/sites/{site_id}/"]["get"]["responses"]) == {"200", "401", "404"}
    assert set(paths["/api/patients/"]["post"]["responses"]) == {"201", "400", "401", "403", "415"}
    # Acknowledging twice is a 400 although no body is sent.
    acknowledge = paths["/api/alerts/{alert_id}/acknowledge/"]["post"]["responses"]
    assert set(acknowledge) == {"200", "400", "401", "403", "404"}
    not_found = acknowledge["404"]["content"]["application/json"]["schema"]["$ref"]
    assert not_found.endswith("/Error")
    assert acknowledge["400"]["content"]["application/json"]["schema"]["type"] == "object"


def test_every_list_the_api_answers_comes_in_pages(world: World) -> None:
    document = schema(api(world.center_coordinator))
    paths, components = document["paths"], document["components"]["schemas"]
    unpaged = []
    for path, operations in paths.items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        body = answer.get("application/json", {}).get("schema", {})
        if body.get("type") == "array":
            unpaged.append(path)
    assert unpaged == []
    # A patient's timeline and comments too: the entries that grow come a page at a time.
    for path in ("/api/patients/{patient_id}/timeline/", "/api/patients/{patient_id}/comments/"):
        get = paths[path]["get"]
        assert "page" in {parameter["name"] for parameter in get["parameters"]}, path
        page = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert {"count", "next", "previous", "results"} <= set(components[page]["properties"]), path
