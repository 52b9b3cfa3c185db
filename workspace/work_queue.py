"""The dashboard's work queue: every app's lists (`carecoord.work_queue`), read for one viewer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils import timezone

from carecoord.access.scope import AnyUser
from carecoord.models import SiteMembership
from carecoord.work_queue import QueueList, QueueScope, QueueSection, Slot, queue_lists

WORK_QUEUE_LIMIT = 10


@dataclass(frozen=True)
class WorkQueue:
    """The short lists of what needs doing, each read in one query, by slot in their order."""

    sections: list[QueueSection]
    slots: dict[Slot, list[QueueSection]]
    objects_shown: list[Model]  # what the page shows of the queue, for the audit trail
    shared: dict[str, Any]  # what the rest of the page takes from the lists' rows (`QueueList.shares`)

    @property
    def notices(self) -> list[QueueSection]:
        return self.slots[Slot.NOTICE]

    @property
    def urgent(self) -> list[QueueSection]:
        """The urgent lists that hold something: the band shows only those."""
        return [section for section in self.slots[Slot.URGENT] if section.items]

    @property
    def lists(self) -> list[QueueSection]:
        return self.slots[Slot.LISTS]

    def rows(self, name: str) -> list[Any]:
        """A list's rows by its registered name (`queue.rows("waiting")`)."""
        for section in self.sections:
            if section.name == name:
                return section.items
        raise KeyError(name)


def _shown(entry: QueueList, items: list[Any], limit: int) -> list[Model]:
    """The objects of the rows the page shows (the first `limit` of a cut list)."""
    return [entry.object_of(item) for item in (items[:limit] if entry.cut else items)]


def queue_scope(user: AnyUser, memberships: list[SiteMembership]) -> QueueScope:
    """Whose queue: `user`, as their `memberships` let them do the work, today at their first site."""
    today = memberships[0].site.today() if memberships else timezone.localdate()
    # One extra row tells the template that the list goes on.
    return QueueScope(
        user=user,
        memberships=memberships,
        today=today,
        week_end=today + dt.timedelta(days=6),
        limit=WORK_QUEUE_LIMIT + 1,
    )


def work_queue_of(scope: QueueScope) -> WorkQueue:
    """Every registered list for the viewer of `scope` (`queue_scope`: the page's own, which its
    patient list reads too), as their memberships let them do the work."""
    sections: list[QueueSection] = []
    slots: dict[Slot, list[QueueSection]] = {slot: [] for slot in Slot}
    shown: list[tuple[int, list[Model]]] = []
    shared: dict[str, Any] = {}
    for entry in queue_lists():
        items = list(entry.items(scope))
        if entry.shares is not None:
            shared.update(entry.shares(items))
        section = QueueSection(
            name=entry.name, template=entry.template, items=items, limit=WORK_QUEUE_LIMIT, scope=scope
        )
        sections.append(section)
        slots[entry.slot].append(section)
        shown.append((entry.read_order, _shown(entry, items, WORK_QUEUE_LIMIT)))
    return WorkQueue(
        sections=sections,
        slots=slots,
        objects_shown=[obj for _order, objects in sorted(shown, key=lambda pair: pair[0]) for obj in objects],
        shared=shared,
    )
