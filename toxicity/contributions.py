"""What toxicity contributes to the combined pages: the digest's unacknowledged alerts and the
work queue's alert emails that did not go out. Registered in `ToxicityConfig.ready`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, register_digest_section
from carecoord.work_queue import QueueList, QueueScope, Slot, register_queue_list
from toxicity.kinds import ToxicityKind
from toxicity.models import Alert
from toxicity.selectors import alerts_visible_to, undelivered_alerts

# An event's kind as `get_kind_display` shows it (a kind outside the choices as it is stored).
KIND_LABELS: dict[str, str] = dict(ToxicityKind.choices)


def digest_unacknowledged_alerts(scope: DigestScope) -> SectionRead:
    """The reader's own alerts nobody has acknowledged yet, in one query."""
    alerts = (
        Alert.objects.unacknowledged()
        .filter(scope.of_patients("event__patient_id"), recipient=scope.user)
        .order_by("created_at")
        .values_list("event__patient_id", "event__kind", "grade", "created_at")
    )
    return SectionRead(
        overdue=[
            (
                patient_id,
                f"Unacknowledged {KIND_LABELS.get(kind, kind)} alert, grade {grade}, "
                f"since {scope.site_day_text(created_at)}",
            )
            for patient_id, kind, grade, created_at in alerts
        ]
    )


def queue_undelivered(scope: QueueScope) -> Sequence[Alert]:
    """Alert emails for the viewer's sites that have not gone out."""
    return undelivered_alerts(scope.user, site_ids=[m.site_id for m in scope.memberships])


def queue_alerts(scope: QueueScope) -> Sequence[Alert]:
    """The viewer's own alerts nobody has acknowledged, highest grade first, then oldest."""
    alerts = alerts_visible_to(scope.user).unacknowledged().order_by("-grade", "created_at")
    return list(alerts[: scope.limit])


def alert_patients(scope: QueueScope) -> QuerySet[Any]:
    return alerts_visible_to(scope.user).unacknowledged().order_by().values("event__patient_id")


def register_toxicity_contributions() -> None:
    register_digest_section(DigestSection(name="unacknowledged alerts", order=30, read=digest_unacknowledged_alerts))
    # Every undelivered alert is shown (the selector caps them): someone has to call each person.
    register_queue_list(
        QueueList(
            name="undelivered",
            slot=Slot.NOTICE,
            order=10,
            read_order=10,
            template="toxicity/_queue_undelivered.html",
            items=queue_undelivered,
            cut=False,
        )
    )
    register_queue_list(
        QueueList(
            name="alerts",
            slot=Slot.URGENT,
            order=5,
            read_order=15,
            template="toxicity/_queue_alerts.html",
            items=queue_alerts,
            patients=alert_patients,
        )
    )
