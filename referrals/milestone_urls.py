"""Milestone actions from the shared timeline (owned by the timeline work)."""

from django.urls import path

urlpatterns: list = []  # type: ignore[type-arg]
