"""Referral pages (owned by the referral pages work)."""

from django.urls import path

urlpatterns: list = []  # type: ignore[type-arg]
