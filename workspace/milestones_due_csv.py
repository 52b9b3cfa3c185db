"""The milestones-due page as a CSV file: every planned step of the window, all its pages
(`carecoord.web.csv_export`, audited by `audit.exports`)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from audit.exports import list_export
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column
from carecoord.web.shortcuts import viewer_zone
from referrals.milestones.kinds import milestone_label_or_kind
from referrals.models import Milestone
from workspace.milestones_due import MilestonesDueForm, due_milestones
from workspace.work_queue import queue_scope


def milestone_columns(request: HttpRequest, today: dt.date) -> list[Column[Milestone]]:
    """The page's columns (its actions aside), and the step's place on the patient's timeline."""

    def address(m: Milestone) -> str:
        path = reverse("patient-timeline", args=[m.referral.patient_id])
        return request.build_absolute_uri(f"{path}#milestone-{m.pk}")

    return [
        Column("Milestone", lambda m: m.pk),
        Column("Planned for", lambda m: m.planned_on),
        Column("Overdue", lambda m: m.is_overdue(today)),
        Column("Step", lambda m: milestone_label_or_kind(m.kind)),
        Column("Patient", lambda m: f"{m.referral.patient.family_name}, {m.referral.patient.given_name}"),
        Column("Address", address),
    ]


@login_required
@require_safe
def milestones_due_export(request: HttpRequest) -> StreamingHttpResponse:
    """The steps due in the window and of the kind of the page's address, as CSV (a search is
    not applied: its words are posted, never in an address)."""
    memberships = active_memberships_of(request.user)
    scope = queue_scope(request.user, memberships)
    form = MilestonesDueForm(MilestonesDueForm.data_of(request))
    return list_export(
        request,
        due_milestones(request.user, form.asked(), scope.today),
        form=form,
        name="milestones-due",
        label="milestones due",
        columns=milestone_columns(request, scope.today),
        zone=viewer_zone(memberships),
        rows=list,
    )
