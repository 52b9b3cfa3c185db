from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

# "cc_" + 40 URL-safe characters: recognisable in a leaked log or a secret scanner's rules.
TOKEN_PREFIX = "cc_"  # noqa: S105 - a marker, not a secret


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class HashedKey(models.Model):
    """A person's secret key that works without signing in (an API token, a calendar feed).

    Only a SHA-256 hash of the key is stored (`hash_token_key`); the key itself is shown once,
    when it is made (`new_key`). Revoking stops it at once; the row stays as a record.
    """

    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(max_length=12, editable=False, help_text="The first characters of the key.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def new_key(self, prefix: str) -> str:
        """Give this row a new key starting with `prefix` (keeping its hash and first
        characters); returns the key, which nothing keeps."""
        key = prefix + secrets.token_urlsafe(30)
        self.key_hash = hash_token_key(key)
        self.key_hint = key[:8]
        return key

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(HashedKey):
    """A named key with which one person's programs call the API on their behalf.

    A person may hold several (one per program) and revoke any of them (see `HashedKey`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'EHR bridge'.")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[ApiTokenQuerySet] = ApiTokenQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"
