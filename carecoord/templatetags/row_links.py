"""`{% row_url "route-name" id_argument=row.id %}`: `{% url %}` for a row's id, for templates that
link every row of a list (the dashboard's work queue: about a hundred links).

`{% url %}` resolves the route again for every row (about 20 microseconds each, more under
load). This reverses each route once per process, with the first id it is given, and writes
every other id into that address (`carecoord.web.row_urls.row_url`). Only for the ids whose
text is their address (integers and UUIDs, which the `int` and `uuid` path converters take);
anything else is reversed as `{% url %}` would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from carecoord.web import row_urls

register = template.Library()

# By the URL configuration and prefix in force (a request or a test may set its own), then route.
_routes: dict[tuple[str, str, str, str], Callable[[row_urls.RowId], str]] = {}


@register.simple_tag(name="row_url")
def row_url(name: str, **argument: object) -> str:
    """The address of route `name` for the one keyword argument given (a row's id)."""
    ((kwarg, value),) = argument.items()
    if not isinstance(value, int | uuid.UUID) or isinstance(value, bool):
        return reverse(name, kwargs={kwarg: value})
    key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), name, kwarg)
    route = _routes.get(key)
    if route is None:
        route = _routes[key] = row_urls.row_url(name, kwarg, value)
    return route(value)
