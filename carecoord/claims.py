"""Claim, then notify: the one loop of every reminder and escalation that must never send twice.

Two runs may overlap (two beats, a retry, a worker restarted mid-run). Each due row is
therefore claimed by a conditional UPDATE that only a row still due matches: of two runs at
once, one updates it and the other finds nothing to update and moves on. The claim and the
notification share one transaction per row, and emails are outbox rows queued for sending on
commit (`carecoord.emails.email_queue`): a failure rolls back the claim with its emails, and a
broker outage delays them but loses none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet


def plain_update[M: Model](queryset: QuerySet[M], **values: Any) -> int:
    """`queryset.update(**values)`: a claim that leaves no audit entry."""
    return queryset.update(**values)


def claim_then_notify[M: Model](
    due: QuerySet[M],
    *,
    still_due: Q,
    claim: Mapping[str, Any],
    load: QuerySet[M],
    notify: Callable[[M], bool],
    update: Callable[..., int] = plain_update,
) -> int:
    """Claim each row of `due` and notify about it; returns how many rows were notified about.

    Per row, in its own transaction: `update(<the row, if it still matches still_due>, **claim)`
    (pass `audit.services.audited_update` to record the claim), then, if it claimed the row,
    `notify(<the row read from load>)`, which queues its emails and records what it did. A
    `notify` that returns False had nothing to say: the row stays claimed but is not counted.
    """
    notified = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not update(due.model._default_manager.filter(still_due, pk=pk), **claim):
                continue  # no longer due, or another run took it
            if notify(load.get(pk=pk)):
                notified += 1
    return notified
