"""Nothing but signing in is reachable until the second factor is passed."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from carecoord.accounts.second_factor import has_passed, is_enrolled
from carecoord.accounts.sessions import page_redirect
from carecoord.models import User

# Pages a person signed in with a password alone may open: the second factor itself,
# signing out, and the public API description (no patient data).
OPEN_BEFORE_SECOND_FACTOR = ("login", "logout", "two-factor-verify", "two-factor-setup", "health")


class RequireSecondFactorMiddleware:
    """Sends a session that has passed the password but not the second factor to the
    verification page (or to enrollment, for someone without an authenticator yet).

    API calls are left to the API's authentication classes: an unverified session is not
    accepted there (carecoord.api.authentication), and token calls carry no session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.open_paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or has_passed(user) or self.is_open(request.path):
            return self.get_response(request)
        target = "two-factor-verify" if is_enrolled(user) else "two-factor-setup"
        url = reverse(target)
        if request.method == "GET" and request.path != "/":
            url += "?" + urlencode({"next": request.get_full_path()})
        return page_redirect(request, url)

    def is_open(self, path: str) -> bool:
        if self.open_paths is None:
            self.open_paths = frozenset(reverse(name) for name in OPEN_BEFORE_SECOND_FACTOR)
        return (
            path in self.open_paths
            or path.startswith("/api/")
            or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
        )
