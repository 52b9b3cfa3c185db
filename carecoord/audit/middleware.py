"""The request context the audit trail records (who, from where)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from carecoord.audit.context import request_context


class AuditContextMiddleware:
    """Makes the request being served the one audit entries are attributed to.

    Placed after AuthenticationMiddleware; the user is read only when an entry is written.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request):
            return self.get_response(request)
