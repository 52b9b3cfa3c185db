"""Session bookkeeping on sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from carecoord.accounts.sessions import mark_signed_in


@receiver(user_logged_in, dispatch_uid="carecoord.accounts.mark_signed_in")
def on_signed_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_signed_in(request)
