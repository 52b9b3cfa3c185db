"""Who is acting, and from where: the request being served, if any.

`AuditContextMiddleware` puts the request here for the length of the request. The actor is
read from it only when an entry is written, so a user authenticated later (DRF token
authentication runs inside the view and sets the user on the underlying Django request) is
the one recorded. Celery tasks and management commands have no request: the system acts.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

from carecoord.accounts.client_ip import client_ip
from carecoord.models import User

if TYPE_CHECKING:
    from carecoord.access.scope import AccessKey


@dataclass(frozen=True)
class Read:
    """What one patient's read was: recorded when the request has been answered (`audit.reads`)."""

    action: str
    what: str
    object_type: str
    object_id: str


@dataclass
class RequestContext:
    """The request being served; what was already looked up for it: the acting sites, users'
    access keys (by user id) and their grants on patients (by user and patient id: site id to
    capabilities, empty for none; forgotten whenever grants are written); and the patients its
    answer shows (by patient id; the first declaration for a patient is kept)."""

    request: HttpRequest
    sites: dict[tuple[int, uuid.UUID], int] = field(default_factory=dict)
    reads: dict[uuid.UUID, Read] = field(default_factory=dict)
    access: dict[int, AccessKey] = field(default_factory=dict)
    grants: dict[tuple[int, uuid.UUID], dict[int, frozenset[str]]] = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)
_declared_site: ContextVar[int | None] = ContextVar("audit_declared_site", default=None)


@contextmanager
def request_context(request: HttpRequest) -> Iterator[RequestContext]:
    """Make `request` the one audit entries are attributed to, until the block ends."""
    context = RequestContext(request)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


@contextmanager
def acting_at(site_id: int) -> Iterator[None]:
    """Attribute what is written in the block to `site_id`, for a service that has checked that
    the actor works there but whose patient is not yet on that site's care team (registering)."""
    token = _declared_site.set(site_id)
    try:
        yield
    finally:
        _declared_site.reset(token)


def note_acting_site(user_id: int, patient_id: uuid.UUID, site_id: int) -> None:
    """Record that, in this request, `user_id` acts for `site_id` on the patient (what a service
    checked with `carecoord.access.acting`), so what it writes is attributed to that site."""
    context = _current.get()
    if context is not None:
        context.sites[(user_id, patient_id)] = site_id


def current() -> RequestContext | None:
    return _current.get()


@dataclass(frozen=True)
class Actor:
    """Who an entry is attributed to: a signed-in user, or nobody (the system)."""

    user: User | None
    ip_address: str | None
    in_request: bool

    @property
    def label(self) -> str:
        if self.user is not None:
            return ""
        return " (anonymous request)" if self.in_request else " by the system"


def _ip_of(request: HttpRequest | Request) -> str | None:
    # The peer address, or the one TRUSTED_PROXY_COUNT proxies vouch for (as sign-in throttling).
    address = client_ip(request._request if isinstance(request, Request) else request) or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def current_actor() -> Actor:
    """Who acts now: the user of the request being served, or the system outside requests."""
    context = _current.get()
    if context is None:
        return Actor(user=None, ip_address=None, in_request=False)
    return actor_of_request(context.request)


def actor_of_request(request: HttpRequest | Request) -> Actor:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Actor(user=None, ip_address=_ip_of(request), in_request=True)
    # A SimpleLazyObject from AuthenticationMiddleware, or the User DRF authenticated.
    real = getattr(user, "_wrapped", user)
    return Actor(user=real if isinstance(real, User) else None, ip_address=_ip_of(request), in_request=True)


def acting_site_id(user: User | None, patient_id: uuid.UUID | None) -> int | None:
    """The site `user` acts for on the patient: the one a service chose (`note_acting_site`),
    else the first of their sites on the patient's care team (`carecoord.access.acting`).

    Looked up once per request and patient; "none yet" is not kept, because registering a
    patient puts the site on the care team a moment after the patient row is written.
    """
    if user is None or patient_id is None:
        return None
    declared = _declared_site.get()
    if declared is not None:
        return declared
    context = _current.get()
    key = (user.pk, patient_id)
    if context is not None and key in context.sites:
        return context.sites[key]
    site_id = acting_site_ids(user, [patient_id]).get(patient_id)
    if context is not None and site_id is not None:
        context.sites[key] = site_id
    return site_id


def acting_site_ids(user: User | None, patient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For each patient, the first site (by name) `user` may act for on it (the one rule, in
    `carecoord.access.acting`); patients with none are left out. One query for all of them."""
    if user is None or not patient_ids:
        return {}
    from carecoord.access.acting import first_acting_site_ids  # the access package notes through this module

    return first_acting_site_ids(user, patient_ids)
