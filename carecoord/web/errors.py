"""The site's own "not found" and "not allowed" pages, with the header every page has: the
signed-in person's roles and sites. Theirs only, never anything of what was asked for: the
context holds nothing of the request but its user (Django's own handlers add the path)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carecoord.accounts.second_factor import has_passed
from carecoord.selectors.sites import active_memberships_of


def own_header(request: HttpRequest) -> dict[str, Any]:
    """The header's role and site line, for whoever passed both factors (as the navigation)."""
    user = getattr(request, "user", None)
    if user is None or not has_passed(user):
        return {}
    return {"memberships": active_memberships_of(user)}


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: nothing here, or nothing shared with the viewer's sites (the page cannot tell which)."""
    return render(request, "404.html", own_header(request), status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: a patient the viewer may see, an action their role does not allow. The exception's
    sentence is not shown: whatever raised it, the page says nothing of the object."""
    return render(request, "403.html", own_header(request), status=403)
