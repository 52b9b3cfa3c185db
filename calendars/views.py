"""The calendar feed (read by calendar apps, without a session), a patient's `.ics` download,
and making and revoking feeds from the account page."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from audit.models import AuditEntry
from calendars.contributions import NEW_FEED_SESSION_KEY
from calendars.forms import FeedForm
from calendars.ics import DayEvent, calendar_bytes, milestone_event
from calendars.models import CalendarFeed
from calendars.selectors import dated_milestones, feed_patients, patient_label_for
from calendars.services import feed_create, feed_read, feed_revoke, usable_feed
from calendars.throttle import note_wrong_key, refused
from carecoord.access import get_patient_for_user
from carecoord.access.acting import first_acting_site_ids
from carecoord.accounts.client_ip import client_ip
from carecoord.downloads import attachment_disposition
from carecoord.models import Patient
from carecoord.reads import shown, shown_patient
from carecoord.web.shortcuts import SAFE, actor, loads

CONTENT_TYPE = "text/calendar; charset=utf-8"


def feed_url(key: str) -> str:
    return settings.SITE_URL + reverse("calendar-feed", kwargs={"feed_key": key})


def _events(labels: dict[uuid.UUID, str]) -> list[DayEvent]:
    events = []
    for milestone in dated_milestones(list(labels)):
        patient_id = milestone.patient_id  # type: ignore[attr-defined]  # annotated by the selector
        event = milestone_event(milestone, patient_id=patient_id, label=labels[patient_id])
        if event is not None:
            events.append(event)
    return events


@require_safe
def calendar_feed(request: HttpRequest, feed_key: str) -> HttpResponse:
    """One person's feed: the key in the address is the credential (calendar apps cannot sign
    in). A wrong or revoked key, or a deactivated person's, is 404; what it shows is read from
    the person's access now. The read is audited as the person's, one entry per patient shown."""
    address = client_ip(request)
    if refused(address):
        return HttpResponse(
            "Too many wrong calendar addresses: try again later.", status=429, content_type="text/plain"
        )
    feed = usable_feed(feed_key)
    if feed is None:
        note_wrong_key(address)
        raise Http404("No such calendar feed.")
    request.user = feed.user  # whom the audit trail records as reading
    labels = feed_patients(feed.user)
    events = _events(labels)
    for patient_id in {event.patient_id for event in events}:
        shown_patient(patient_id, Patient(pk=patient_id), what="read calendar feed", action=AuditEntry.Action.DOWNLOAD)
    feed_read(feed=feed)
    return HttpResponse(calendar_bytes(events, name="carecoord: my patients' milestones"), content_type=CONTENT_TYPE)


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE)
def patient_calendar(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The patient's dated milestones as an `.ics` file, named by the reader's site's MRN."""
    site_id = first_acting_site_ids(request.user, [patient.pk]).get(patient.pk)
    label = patient_label_for(patient, site_id)
    events = _events({patient.pk: label})
    shown(patient, what="downloaded milestones calendar", action=AuditEntry.Action.DOWNLOAD)
    response = HttpResponse(calendar_bytes(events, name=f"carecoord: {label}"), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = attachment_disposition("carecoord-milestones", "ics")
    return response


@login_required
@require_POST
def feed_create_view(request: HttpRequest) -> HttpResponse:
    form = FeedForm(request.POST)
    if not form.is_valid():
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, f"Calendar feed not made: {problem}")
        return redirect(reverse("account-security") + "#calendar-feeds")
    try:
        _feed, key = feed_create(user=actor(request), name=form.cleaned_data["name"])
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, f"Calendar feed not made: {problem}")
    else:
        request.session[NEW_FEED_SESSION_KEY] = feed_url(key)
    return redirect(reverse("account-security") + "#calendar-feeds")


@login_required
@require_POST
def feed_revoke_view(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(CalendarFeed, pk=feed_id, user=actor(request))
    feed_revoke(feed=feed)
    messages.success(
        request, f"Calendar feed “{feed.name}” revoked. Calendars subscribed to it get nothing from now on."
    )
    return redirect(reverse("account-security") + "#calendar-feeds")
