"""The lists of the dashboard's work queue, each contributed by the app whose work it lists.

Each app registers its lists in its `AppConfig.ready`; the dashboard (`workspace.work_queue`)
reads every list, each in one query, and renders each with the list's own template, in the
list's `slot` and `order`.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Model, QuerySet

from carecoord.access.scope import AnyUser, access_shape
from carecoord.kept_statements import KeptStatement
from carecoord.models import SiteMembership
from carecoord.request_context import current
from carecoord.roles import Capability
from carecoord.selectors.sites import sites_where_role_can


class Slot(StrEnum):
    """Where on the dashboard a list goes."""

    NOTICE = "notice"  # above the queue: work that cannot wait for the lists
    URGENT = "urgent"  # a highlighted band, shown only for the lists that hold something
    LISTS = "lists"  # the lists shown always, each with its empty note


@dataclass(frozen=True)
class QueueScope:
    """Whose queue, as every list needs it."""

    user: AnyUser
    memberships: list[SiteMembership]
    today: dt.date  # in site time, at the viewer's first site
    week_end: dt.date
    limit: int  # rows to read: one more than the page shows tells it the list goes on

    @property
    def recording(self) -> list[int]:
        """The viewer's sites where their role may record care: the lists of work to do at a
        site are listed there (the memberships' sites and roles are part of the shape)."""
        return sites_where_role_can(self.memberships, Capability.RECORD_CARE)


# How many shapes of viewer (`built_per_shape`) each list keeps its query built for. A shape
# kept costs about 360 KB over the dashboard's lists (measured with tracemalloc on the benchmark
# database), so at most about 23 MB a process; past it, the least recent is built again.
SHAPES_KEPT = 64


def _shape_of(scope: QueueScope, *, per_user: bool, dated: bool) -> Hashable:
    return (
        access_shape(scope.user),
        tuple((m.site_id, m.role) for m in scope.memberships),
        scope.limit,
        scope.user.pk if per_user else None,
        scope.today if dated else None,
    )


def _kept_per_shape[T](build: Callable[[QueueScope], T], *, per_user: bool, dated: bool) -> Callable[[QueueScope], T]:
    """`build(scope)`, kept by the scope's shape (the `SHAPES_KEPT` most recent), only while a
    request is served: the shape and the built query each read the viewer's groups
    (`access_key`), which a request reads once for both; outside one, they could read them apart
    (a change in between would file a query built for the new groups under the old ones). The
    cache holds shapes (ids) and built queries, not the viewer who first asked (a list of the
    viewer's own, `per_user`, holds its owner)."""
    kept: OrderedDict[Hashable, T] = OrderedDict()
    lock = threading.Lock()

    def read(scope: QueueScope) -> T:
        if current() is None:
            return build(scope)
        shape = _shape_of(scope, per_user=per_user, dated=dated)
        with lock:
            if shape in kept:
                kept.move_to_end(shape)
                return kept[shape]
        value = build(scope)
        with lock:
            kept[shape] = value
            while len(kept) > SHAPES_KEPT:
                kept.popitem(last=False)
        return value

    return read


def built_per_shape[Q: QuerySet[Any, Any]](
    *, per_user: bool = False, dated: bool = False
) -> Callable[[Callable[[QueueScope], Q]], Callable[[QueueScope], Q]]:
    """A list's query, built once per process for each shape of viewer, then copied.

    Building a list's query (its filters, joins and the access subquery resolved by the ORM)
    cost 0.4-2.5 ms a list, about 8 ms of every work queue (the center coordinator's, on the
    benchmark database); a copy of it costs 0.01-0.02 ms. The built query holds no rows (only
    copies of it are read), and its statement depends on the scope only through the shape: the
    viewer's access shape (`access_shape`: their groups' ids, not the grants, which are read
    when the statement runs), their sites and roles there, the row limit, and the viewer
    themselves if `per_user` (their own alerts) or the day if `dated` (due by the week's end).
    The clock (`timezone.now()`) must not enter it: filter the copy. A list read as it was
    built keeps its statement too (`read_per_shape`).
    """

    def decorator(build: Callable[[QueueScope], Q]) -> Callable[[QueueScope], Q]:
        kept = _kept_per_shape(build, per_user=per_user, dated=dated)

        @functools.wraps(build)
        def copy(scope: QueueScope) -> Q:
            return kept(scope).all()

        return copy

    return decorator


def read_per_shape[M: Model](
    *, per_user: bool = False, dated: bool = False
) -> Callable[[Callable[[QueueScope], QuerySet[M]]], Callable[[QueueScope], list[M]]]:
    """A list's rows, read by its query built once per process for each shape of viewer (as
    `built_per_shape`) and compiled once (`KeptStatement`): for the lists read as they were
    built, with no filter of the clock added."""

    def decorator(build: Callable[[QueueScope], QuerySet[M]]) -> Callable[[QueueScope], list[M]]:
        def statement(scope: QueueScope) -> KeptStatement[M]:
            return KeptStatement(build(scope))

        kept = _kept_per_shape(statement, per_user=per_user, dated=dated)

        @functools.wraps(build)
        def read(scope: QueueScope) -> list[M]:
            return kept(scope).read()

        return read

    return decorator


def _itself(item: Any) -> Model:
    return item


@dataclass(frozen=True)
class QueueList:
    """One registered list.

    `order` places it in its slot. `read_order` places its objects in what the dashboard
    declares read: the first object shown of a patient is the one the audit trail records,
    so this order is part of the record. `template` renders the list from `section` (a
    `QueueSection`). `cut`: the page shows only the first `limit` rows (else every row);
    `object_of` is the patient-data object a row shows. `patients` gives the ids of every
    patient with work in the list (uncut, as a subquery of one `patient_id` column): the patient
    list's "needs my action" filter reads the same rule as the list. `shares`: what the rest of
    the page would read again and takes from the list's rows instead, by context name (the
    header's count of the viewer's open alerts, which the alerts list counts as it reads them).
    """

    name: str
    slot: Slot
    order: int
    read_order: int
    template: str
    items: Callable[[QueueScope], Sequence[Any]]
    cut: bool = True
    object_of: Callable[[Any], Model] = _itself
    patients: Callable[[QueueScope], QuerySet[Any]] | None = None
    shares: Callable[[Sequence[Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class QueueSection:
    """One list as read for a viewer, for its template."""

    name: str
    template: str
    items: list[Any]
    limit: int  # rows shown
    scope: QueueScope


_registry: dict[str, QueueList] = {}


def register_queue_list(entry: QueueList) -> QueueList:
    if any(
        other.order == entry.order and other.slot == entry.slot and other.name != entry.name
        for other in _registry.values()
    ):
        raise ValueError(f"Work-queue list {entry.name!r}: order {entry.order} in {entry.slot} is taken.")
    _registry[entry.name] = entry
    return entry


def queue_lists() -> list[QueueList]:
    """Every registered list, in the order they are read from the database (their `order`
    within each slot, slots top to bottom)."""
    slots = list(Slot)
    return sorted(_registry.values(), key=lambda entry: (slots.index(entry.slot), entry.order))
