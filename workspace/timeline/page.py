"""The shared patient timeline: the page community oncologists live on, and its comment thread.

Everything on the page is read in a fixed number of queries (`referrals.selectors.
patient_timeline`, the header's active toxicities and open hand-offs (`workspace.timeline.
header`), the last 30 days of events (`workspace.timeline.history`), the latest
messages, the care team and the viewer's capabilities), whatever the number of events and
milestones: rows are built from what is already loaded, never per row. The milestone tables
show what matters now, the rest on demand (`workspace.timeline.milestone_table`); the forms of
a milestone's actions load when opened (`workspace.timeline.milestone_views.milestone_form`);
a failed action re-renders this page with its form, open, through `render_timeline`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access import acting_capabilities, get_patient_for_user, sites_that_can
from carecoord.models import CareTeamLink, Patient, PointPerson, Site
from carecoord.models.patients import Phase
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.selectors.sites import active_memberships_of
from carecoord.services.comments import COMMENT_MAX_LENGTH, comment_post
from carecoord.timeline import comments_of, timeline_counts, timeline_of
from carecoord.web.forms import add_service_errors, focus_first_error
from carecoord.web.shortcuts import POST, HtmxHttpRequest, actor, loads, viewer_zone
from labs.counts import counts_panel
from labs.forms import PasteForm
from labs.selectors import results_of
from referrals.day_zero import course_day, current_infusion
from referrals.deaths import death_of
from referrals.milestones.kinds import milestone_label_or_kind as label_of
from referrals.models import Milestone
from referrals.phase import PathStep
from referrals.selectors import PatientTimeline, patient_timeline
from referrals.workflow import State
from toxicity.selectors import undelivered_alerts
from workspace.timeline.failure import Failure
from workspace.timeline.header import timeline_header
from workspace.timeline.history import RECENT_DAYS, day_groups, day_of, entry_row, recent_since, start_of
from workspace.timeline.links import MILESTONE_PARAMETER, asked_milestone, timeline_url
from workspace.timeline.milestone_table import NEXT_PLANNED, milestone_section

UPCOMING_LIMIT = NEXT_PLANNED  # "What comes next" links to rows the folded table shows
THREAD_LIMIT = 20  # the latest messages; every one stays on the timeline


class CommentForm(forms.Form):
    """A message to the other care-team sites, written as one of the viewer's own sites."""

    body = forms.CharField(
        label="Message",
        max_length=COMMENT_MAX_LENGTH,
        error_messages={"required": "Write a message."},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    site = forms.TypedChoiceField(label="Write as", coerce=int)

    def __init__(self, *args: Any, sites: Sequence[Site] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_comment_%s")
        super().__init__(*args, **kwargs)
        self.sites = {site.pk: site for site in sites}
        cast(forms.TypedChoiceField, self.fields["site"]).choices = [(pk, s.name) for pk, s in self.sites.items()]
        if len(self.sites) == 1:
            self.fields["site"].initial = next(iter(self.sites))

    def chosen_site(self) -> Site:
        return self.sites[self.cleaned_data["site"]]


@dataclass(frozen=True)
class PhaseStep:
    number: int
    value: str
    label: str
    state: str  # a `PathStep`: "past" (done), "overdue", "due", "unrecorded", "current" or "future"


@dataclass(frozen=True)
class Contact:
    link: CareTeamLink
    point_persons: list[PointPerson] = field(default_factory=list)


def phase_steps(path: list[tuple[Phase, PathStep]]) -> list[PhaseStep]:
    return [
        PhaseStep(number=n + 1, value=phase.value, label=phase.label, state=step.value)
        for n, (phase, step) in enumerate(path)
    ]


def _primary_first(people: Iterable[PointPerson]) -> list[PointPerson]:
    return sorted(people, key=lambda person: person.rank != PointPerson.Rank.PRIMARY)


def _schedule(timeline: PatientTimeline, today: dt.date) -> dict[str, Any]:
    """The milestones coming up, those overdue and those whose dates conflict, with their days."""
    infusion_on = timeline.infusion_on
    return {
        "upcoming": [
            (m, label_of(m.kind), day_of(infusion_on, m.planned_on), (m.planned_on - today).days)
            for m in timeline.upcoming(today, UPCOMING_LIMIT)
            if m.planned_on
        ],
        "overdue": [
            (m, label_of(m.kind), day_of(infusion_on, m.planned_on), (today - m.planned_on).days)
            for m in timeline.overdue(today)
            if m.planned_on
        ],
        "conflicts": [(m, label_of(m.kind)) for m in timeline.conflicts()],
    }


def timeline_context(
    request: HttpRequest, patient: Patient, failure: Failure | None = None, asked: int | None = None
) -> dict[str, Any]:
    memberships = active_memberships_of(request.user)
    zone = viewer_zone(memberships)
    today = timezone.localdate(timezone=zone)
    timeline = patient_timeline(patient)
    phase = timeline.phase()
    links = list(open_care_team_links().filter(patient=patient))
    infusion_on = timeline.infusion_on
    infusion = current_infusion(timeline.milestones)
    accepted = next((r for r in timeline.referrals if r.state == State.ACCEPTED), None)
    product = accepted.product if accepted else None
    # The care-team sites the viewer may record care for (their grants, the sites already
    # loaded with the care team), from which follows whether they may at all.
    capabilities = acting_capabilities(request.user, [patient.pk])[patient.pk]
    comment_sites = sorted(
        (link.site for link in links if Capability.RECORD_CARE in capabilities.get(link.site_id, ())),
        key=lambda site: (site.name, site.pk),
    )
    can_record = bool(comment_sites)
    comment_form = None
    if comment_sites:
        comment_form = failure.form if failure and failure.action == "comment" else CommentForm(sites=comment_sites)
    since = recent_since(today)
    counts = timeline_counts(patient, before=start_of(since, zone))
    recent = timeline_of(patient).filter(occurred_at__gte=start_of(since, zone))
    latest_comments = list(comments_of(patient).order_by("-occurred_at", "-pk")[:THREAD_LIMIT])[::-1]
    return {
        "memberships": memberships,
        "patient": patient,
        "zone": zone,
        "today": today,
        # Where today stands: day +N only from an infusion recorded as done (`course_day`).
        "course_day": course_day(infusion, today),
        "infusion_on": infusion_on,
        "infusion_done": infusion is not None and infusion.status == Milestone.Status.DONE,
        "product": product,
        # The late effects to watch for after the product, from its label (one query).
        "watch_items": list(product.watch_items.all()) if product else [],
        "phase": phase,
        "phases": phase_steps(timeline.path()),
        "phase_count": len(Phase),
        "contacts": [Contact(link, _primary_first(link.point_persons.all())) for link in links],
        "header": timeline_header(patient, zone, timezone.now()),
        "death": death_of(patient),
        **_schedule(timeline, today),
        "undelivered": undelivered_alerts(patient),
        "groups": day_groups(recent, zone, infusion_on),
        "entry_count": counts.total,
        "earlier_count": counts.before,
        "recent_since": since,
        "recent_days": RECENT_DAYS,
        "comment_count": counts.comments,
        "thread": [entry_row(entry, zone, infusion_on) for entry in latest_comments],
        "thread_earlier": max(counts.comments - THREAD_LIMIT, 0),
        "comment_form": comment_form,
        "can_record": can_record,
        "section": milestone_section(
            timeline,
            today=today,
            recording_sites={site.pk for site in comment_sites},
            failure=failure,
            asked=asked,
        ),
        "failure": failure,
        "counts": counts_panel(results_of(patient), infusion_on=infusion_on, today=today),
        "lab_paste_form": (
            PasteForm(sites=comment_sites, initial={"taken_on": today}, day_zero=infusion_on) if comment_form else None
        ),
    }


def render_timeline(
    request: HttpRequest, patient: Patient, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    if failure is not None:
        focus_first_error(failure.form)
    asked = asked_milestone(request.GET.get(MILESTONE_PARAMETER))
    context = timeline_context(request, patient, failure, asked)
    return render(request, "carecoord/timeline.html", context, status=status)


@login_required
@require_safe
def patient_timeline_page(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The shared timeline: 404 unless a site where the viewer works is on the care team."""
    patient = get_patient_for_user(request.user, patient_id)
    shown(patient, what="viewed timeline")
    return render_timeline(request, patient)


@vary_on_headers("HX-Request")
@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_comment(request: HtmxHttpRequest, patient: Patient) -> HttpResponse:
    """Post a comment; htmx gets the thread (and, out of band, the events), others a redirect."""
    patient = get_patient_for_user(request.user, patient.pk, Capability.RECORD_CARE)
    form = CommentForm(request.POST, sites=sites_that_can(request.user, patient, Capability.RECORD_CARE))
    if form.is_valid():
        try:
            comment_post(actor=actor(request), patient=patient, site=form.chosen_site(), body=form.cleaned_data["body"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if request.htmx:
                context = timeline_context(request, patient) | {"posted": True}
                return render(request, "carecoord/_timeline_comment_response.html", context)
            messages.success(request, "Your comment is on the timeline.")
            return redirect(timeline_url(patient.pk, "thread"))
    failure = Failure("comment", None, form)
    if request.htmx:
        # htmx swaps only successful responses by default: errors come back as 200.
        focus_first_error(form)
        context = timeline_context(request, patient, failure)
        return render(request, "carecoord/_timeline_comment_response.html", context)
    return render_timeline(request, patient, failure, status=400)
