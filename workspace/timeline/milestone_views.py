"""Milestone actions posted from the shared timeline: parse, call the service, redirect back.

Each action loads its milestone or referral through the access path first, so an object
outside the viewer's scope is a 404 whatever the method; a viewer who may see but not
record care gets 403. A form the service refuses is shown again on the timeline, with the
error next to its field; a success redirects to the timeline with a message (PRG).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from carecoord.access import get_patient_for_user
from carecoord.models import Patient
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import POST, actor, loads
from referrals.milestones.forms import (
    InfusionForm,
    MilestoneCancelForm,
    MilestoneCompleteForm,
    MilestoneConfirmForm,
    MilestoneMoveForm,
    MilestonePlanForm,
    form_auto_id,
)
from referrals.milestones.kinds import milestone_label
from referrals.milestones.services import (
    milestone_cancel,
    milestone_complete,
    milestone_confirm_conflict,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
)
from referrals.models import Milestone, Referral
from referrals.selectors import get_milestone_for_user, get_referral_for_user
from workspace.timeline.page import Failure, render_timeline, timeline_url

# Runs the service with the cleaned form; returns the success message and the row to show.
Action = Callable[[forms.Form], tuple[str, str]]


def _recorder(request: HttpRequest, referral: Referral) -> Patient:
    return get_patient_for_user(request.user, referral.patient_id, Capability.RECORD_CARE)


def _act(request: HttpRequest, patient: Patient, failure: Failure, action: Action) -> HttpResponse:
    form = failure.form
    if form.is_valid():
        try:
            message, anchor = action(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect(timeline_url(patient.pk, anchor))
    return render_timeline(request, patient, failure, status=400)


def _on(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else ""


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_complete_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    patient = _recorder(request, milestone.referral)
    form = MilestoneCompleteForm(request.POST, auto_id=form_auto_id("complete", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        done = milestone_complete(
            actor=actor(request),
            milestone=milestone,
            actual_on=form.cleaned_data["actual_on"],
            note=form.cleaned_data["note"],
            confirm_date=form.cleaned_data["confirm_date"],
        )
        return f"{milestone_label(done.kind)}: done on {_on(done.actual_on)}.", f"milestone-{done.pk}"

    return _act(request, patient, Failure("complete", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_move_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    patient = _recorder(request, milestone.referral)
    form = MilestoneMoveForm(request.POST, auto_id=form_auto_id("move", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        moved = milestone_move(
            actor=actor(request),
            milestone=milestone,
            planned_on=form.cleaned_data["planned_on"],
            reason=form.cleaned_data["reason"],
            confirm_date=form.cleaned_data["confirm_date"],
        )
        return f"{milestone_label(moved.kind)}: moved to {_on(moved.planned_on)}.", f"milestone-{moved.pk}"

    return _act(request, patient, Failure("move", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_cancel_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    patient = _recorder(request, milestone.referral)
    form = MilestoneCancelForm(request.POST, auto_id=form_auto_id("cancel", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        cancelled = milestone_cancel(actor=actor(request), milestone=milestone, reason=form.cleaned_data["reason"])
        return f"{milestone_label(cancelled.kind)}: cancelled.", f"milestone-{cancelled.pk}"

    return _act(request, patient, Failure("cancel", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_confirm_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    """Keep a date that conflicts with the course, with the reason the other site reads."""
    patient = _recorder(request, milestone.referral)
    form = MilestoneConfirmForm(request.POST, auto_id=form_auto_id("confirm", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        kept = milestone_confirm_conflict(actor=actor(request), milestone=milestone, reason=form.cleaned_data["reason"])
        return f"{milestone_label(kept.kind)}: kept on {_on(kept.planned_on)}.", f"milestone-{kept.pk}"

    return _act(request, patient, Failure("confirm", milestone.pk, form), action)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def referral_infusion_view(request: HttpRequest, referral: Referral) -> HttpResponse:
    """Set or move day 0; the service recomputes every planned date that depends on it."""
    patient = _recorder(request, referral)
    form = InfusionForm(request.POST, auto_id=form_auto_id("infusion", referral.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        infusion_on = form.cleaned_data["infusion_on"]
        milestone_set_infusion(
            actor=actor(request),
            referral=referral,
            infusion_on=infusion_on,
            reason=form.cleaned_data["reason"],
            confirm_date=form.cleaned_data["confirm_date"],
        )
        return (
            f"Infusion (day 0) set for {_on(infusion_on)}; the planned dates follow it.",
            f"referral-{referral.pk}",
        )

    return _act(request, patient, Failure("infusion", referral.pk, form), action)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def milestone_plan_view(request: HttpRequest, referral: Referral) -> HttpResponse:
    """Plan a preparation step (consult, authorization, apheresis, release, bridging)."""
    patient = _recorder(request, referral)
    sites = [link.site for link in open_care_team_links().filter(patient=patient)]
    form = MilestonePlanForm(request.POST, auto_id=form_auto_id("plan", referral.pk), sites=sites)

    def action(_: forms.Form) -> tuple[str, str]:
        planned = milestone_plan(
            actor=actor(request),
            referral=referral,
            kind=form.cleaned_data["kind"],
            planned_on=form.cleaned_data["planned_on"],
            given_at=form.given_at_site(),
            note=form.cleaned_data["note"],
            confirm_date=form.cleaned_data["confirm_date"],
        )
        return f"{milestone_label(planned.kind)}: planned for {_on(planned.planned_on)}.", f"milestone-{planned.pk}"

    return _act(request, patient, Failure("plan", referral.pk, form), action)
