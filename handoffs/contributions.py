"""What hand-offs contribute to the combined pages: the digest's hand-offs not acknowledged in
time, and the work queue's hand-offs waiting on the viewer's sites. Registered in
`HandoffsConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from carecoord.access.walks import first_visible
from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, register_digest_section
from carecoord.lookups import InArray
from carecoord.work_queue import QueueList, QueueScope, Slot, read_per_shape, register_queue_list
from handoffs.models import QUEUE_ORDER, Handoff, HandoffQuerySet
from handoffs.selectors import handoffs_visible_to


def digest_handoffs_overdue(scope: DigestScope) -> SectionRead:
    """Hand-offs sent to the reader's sites and not acknowledged by their deadline, in one query."""
    handoffs = (
        Handoff.objects.acknowledgement_overdue(scope.now)
        .filter(scope.of_patients(), to_site__in=scope.site_ids)
        .order_by("acknowledge_by")
        .values_list("patient_id", "acknowledge_by")
    )
    return SectionRead(
        overdue=[
            (patient_id, f"Hand-off not acknowledged, due {scope.site_day_text(acknowledge_by)}")
            for patient_id, acknowledge_by in handoffs
        ]
    )


# What a row of the queue shows: no values, no people (planning the full join of the hand-off
# page took PostgreSQL longer than running it, on every dashboard).
QUEUE_ROW = (
    "acknowledge_by",
    "last_word_at",
    "sent_at",
    "state",
    "from_site_id",
    "to_site_id",
    "patient__given_name",
    "patient__family_name",
    "version__template__name",
    "from_site__name",
    "to_site__name",
)


def _awaiting(scope: QueueScope) -> HandoffQuerySet:
    return handoffs_visible_to(scope.user).awaiting(scope.recording)


@read_per_shape()
def queue_handoffs(scope: QueueScope) -> QuerySet[Handoff]:
    """Hand-offs to acknowledge at the viewer's sites, or whose question they have to answer.

    The rows shown are picked from the hand-off table alone (a subquery, computed first as an
    array: `InArray`: joined with it, the statement took 2.0 ms to plan and run, now 1.4),
    then joined with what they show: joined first, PostgreSQL joined the patient, template and sites of every hand-off
    waiting (1,127 for someone who sees the whole network) to keep eleven. They are picked in
    their order, each one's patient checked in the grants until there are enough
    (`first_visible`): filtered first, the grants of every patient the viewer sees were hashed."""
    waiting = Handoff.objects.awaiting(scope.recording).order_by(*QUEUE_ORDER)
    picked = first_visible(waiting, scope.user, scope.limit)
    return (
        Handoff.objects.filter(InArray(F("pk"), picked))
        .with_to_answer(scope.recording)
        .select_related("patient", "version__template", "from_site", "to_site")
        .only(*QUEUE_ROW)
        .order_by(*QUEUE_ORDER)
    )


def handoff_patients(scope: QueueScope) -> QuerySet[Any]:
    return _awaiting(scope).values("patient_id")


def register_handoffs_contributions() -> None:
    register_digest_section(DigestSection(name="hand-offs overdue", order=40, read=digest_handoffs_overdue))
    register_queue_list(
        QueueList(
            name="handoffs",
            slot=Slot.LISTS,
            order=15,
            read_order=55,
            template="handoffs/_queue_handoffs.html",
            items=queue_handoffs,
            patients=handoff_patients,
        )
    )
