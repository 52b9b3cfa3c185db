"""The OpenAPI schema states the error answers too, in the shapes `carecoord.api.errors` gives them.

Without them a client generated from the schema knows only the happy path, and every 400 or 404
the API rightly returns contradicts the document it publishes.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS


class ErrorSerializer(serializers.Serializer[Any]):
    """A refusal with one message: not signed in (401), not allowed (403), not found (404), unreadable (415)."""

    detail = serializers.CharField(help_text="Why the request was refused.")


VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "Bad input: a list of messages per field (`non_field_errors` for the request as a whole; "
        "nested fields nest), or `detail` when the body cannot be parsed at all."
    ),
)
NOT_SIGNED_IN = OpenApiResponse(ErrorSerializer, description="No valid credentials.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Your role or the object's state does not allow this.")
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ErrorSerializer, description="The body is not in one of the media types the operation accepts, or cannot be read."
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such object, or one outside your scope (the two are not told apart)."
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the 400/401/403/404/415 answers each operation can give."""

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            # An answer an operation documents itself wins.
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        errors = {"401": NOT_SIGNED_IN}
        if self.method not in SAFE_METHODS:
            # Services refuse a change the object's state does not allow with 400 even when no
            # body is sent (acknowledging twice); roles are checked there too (403).
            errors["400"] = VALIDATION_ERROR
            errors["403"] = FORBIDDEN
            if self.get_request_serializer() is not None:
                errors["415"] = UNSUPPORTED_MEDIA_TYPE
        elif self._get_filter_parameters():
            errors["400"] = VALIDATION_ERROR
        # Objects behind a URL come from scoped selectors; a page past the last one is a 404 too.
        if "{" in self.path or self._get_pagination_parameters():
            errors["404"] = NOT_FOUND
        return errors
