"""The request context the audit trail records (who, from where), and the reads it answered."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.reads import write_reads
from carecoord.request_context import request_context


class AuditContextMiddleware:
    """Makes the request being served the one audit entries are attributed to, and writes the
    reads its answer showed (`audit.reads`) once the answer is ready.

    Placed after AuthenticationMiddleware; the user is read only when an entry is written.
    If the reads cannot be written, the answer is not given (the error propagates).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request) as context:
            response = self.get_response(request)
            write_reads(context, response)
            return response
