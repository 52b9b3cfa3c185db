"""What every page needs: the viewer's zone, the actor, htmx requests, refusals as flash messages,
loading a visible object (404 for outsiders) before answering 405."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from carecoord.access.scope import AnyUser
from carecoord.models import User
from carecoord.zones import viewer_zone as viewer_zone  # every page's zone: one rule (carecoord.zones)

SAFE = ("GET", "HEAD")
SAFE_AND_POST = ("GET", "HEAD", "POST")
POST = ("POST",)


class HtmxHttpRequest(HttpRequest):
    """A request that has passed through django-htmx's middleware (for type checking)."""

    htmx: HtmxDetails


def actor(request: HttpRequest) -> User:
    """The signed-in person, typed for the services; every page view is `login_required`."""
    return cast(User, request.user)


def next_or(request: HttpRequest, default: str) -> str:
    """Where to go after an action: the form's own `next` (a page of this site only), else `default`.

    A work-queue button acknowledges in one click and brings the person back to their queue."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def flash_errors(request: HttpRequest, error: ValidationError) -> None:
    """A refused action that has no form to show its errors on: each message as a flash error."""
    for message in error.messages:
        messages.error(request, message)


def loads[LoadedT, RequestT: HttpRequest](
    loader: Callable[[AnyUser, Any], LoadedT], kwarg: str, *, methods: Sequence[str]
) -> Callable[[Callable[[RequestT, LoadedT], HttpResponse]], Callable[..., HttpResponse]]:
    """Load the URL's object through the access path, then answer 405 to any other method.

    The order is the point: an object outside the viewer's scope is a 404 whatever the method,
    so a 405 never tells an outsider that the object exists. The view gets the loaded object in
    place of the URL's `kwarg`. Put it under `login_required`, so the loader sees a person.
    """
    allowed = list(methods)

    def decorate(view: Callable[[RequestT, LoadedT], HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def load_then_check_method(request: RequestT, **url_kwargs: Any) -> HttpResponse:
            loaded = loader(request.user, url_kwargs[kwarg])
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, loaded)

        return load_then_check_method

    return decorate
