"""Milestone actions from the shared timeline: their forms, opened one at a time, and their posts.

Each action loads its milestone or referral through the access path first, so an object
outside the viewer's scope is a 404 whatever the method; a viewer who may see but not
record care gets 403, for the form as for the post. A form opens from the timeline with
htmx (the fragment alone) or as a page of its own without JavaScript. A form the service
refuses is shown again on the timeline, with the error next to its field; a success
redirects to the timeline with a message (PRG).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from carecoord.access import get_patient_for_user
from carecoord.models import Patient
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import POST, SAFE, HtmxHttpRequest, actor, loads, viewer_zone
from referrals.milestones.forms import (
    InfusionForm,
    MilestoneCancelForm,
    MilestoneCompleteForm,
    MilestoneConfirmForm,
    MilestoneCorrectForm,
    MilestoneMoveForm,
    MilestonePlanForm,
    form_auto_id,
)
from referrals.milestones.kinds import milestone_label, milestone_label_or_kind
from referrals.milestones.services import (
    day_text,
    day_zero_fixed,
    day_zero_stays,
    milestone_cancel,
    milestone_complete,
    milestone_confirm_conflict,
    milestone_correct_done,
    milestone_move,
    milestone_plan,
    milestone_set_infusion,
    require_day_zero_site,
)
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.selectors import get_milestone_for_user, get_referral_for_user
from referrals.workflow import State
from workspace.timeline.failure import Failure
from workspace.timeline.links import milestone_row_url, timeline_url
from workspace.timeline.milestone_actions import (
    ACTIONS,
    DAY_ZERO_ACTIONS,
    actions_of,
    blank_form,
    changeable,
    moves_day_zero,
)
from workspace.timeline.page import render_timeline

# Runs the service with the cleaned form; returns the success message and where to show it.
Action = Callable[[forms.Form], tuple[str, str]]


def _recorder(request: HttpRequest, referral: Referral) -> Patient:
    return get_patient_for_user(request.user, referral.patient_id, Capability.RECORD_CARE)


def _act(request: HttpRequest, patient: Patient, failure: Failure, action: Action) -> HttpResponse:
    form = failure.form
    if form.is_valid():
        try:
            message, url = action(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect(url)
    return render_timeline(request, patient, failure, status=400)


def _refused_but_day_zero_site(request: HttpRequest, referral: Referral, patient: Patient) -> HttpResponse | None:
    """The timeline again, saying why (403), for anyone but the staff of the referral's center
    who record care: day 0 is theirs to set, move or correct. None for them."""
    try:
        require_day_zero_site(actor(request), referral)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return render_timeline(request, patient, status=403)
    return None


def milestone_form(action_name: str) -> Callable[..., HttpResponse]:
    """The view of the empty form of one action (`milestone_actions.ACTIONS`), for one milestone."""
    action = ACTIONS[action_name]

    @vary_on_headers("HX-Request")
    @login_required
    @loads(get_milestone_for_user, "milestone_id", methods=SAFE)
    def view(request: HtmxHttpRequest, milestone: Milestone) -> HttpResponse:
        patient = _recorder(request, milestone.referral)  # 403 for a role that may not post it
        if action in DAY_ZERO_ACTIONS and moves_day_zero(milestone):
            require_day_zero_site(actor(request), milestone.referral)  # 403 but for the center
        shown(milestone)
        memberships = active_memberships_of(request.user)
        available = changeable(milestone.referral) and action in actions_of(milestone)
        today = timezone.localdate(timezone=viewer_zone(memberships))
        form = blank_form(action, milestone, today) if available else None
        if form is not None:
            # The link that opened it is gone: the first field takes the focus.
            form.fields[action.first_field].widget.attrs["autofocus"] = True
        context = {
            "memberships": memberships,
            "patient": patient,
            "milestone": milestone,
            "label": milestone_label_or_kind(milestone.kind),
            "row_url": milestone_row_url(patient.pk, milestone.pk),
            "action": action,
            "form": form,
        }
        template = (
            "carecoord/_timeline_milestone_form.html" if request.htmx else "carecoord/timeline_milestone_form.html"
        )
        return render(request, template, context)

    view.__name__ = view.__qualname__ = f"milestone_{action_name}_form"
    return view


def _infusion_of(referral: Referral) -> Milestone | None:
    """The referral's infusion, unless cancelled: its date is day 0."""
    infusions = referral.milestones.filter(kind=MilestoneKind.INFUSION)
    return infusions.exclude(status=Milestone.Status.CANCELLED).first()


# A referral's own actions, by the name its form's URL takes: their labels and first fields.
REFERRAL_FORMS = {"infusion": ("Set or move day 0", "infusion_on"), "plan": ("Plan a preparation step", "kind")}


def referral_form(name: str) -> Callable[..., HttpResponse]:
    """The view of the empty form of a referral's own action (`REFERRAL_FORMS`): day 0, or a
    preparation step. Built only when opened, as a milestone's."""
    label, first_field = REFERRAL_FORMS[name]

    @vary_on_headers("HX-Request")
    @login_required
    @loads(get_referral_for_user, "referral_id", methods=SAFE)
    def view(request: HtmxHttpRequest, referral: Referral) -> HttpResponse:
        patient = _recorder(request, referral)  # 403 for a role that may not post it
        if name == "infusion":
            require_day_zero_site(actor(request), referral)  # 403 but for the center
        shown(referral)
        day_zero = _infusion_of(referral)
        form: forms.Form | None = None
        if changeable(referral) and name == "plan":
            sites = [link.site for link in open_care_team_links().filter(patient=patient)]
            form = MilestonePlanForm(auto_id=form_auto_id("plan", referral.pk), sites=sites)
        elif changeable(referral) and referral.state == State.ACCEPTED and not day_zero_stays(day_zero):
            initial = {"infusion_on": day_zero.planned_on if day_zero else None}
            form = InfusionForm(auto_id=form_auto_id("infusion", referral.pk), initial=initial)
        if form is not None:
            # The link that opened it is gone: the first field takes the focus.
            form.fields[first_field].widget.attrs["autofocus"] = True
        context = {
            "memberships": active_memberships_of(request.user),
            "patient": patient,
            "referral": referral,
            "infusion": day_zero,
            "label": label,
            "block_anchor": f"referral-{referral.pk}",
            "action": name,
            "form": form,
            # Not offered because the infusion is done: say so, rather than "reload it".
            "fixed": day_zero_fixed(day_zero) if name == "infusion" else "",
        }
        template = "carecoord/_timeline_referral_form.html" if request.htmx else "carecoord/timeline_referral_form.html"
        return render(request, template, context)

    view.__name__ = view.__qualname__ = f"referral_{name}_form"
    return view


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
        return f"{milestone_label(done.kind)}: done on {day_text(done.actual_on)}.", milestone_row_url(
            patient.pk, done.pk
        )

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
        message = f"{milestone_label(moved.kind)}: moved to {day_text(moved.planned_on)}."
        return message, milestone_row_url(patient.pk, moved.pk)

    return _act(request, patient, Failure("move", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_cancel_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    """Cancel a step; the infusion's (day 0) by the referral's center alone, anyone else
    refused before the form is read: the timeline again, saying why (403)."""
    patient = _recorder(request, milestone.referral)
    if moves_day_zero(milestone) and (refused := _refused_but_day_zero_site(request, milestone.referral, patient)):
        return refused
    form = MilestoneCancelForm(request.POST, auto_id=form_auto_id("cancel", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        cancelled = milestone_cancel(actor=actor(request), milestone=milestone, reason=form.cleaned_data["reason"])
        return f"{milestone_label(cancelled.kind)}: cancelled.", milestone_row_url(patient.pk, cancelled.pk)

    return _act(request, patient, Failure("cancel", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_confirm_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    """Keep a date that conflicts with the course, with the reason the other site reads."""
    patient = _recorder(request, milestone.referral)
    form = MilestoneConfirmForm(request.POST, auto_id=form_auto_id("confirm", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        kept = milestone_confirm_conflict(actor=actor(request), milestone=milestone, reason=form.cleaned_data["reason"])
        return f"{milestone_label(kept.kind)}: kept on {day_text(kept.planned_on)}.", milestone_row_url(
            patient.pk, kept.pk
        )

    return _act(request, patient, Failure("confirm", milestone.pk, form), action)


@login_required
@loads(get_milestone_for_user, "milestone_id", methods=POST)
def milestone_correct_view(request: HttpRequest, milestone: Milestone) -> HttpResponse:
    """Correct the day a step was done on; the infusion's (day 0) by the referral's center alone,
    anyone else refused before the form is read: the timeline again, saying why (403)."""
    patient = _recorder(request, milestone.referral)
    if moves_day_zero(milestone) and (refused := _refused_but_day_zero_site(request, milestone.referral, patient)):
        return refused
    form = MilestoneCorrectForm(request.POST, auto_id=form_auto_id("correct", milestone.pk))

    def action(form: forms.Form) -> tuple[str, str]:
        before = milestone.actual_on
        corrected = milestone_correct_done(
            actor=actor(request),
            milestone=milestone,
            actual_on=form.cleaned_data["actual_on"],
            reason=form.cleaned_data["reason"],
            confirm_date=form.cleaned_data["confirm_date"],
        )
        said = f"done date corrected from {day_text(before)} to {day_text(corrected.actual_on)}"
        return f"{milestone_label(corrected.kind)}: {said}.", milestone_row_url(patient.pk, corrected.pk)

    return _act(request, patient, Failure("correct", milestone.pk, form), action)


@login_required
@loads(get_referral_for_user, "referral_id", methods=POST)
def referral_infusion_view(request: HttpRequest, referral: Referral) -> HttpResponse:
    """The center sets or moves day 0; the service recomputes every planned date that depends on it.

    Anyone else is refused before the form is read: the timeline again, saying why (403)."""
    patient = _recorder(request, referral)
    if refused := _refused_but_day_zero_site(request, referral, patient):
        return refused
    # A form opened before the infusion was recorded done: no form to show again, the reason.
    if fixed := day_zero_fixed(_infusion_of(referral)):
        messages.error(request, fixed)
        return render_timeline(request, patient, status=409)
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
            f"Infusion (day 0) set for {day_text(infusion_on)}; the planned dates follow it.",
            timeline_url(patient.pk, f"referral-{referral.pk}"),
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
        message = f"{milestone_label(planned.kind)}: planned for {day_text(planned.planned_on)}."
        return message, milestone_row_url(patient.pk, planned.pk)

    return _act(request, patient, Failure("plan", referral.pk, form), action)
