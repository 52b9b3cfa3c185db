"""What toxicity contributes to the combined pages: the digest's unacknowledged alerts and the
work queue's alert emails that did not go out. Registered in `ToxicityConfig.ready`."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.db.models import F, QuerySet

from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, register_digest_section
from carecoord.lookups import InArray
from carecoord.work_queue import QueueList, QueueScope, Slot, built_per_shape, read_per_shape, register_queue_list
from referrals.day_zero import day_zero_subquery
from toxicity.kinds import ToxicityKind
from toxicity.models import Alert, ToxicityEvent
from toxicity.selectors import (
    alerts_visible_to,
    late_among,
    manufacturer_reports_pending,
    unsent_alerts_for,
)
from toxicity.timing import day_text, onset_day

# An event's kind as `get_kind_display` shows it (a kind outside the choices as it is stored).
KIND_LABELS: dict[str, str] = dict(ToxicityKind.choices)


def digest_active_toxicities(scope: DigestScope) -> SectionRead:
    """Every toxicity still active, whenever it began (a grade-4 CRS of three weeks ago is still
    the first thing to know), worst first, with its day of onset from day 0: one query."""
    events = (
        ToxicityEvent.objects.active()
        .filter(scope.of_patients())
        .annotate(day_zero=day_zero_subquery("patient_id"))
        .order_by("-grade", "onset_at", "pk")
        .values_list(
            "patient_id", "kind", "grade", "highest_grade", "onset_at", "reporting_site__time_zone", "day_zero"
        )
    )
    read = SectionRead()
    for patient_id, kind, grade, highest, onset_at, time_zone, day_zero in events:
        # The onset's day where it was recorded, as the event's own page counts it.
        onset_on = onset_at.astimezone(zoneinfo.ZoneInfo(time_zone)).date()
        day = day_text(onset_day(day_zero, onset_on))
        line = f"{KIND_LABELS.get(kind, kind)} grade {grade}, active since {scope.day_text(onset_on)}"
        line += f" ({day})" if day else ""
        line += f", worst grade {highest}" if highest > grade else ""
        read.active.append((patient_id, line))
    return read


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


@built_per_shape()
def _unsent_for_sites(scope: QueueScope) -> QuerySet[Alert]:
    return unsent_alerts_for(scope.user, [m.site_id for m in scope.memberships])


def queue_undelivered(scope: QueueScope) -> Sequence[Alert]:
    """Alert emails for the viewer's sites that have not gone out in the warning time (the
    clock is read here, on the copy of the query built for the viewer's shape)."""
    return late_among(_unsent_for_sites(scope), "event__patient")


# What an alert row of the queue shows, of the alert, its event, patient and site.
QUEUE_ROW = (
    "grade",
    "reason",
    "created_at",
    "event__kind",
    "event__patient__given_name",
    "event__patient__family_name",
    "event__reporting_site__name",
    "site__name",
)


QUEUE_ORDER = ("-grade", "created_at")


@read_per_shape(per_user=True)
def queue_alerts(scope: QueueScope) -> QuerySet[Alert]:
    """The viewer's own alerts nobody has acknowledged, highest grade first, then oldest; each
    row counting them all (`open_total`), for the header's count (`shared_alert_count`).

    The rows shown are picked from the alerts alone (a subquery walking them in their order,
    computed first as an array), then joined with what they show: joined first, the event and
    patient of every open alert were read to keep eleven (the statement took 2.2 ms for
    someone of eight practices, 1.5 for someone of one; now 1.5 and 1.1)."""
    open_alerts = alerts_visible_to(scope.user).unacknowledged()
    picked = open_alerts.order_by(*QUEUE_ORDER).values("pk")[: scope.limit]
    return (
        Alert.objects.filter(InArray(F("pk"), picked))
        .with_open_total(open_alerts)
        .select_related("event__patient", "event__reporting_site", "site")
        .only(*QUEUE_ROW)
        .order_by(*QUEUE_ORDER)
    )


def shared_alert_count(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The header's count of the viewer's open alerts (`toxicity.context_processors`), from the
    queue's read of the same alerts: the queue's own page (`/work/`) does not count them again."""
    return {"open_alert_count": alerts[0].open_total if alerts else 0}


def alert_patients(scope: QueueScope) -> QuerySet[Any]:
    return alerts_visible_to(scope.user).unacknowledged().order_by().values("event__patient_id")


# What a row of secondary malignancies to report shows, of the event, its patient and site.
REPORT_ROW = ("onset_at", "patient__given_name", "patient__family_name", "reporting_site__name")


@read_per_shape()
def queue_manufacturer_reports(scope: QueueScope) -> QuerySet[ToxicityEvent]:
    """Secondary malignancies still to be reported to the product's manufacturer, oldest first."""
    return manufacturer_reports_pending(scope.user).only(*REPORT_ROW)[: scope.limit]


def manufacturer_report_patients(scope: QueueScope) -> QuerySet[Any]:
    return manufacturer_reports_pending(scope.user).order_by().values("patient_id")


def register_toxicity_contributions() -> None:
    register_digest_section(DigestSection(name="active toxicities", order=1, read=digest_active_toxicities))
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
            shares=shared_alert_count,
        )
    )
    register_queue_list(
        QueueList(
            name="manufacturer reports",
            slot=Slot.URGENT,
            order=7,
            read_order=17,
            template="toxicity/_queue_manufacturer_reports.html",
            items=queue_manufacturer_reports,
            patients=manufacturer_report_patients,
        )
    )
