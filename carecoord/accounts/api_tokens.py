"""Making and revoking a person's API tokens (the key is shown once, only its hash is kept)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from carecoord.models import ApiToken, User
from carecoord.models.api_tokens import hash_token_key

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
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_token_key(key), key_hint=key[:8], expires_at=expires_at
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop the token working at once; the row stays as a record."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
