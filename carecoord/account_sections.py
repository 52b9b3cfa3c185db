"""Sections of the account page contributed by the apps above the core.

The account page (`carecoord.web.account`) belongs to the core, which imports no app above it;
an app with something a person manages for themselves (their calendar feeds) registers a
section in its `AppConfig.ready`, and the page renders every registered section after its own,
in `order`, each with its template and the context its `context` gives for the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from carecoord.models import User


@dataclass(frozen=True)
class AccountSection:
    """One registered section: its template, rendered with what `context` returns."""

    name: str
    order: int
    template: str
    context: Callable[[HttpRequest, User], dict[str, Any]]


@dataclass(frozen=True)
class RenderedSection:
    """A section as read for one person, for the page's template."""

    template: str
    context: dict[str, Any]


_registry: dict[str, AccountSection] = {}


def register_account_section(section: AccountSection) -> AccountSection:
    if any(other.order == section.order and other.name != section.name for other in _registry.values()):
        raise ValueError(f"Account section {section.name!r}: order {section.order} is taken.")
    _registry[section.name] = section
    return section


def account_sections(request: HttpRequest, user: User) -> list[RenderedSection]:
    """Every registered section for `user`, in order."""
    return [
        RenderedSection(template=section.template, context=section.context(request, user))
        for section in sorted(_registry.values(), key=lambda section: section.order)
    ]
