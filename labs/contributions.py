"""What labs contributes to the combined pages: the work queue's flagged values the viewer was
told of and has not acknowledged. Registered in `LabsConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from carecoord.work_queue import QueueList, QueueScope, Slot, read_per_shape, register_queue_list
from labs.models import LabFlagNotice
from labs.selectors import lab_notices_visible_to

# What a row of the queue shows, of the notice, its result, patient and sites (not every column
# of the four tables, read into objects nobody looks at).
QUEUE_ROW = (
    "site__name",
    "result__kind",
    "result__value",
    "result__taken_on",
    "result__flagged",
    "result__flag_below",
    "result__site__name",
    "result__patient__given_name",
    "result__patient__family_name",
)


@read_per_shape(per_user=True)
def queue_lab_flags(scope: QueueScope) -> QuerySet[LabFlagNotice]:
    """The viewer's own notices of flagged values nobody at their site has acknowledged, newest first."""
    notices = lab_notices_visible_to(scope.user).unacknowledged().only(*QUEUE_ROW)
    return notices.order_by("-created_at", "-pk")[: scope.limit]


def lab_flag_patients(scope: QueueScope) -> QuerySet[Any]:
    return lab_notices_visible_to(scope.user).unacknowledged().order_by().values("result__patient_id")


def register_labs_contributions() -> None:
    register_queue_list(
        QueueList(
            name="lab_flags",
            slot=Slot.URGENT,
            order=6,
            read_order=16,
            template="labs/_queue_lab_flags.html",
            items=queue_lab_flags,
            patients=lab_flag_patients,
        )
    )
