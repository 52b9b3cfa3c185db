"""One shape for API errors: 400 with a message per field, 403/404 with a detail; never a 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from carecoord.web.errors import page_not_found


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # Model.full_clean() files cross-field errors under "__all__"; DRF calls them non_field_errors.
            errors = {
                api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
                for field, messages in exc.message_dict.items()
            }
            exc = exceptions.ValidationError(errors)
        else:
            exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL no route matches (`/api/referrals/abc/`): under /api/ a JSON 404 like every other, not the site's page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
