"""The summary at the top of the shared timeline: what is happening to the patient now.

The active toxicities (kind, grade now, day of onset, since when, who acknowledged their
alerts and which sites have not yet), the next step, and the hand-offs sent and not yet
acknowledged. Read in a fixed number of queries (whether there is anything to show: one;
then, only if so, `toxicity.selectors.active_toxicities_of`: two; `handoffs.selectors.
open_handoffs_of`: one) for an already-authorised patient: the header is part of the
timeline page and has no endpoint of its own.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from carecoord.models import Patient
from handoffs.models import Handoff
from handoffs.selectors import open_handoffs_of
from toxicity.models import ToxicityEvent
from toxicity.selectors import active_toxicities_of

SERIOUS_GRADE = 3  # grade 3 and above: shown as severe


@dataclass(frozen=True)
class Acknowledgement:
    by: str
    site: str
    at: dt.datetime  # in the viewer's time zone
    grade: int


@dataclass(frozen=True)
class ActiveToxicity:
    event: ToxicityEvent
    day: str  # of onset, "day +3"; "" without a day 0
    since: dt.datetime  # the onset, in the viewer's time zone
    acknowledged: list[Acknowledgement]  # the latest acknowledgement at each site
    waiting: list[str]  # sites with an alert nobody there has acknowledged yet

    @property
    def serious(self) -> bool:
        return self.event.grade >= SERIOUS_GRADE


@dataclass(frozen=True)
class OpenHandoff:
    handoff: Handoff
    sent_at: dt.datetime | None  # in the viewer's time zone
    overdue: bool  # past the receiving site's acknowledgement deadline


@dataclass(frozen=True)
class TimelineHeader:
    toxicities: list[ActiveToxicity]
    handoffs: list[OpenHandoff]


def _active(event: ToxicityEvent, zone: zoneinfo.ZoneInfo) -> ActiveToxicity:
    acknowledged: dict[int, Acknowledgement] = {}
    waiting: dict[int, str] = {}
    for alert in event.alerts.all():  # prefetched, oldest first
        if alert.acknowledged_at is None:
            waiting[alert.site_id] = alert.site.name
        elif alert.acknowledged_by is not None:
            acknowledged[alert.site_id] = Acknowledgement(
                by=alert.acknowledged_by.full_name or alert.acknowledged_by.email,
                site=alert.site.name,
                at=timezone.localtime(alert.acknowledged_at, zone),
                grade=alert.grade,
            )
    return ActiveToxicity(
        event=event,
        day=event.day_label,
        since=timezone.localtime(event.onset_at, zone),
        acknowledged=list(acknowledged.values()),
        waiting=sorted(waiting.values()),
    )


def _anything_open(patient: Patient) -> tuple[bool, bool]:
    """Whether the patient has an active toxicity, and a hand-off waiting: one small query.
    Most of the time neither, and then the two reads that build the header (their SQL alone,
    the toxicities' timing above all, took longer to compile than to run) are not made."""
    toxicities = ToxicityEvent.objects.active().filter(patient=OuterRef("pk"))
    handoffs = Handoff.objects.filter(patient=OuterRef("pk"), state=Handoff.State.SENT)
    found = (
        Patient.objects.filter(pk=patient.pk)
        .annotate(any_toxicity=Exists(toxicities), any_handoff=Exists(handoffs))
        .values_list("any_toxicity", "any_handoff")
        .first()
    )
    return (bool(found[0]), bool(found[1])) if found else (False, False)


def timeline_header(patient: Patient, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> TimelineHeader:
    """The header of an already-authorised patient's timeline: one query when nothing is
    active or waiting, else up to four, whatever the number of events and hand-offs."""
    any_toxicity, any_handoff = _anything_open(patient)
    return TimelineHeader(
        toxicities=[_active(event, zone) for event in active_toxicities_of(patient)] if any_toxicity else [],
        handoffs=[
            OpenHandoff(
                handoff=handoff,
                sent_at=timezone.localtime(handoff.sent_at, zone) if handoff.sent_at else None,
                overdue=handoff.is_acknowledgement_overdue(now),
            )
            for handoff in (open_handoffs_of(patient) if any_handoff else [])
        ],
    )
