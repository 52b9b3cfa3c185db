"""Responses that may carry patient data must not be kept by browsers or proxies."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every page and API response: the one place it is set,
    so no view has to remember it.

    Static files never reach this middleware (WhiteNoise answers them first, with long-lived
    caching), so everything that gets here is application output that may name a patient.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
