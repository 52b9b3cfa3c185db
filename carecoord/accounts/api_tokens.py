"""Making and revoking a person's API tokens (the key is shown once, only its hash is kept)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from carecoord.models import ApiToken, User
from carecoord.models.api_tokens import TOKEN_PREFIX

MAX_TOKENS_PER_PERSON = 20


def api_token_create(*, user: User, name: str, expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its key, which is never shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says what uses it."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if ApiToken.objects.filter(user=user).usable().count() >= MAX_TOKENS_PER_PERSON:
        raise ValidationError({"name": f"You already have {MAX_TOKENS_PER_PERSON} tokens; revoke one first."})
    token = ApiToken(user=user, name=name, expires_at=expires_at)
    key = token.new_key(TOKEN_PREFIX)
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop the token working at once; the row stays as a record."""
    token.revoke()
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
