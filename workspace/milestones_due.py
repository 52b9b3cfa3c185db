"""Every planned step of the viewer's patients not recorded yet, due in a window or overdue: the
work queue's short list in full, found, filtered and paged, each row one click from its form.

Like the patient list, a search for a patient is posted (names stay out of the address); the
window and the kind may be in the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from carecoord.models import Patient
from carecoord.reads import shown
from carecoord.selectors.patients import patient_ids_matching
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.list_forms import CappedPaginator, ListForm, address_of, list_response, patient_search_field
from carecoord.web.row_urls import row_url
from carecoord.web.shortcuts import HtmxHttpRequest
from referrals.milestones.kinds import ALL_KINDS, milestone_label, milestone_label_or_kind
from referrals.models import Milestone
from referrals.selectors import milestones_due
from workspace.timeline.links import MILESTONE_PARAMETER
from workspace.work_queue import queue_scope

MILESTONES_PER_PAGE = 50


class Window:
    OVERDUE = "overdue"
    WEEK = "week"
    FORTNIGHT = "fortnight"
    CHOICES = [
        (WEEK, "Overdue and the coming week"),
        (OVERDUE, "Overdue only"),
        (FORTNIGHT, "Overdue and the coming two weeks"),
    ]
    DAYS = {OVERDUE: -1, WEEK: 6, FORTNIGHT: 13}


KIND_CHOICES = [("", "Any step"), *((str(kind), milestone_label(kind)) for kind in ALL_KINDS)]


class MilestonesDueForm(ListForm):
    address_fields = ("window", "kind")
    defaults = {"window": Window.WEEK}

    q = patient_search_field()
    window = forms.ChoiceField(label="Show", required=False, choices=Window.CHOICES)
    kind = forms.ChoiceField(label="Step", required=False, choices=KIND_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def due_milestones(user: Any, asked: dict[str, Any], today: dt.date) -> QuerySet[Milestone]:
    """The planned steps of `user`'s patients not recorded by the window's end, oldest first."""
    end = today + dt.timedelta(days=Window.DAYS[asked.get("window") or Window.WEEK])
    milestones = milestones_due(user, None, end)
    if asked.get("kind"):
        milestones = milestones.filter(kind=asked["kind"])
    if asked.get("q"):
        milestones = milestones.filter(referral__patient_id__in=patient_ids_matching(user, asked["q"]))
    return milestones


@dataclass(frozen=True)
class DueRow:
    """A row of the page: the step, its label, whether it is overdue, its patient and links."""

    milestone: Milestone
    label: str
    overdue: bool
    patient: Patient
    timeline_url: str  # at the step, on the patient's timeline
    record_url: str
    move_url: str


def due_rows(milestones: list[Milestone], today: dt.date) -> list[DueRow]:
    """The page's rows, their links reversed once for the page (`carecoord.web.row_urls`)."""
    if not milestones:
        return []
    first = milestones[0]
    timeline = row_url("patient-timeline", "patient_id", first.referral.patient_id)
    record = row_url("milestone-complete-form", "milestone_id", first.pk)
    move = row_url("milestone-move-form", "milestone_id", first.pk)
    return [
        DueRow(
            milestone=m,
            label=milestone_label_or_kind(m.kind),
            overdue=m.is_overdue(today),
            patient=m.referral.patient,
            timeline_url=f"{timeline(m.referral.patient_id)}?{MILESTONE_PARAMETER}={m.pk}#milestone-{m.pk}",
            record_url=record(m.pk),
            move_url=move(m.pk),
        )
        for m in milestones
    ]


@vary_on_headers("HX-Request")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def milestones_due_page(request: HtmxHttpRequest) -> HttpResponse:
    """The page, or with htmx only its results, with the address-safe filters pushed to the address bar."""
    memberships = active_memberships_of(request.user)
    scope = queue_scope(request.user, memberships)
    form = MilestonesDueForm(MilestonesDueForm.data_of(request))
    asked = form.asked()
    due = due_milestones(request.user, asked, scope.today)
    page = CappedPaginator(due, MILESTONES_PER_PAGE).get_page(asked.get("page"))
    rows = due_rows(list(page), scope.today)
    shown(page, verb="listed")
    context = {
        "memberships": memberships,
        "form": form,
        "page": page,
        "rows": rows,
        "today": scope.today,
        "export_url": address_of(form, "milestones-due-export", paged=False),
    }
    return list_response(request, "carecoord/milestones_due.html", context, form=form, url_name="milestones-due")
