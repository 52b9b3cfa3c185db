"""A URL no route matches: under /fhir/ (an unknown type, a malformed id) a 404 OperationOutcome,
elsewhere the API's or the site's 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from carecoord.api.errors import not_found as site_not_found
from fhir_api import answers


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path_info.startswith("/fhir/"):
        return answers.outcome_response(answers.not_found())
    return site_not_found(request, exception)
