"""How API callers prove who they are: a personal token, or a session that passed the second factor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from carecoord.accounts.second_factor import has_passed
from carecoord.models import ApiToken, User
from carecoord.models.api_tokens import hash_token_key

# Recording every use would write a row per request; a few minutes' precision is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token cc_…` with a key from the person's API tokens page."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.usable().select_related("user").filter(key_hash=hash_token_key(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session, accepted only once it has passed the second factor."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        if not has_passed(request._request.user):
            raise exceptions.NotAuthenticated("Finish signing in with your second factor first.")
        return result


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """Describes the session cookie in the OpenAPI schema, as drf-spectacular does for Django's own."""

    target_class = "carecoord.api.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
