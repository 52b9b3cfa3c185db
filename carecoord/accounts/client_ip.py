"""The address a request came from, as sign-in throttling and the audit trail record it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The peer address, or, behind TRUSTED_PROXY_COUNT proxies, the address the outermost
    trusted proxy saw (entries further left in X-Forwarded-For can be forged by the client)."""
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None
