"""The events of the shared timeline, by day: the last 30 days on the page, earlier ones on demand.

The page shows the entries of the last `RECENT_DAYS` days in the viewer's time zone; a "Show
earlier" control loads the `EARLIER_DAYS` days with entries before a day (`?before=`), oldest
first like the rest, each labelled relative to day 0, with another control when there are
more. htmx swaps them in place of the control; without JavaScript the control is a link to a
page of those days. Each load is a fixed number of queries whatever the history's length.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access import get_patient_for_user
from carecoord.models import Patient, TimelineEntry
from carecoord.models.calendar import EARLIEST, LATEST
from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.timeline import days_with_entries, timeline_of
from carecoord.web.shortcuts import HtmxHttpRequest, viewer_zone
from referrals.day_zero import day_zero_of
from referrals.schedule import day_label
from workspace.timeline.links import milestone_row_url

RECENT_DAYS = 30  # the page shows today and the 30 days before it
EARLIER_DAYS = 30  # days with entries loaded by each "Show earlier"


@dataclass(frozen=True)
class EntryRow:
    entry: TimelineEntry
    at: dt.datetime  # in the viewer's time zone
    day: str  # relative to the infusion, "" without an infusion date
    link: str  # the page of what the entry is about, "" when it has none (a comment)


# Each subject's page: its URL name and argument, or, for a milestone, its row on the timeline.
SUBJECT_PAGES: dict[str, tuple[str, str]] = {
    "referrals.referral": ("referral-detail", "referral_id"),
    "toxicity.toxicityevent": ("toxicity-event", "event_id"),
    "handoffs.handoff": ("handoff-detail", "handoff_id"),
}


def entry_link(entry: TimelineEntry) -> str:
    """The page of the object the entry is about: its subject's; the care team's (the patient's
    page) for care-team changes; for an entry written before entries named their subject, the
    patient's milestones or hand-offs by its kind; education given, the patient's education
    page; lab results, the counts on the timeline. "" for a comment: the thread is its page."""
    timeline = reverse("patient-timeline", kwargs={"patient_id": entry.patient_id})
    if entry.subject_id is not None:
        if entry.subject_type == "referrals.milestone":
            return milestone_row_url(entry.patient_id, entry.subject_id)
        if entry.subject_type == "infections.infectionevent":
            infections = reverse("infections-patient", kwargs={"patient_id": entry.patient_id})
            return f"{infections}#infection-{entry.subject_id}"
        if entry.subject_type == "labs.labresult":
            return f"{timeline}#counts"
        if page := SUBJECT_PAGES.get(entry.subject_type):
            name, argument = page
            return reverse(name, kwargs={argument: entry.subject_id})
    match entry.kind:
        case TimelineEntry.Kind.CARE_TEAM:
            return reverse("patient-detail", kwargs={"patient_id": entry.patient_id})
        case TimelineEntry.Kind.MILESTONE:
            return f"{timeline}#milestones"
        case TimelineEntry.Kind.HANDOFF:
            return reverse("handoff-list", kwargs={"patient_id": entry.patient_id})
        case TimelineEntry.Kind.INFECTION:
            return reverse("infections-patient", kwargs={"patient_id": entry.patient_id})
        case TimelineEntry.Kind.EDUCATION:
            return reverse("education-patient", kwargs={"patient_id": entry.patient_id})
        case TimelineEntry.Kind.LAB:
            return f"{timeline}#counts"
        case TimelineEntry.Kind.DEATH:
            return reverse("patient-death", kwargs={"patient_id": entry.patient_id})
    return ""


@dataclass(frozen=True)
class DayGroup:
    on: dt.date
    day: str  # "day +14" relative to infusion, "" without an infusion date
    rows: list[EntryRow]


def day_of(infusion_on: dt.date | None, on: dt.date | None) -> str:
    """ "day +N" of `on` relative to the infusion; "" while either is unknown."""
    return day_label(infusion_on, on) if infusion_on and on else ""


def entry_row(entry: TimelineEntry, zone: zoneinfo.ZoneInfo, infusion_on: dt.date | None) -> EntryRow:
    at = timezone.localtime(entry.occurred_at, zone)
    return EntryRow(entry=entry, at=at, day=day_of(infusion_on, at.date()), link=entry_link(entry))


def day_groups(
    entries: Iterable[TimelineEntry], zone: zoneinfo.ZoneInfo, infusion_on: dt.date | None
) -> list[DayGroup]:
    """Entries by local calendar day, oldest first, each day labelled relative to the infusion."""
    groups: list[DayGroup] = []
    for entry in entries:
        row = entry_row(entry, zone, infusion_on)
        if not groups or groups[-1].on != row.at.date():
            groups.append(DayGroup(on=row.at.date(), day=row.day, rows=[]))
        groups[-1].rows.append(row)
    return groups


def start_of(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first moment of `day` in `zone`."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def recent_since(today: dt.date) -> dt.date:
    """The first day the page shows."""
    return today - dt.timedelta(days=RECENT_DAYS)


@dataclass(frozen=True)
class Earlier:
    """A page of the history before `before`: its days, and where the next one starts."""

    groups: list[DayGroup]
    more_before: dt.date | None  # the cursor of the next "Show earlier", None at the start


def earlier_history(patient: Patient, before: dt.date, zone: zoneinfo.ZoneInfo, infusion_on: dt.date | None) -> Earlier:
    """The `EARLIER_DAYS` latest days with entries before `before`: two queries."""
    end = start_of(before, zone)
    days = days_with_entries(patient, end, zone, EARLIER_DAYS + 1)
    if not days:
        return Earlier(groups=[], more_before=None)
    shown_days = days[:EARLIER_DAYS]
    first = shown_days[-1]
    entries = timeline_of(patient).filter(occurred_at__gte=start_of(first, zone), occurred_at__lt=end)
    return Earlier(
        groups=day_groups(entries, zone, infusion_on), more_before=first if len(days) > EARLIER_DAYS else None
    )


def _before(asked: str | None, zone: zoneinfo.ZoneInfo) -> dt.date | None:
    """The day asked for, within the record's calendar; by default, the first day the page shows."""
    if not asked:
        return recent_since(timezone.localdate(timezone=zone))
    try:
        day = parse_date(asked)
    except ValueError:  # well formed, not a date (2027-02-30)
        return None
    return day if day is not None and EARLIEST < day <= LATEST else None


@vary_on_headers("HX-Request")
@login_required
@require_safe
def patient_timeline_earlier(request: HtmxHttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The days before `?before=` (by default, before those the page shows): htmx gets the list
    items to put in place of its "Show earlier" control, others a page of them."""
    patient = get_patient_for_user(request.user, patient_id)
    memberships = active_memberships_of(request.user)
    zone = viewer_zone(memberships)
    before = _before(request.GET.get("before"), zone)
    if before is None:
        return HttpResponse("No such day: give ?before=YYYY-MM-DD.", status=400, content_type="text/plain")
    shown(patient, what="viewed timeline")
    earlier = earlier_history(patient, before, zone, day_zero_of(patient))
    context = {"memberships": memberships, "patient": patient, "zone": zone, "earlier": earlier, "before": before}
    template = "carecoord/_timeline_earlier.html" if request.htmx else "carecoord/timeline_earlier.html"
    return render(request, template, context)
