"""How the FHIR endpoints answer: FHIR JSON, and every refusal as an OperationOutcome."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from fhir_api.codes import FHIR_JSON

CONTENT_TYPE = f"{FHIR_JSON}; charset=utf-8"


class Refusal(Exception):
    """A request the FHIR endpoints refuse: answered as an OperationOutcome with `status`.

    `code` is FHIR's issue type (not-found, login, not-supported, required…); the message names
    no patient data (an id the caller sent is not echoed back)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def fhir_response(resource: Resource, status: int = 200) -> HttpResponse:
    return HttpResponse(resource.model_dump_json(), status=status, content_type=CONTENT_TYPE)


def outcome_response(refusal: Refusal) -> HttpResponse:
    outcome = OperationOutcome.model_validate(
        {"issue": [{"severity": "error", "code": refusal.code, "diagnostics": refusal.message}]}
    )
    response = fhir_response(outcome, status=refusal.status)
    for name, value in refusal.headers.items():
        response[name] = value
    return response


def issues_response(status: int, issues: list[Any]) -> HttpResponse:
    """A refused bundle: one OperationOutcome issue per problem, each pointing at its element."""
    outcome = OperationOutcome.model_validate(
        {
            "issue": [
                {
                    "severity": "error",
                    "code": issue.code,
                    "diagnostics": issue.diagnostics,
                    "expression": [issue.expression],
                }
                for issue in issues
            ]
        }
    )
    return fhir_response(outcome, status=status)


def not_found() -> Refusal:
    """The one answer for what does not exist and what the caller may not see: nobody learns
    whether an object exists."""
    return Refusal(404, "not-found", "No such resource, or not one you may see.")
