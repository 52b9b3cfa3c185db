"""Milestones as iCalendar (RFC 5545) events, built with the `icalendar` library.

An event is a whole day (DTSTART as a DATE, so no VTIMEZONE is needed) and carries only what a
calendar on someone's phone may hold: the milestone's name and the patient's label (an MRN or
initials, never a name or a diagnosis), with a link to the timeline for the rest. Its UID is
the milestone's own, so a calendar app updates an event when its date moves instead of adding
another; DTSTAMP and LAST-MODIFIED are the milestone's last change, so an unchanged milestone
gives the same bytes at every read. A cancelled milestone stays, as STATUS:CANCELLED, so that
apps that already hold it take it off.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse

from referrals.milestones.kinds import milestone_label_or_kind
from referrals.models import Milestone

PRODID = "-//carecoord//Milestones//EN"
REFRESH = dt.timedelta(hours=1)


@dataclass(frozen=True)
class DayEvent:
    """One all-day event: what a calendar shows of a milestone."""

    uid: str
    patient_id: uuid.UUID
    day: dt.date
    summary: str
    description: str
    url: str
    changed_at: dt.datetime
    cancelled: bool


def milestone_uid(milestone_id: int) -> str:
    """Stable for the milestone, unique to this deployment (its host name)."""
    return f"milestone-{milestone_id}@{urlsplit(settings.SITE_URL).hostname or 'carecoord'}"


def _state(milestone: Milestone) -> str:
    if milestone.status == Milestone.Status.CANCELLED:
        return "Cancelled."
    if milestone.status == Milestone.Status.DONE and milestone.actual_on:
        return f"Done on {milestone.actual_on:%d %b %Y}."
    return f"Planned for {milestone.planned_on:%d %b %Y}." if milestone.planned_on else "Planned."


def milestone_event(milestone: Milestone, *, patient_id: uuid.UUID, label: str) -> DayEvent | None:
    """The event of a milestone on its actual date once done, else its planned one; None
    without either."""
    day = milestone.actual_on if milestone.status == Milestone.Status.DONE and milestone.actual_on else None
    day = day or milestone.planned_on or milestone.actual_on
    if day is None:
        return None
    url = (
        settings.SITE_URL
        + reverse("patient-timeline", kwargs={"patient_id": patient_id})
        + f"#milestone-{milestone.pk}"
    )
    return DayEvent(
        uid=milestone_uid(milestone.pk),
        patient_id=patient_id,
        day=day,
        summary=f"{milestone_label_or_kind(milestone.kind)} · {label}",
        description=f"{_state(milestone)}\nTimeline: {url}",
        url=url,
        changed_at=milestone.updated_at,
        cancelled=milestone.status == Milestone.Status.CANCELLED,
    )


def calendar_bytes(events: Iterable[DayEvent], *, name: str) -> bytes:
    """A VCALENDAR of `events`, named `name` in apps that show a calendar's name."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    # How often to read again (RFC 7986, and Outlook's older name for it): hourly, so that a
    # moved date reaches the calendar the same day; apps may still read less often.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.changed_at.astimezone(dt.UTC))
        event.add("last-modified", item.changed_at.astimezone(dt.UTC))
        event.add("dtstart", item.day)
        event.add("dtend", item.day + dt.timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", item.url)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # a reminder of a step, not time the reader is busy
        calendar.add_component(event)
    return calendar.to_ical()
