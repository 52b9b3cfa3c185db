"""Asking a signed-in person for their password again before a change to how they sign in."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest

from carecoord.models import User


def password_confirms(request: HttpRequest, user: User, password: str) -> bool:
    """Whether `password` is `user`'s, checked as the sign-in page checks it: a wrong one counts
    towards django-axes' throttle for this email and address, and a pair cooling off is refused
    (a stolen session cannot be used to guess the password)."""
    confirmed = authenticate(request, username=user.email, password=password)
    return confirmed is not None and confirmed.pk == user.pk
