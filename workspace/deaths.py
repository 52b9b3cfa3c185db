"""The death page: recording that a patient died, correcting it, withdrawing it if recorded in
error. Either care-team site, by a role that records care.

The patient is loaded through the access path first (404 for an outsider), then the method is
checked, then, for a write, the role (403 before the body is read).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.models import Patient
from carecoord.reads import shown_patient
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors, focus_first_error
from carecoord.web.shortcuts import POST, SAFE_AND_POST, actor, loads
from referrals.deaths import death_of, death_record, death_withdraw
from toxicity.selectors import get_event_for_user
from workspace.death_forms import DeathForm, DeathWithdrawForm


def _context(
    request: HttpRequest,
    patient: Patient,
    *,
    form: DeathForm | None = None,
    withdraw_form: DeathWithdrawForm | None = None,
) -> dict[str, Any]:
    death = death_of(patient)
    shown_patient(patient.pk, death or patient, what="viewed the record of death")
    context: dict[str, Any] = {
        "memberships": active_memberships_of(request.user),
        "patient": patient,
        "death": death,
        "form": None,
        "withdraw_form": None,
    }
    if Capability.RECORD_CARE in patient_capabilities(request.user, patient):
        sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
        if sites:
            initial = (
                {"died_on": death.died_on, "cause": death.cause, "detail": death.detail}
                if death
                else _from_event(request, patient)
            )
            context["form"] = form or DeathForm(sites=sites, initial=initial)
            if death is not None:
                context["withdraw_form"] = withdraw_form or DeathWithdrawForm(sites=sites)
    return context


def _from_event(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """The day and cause of a fatal toxicity the page was opened from (`?event=`, its id: the
    address carries no date nor cause), if it is this patient's and fatal."""
    event_id = request.GET.get("event", "")
    if not event_id.isdigit():
        return {}
    try:
        event = get_event_for_user(request.user, event_id)
    except Http404:
        return {}
    if event.patient_id != patient.pk or not event.fatal:
        return {}
    return {"died_on": event.resolved_on, "cause": event.death_cause}


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE_AND_POST)
def patient_death(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The patient's recorded death, if any; recording or correcting it."""
    if request.method != "POST":
        return render(request, "carecoord/patient_death.html", _context(request, patient))
    require_capability(request.user, patient, Capability.RECORD_CARE)
    form = DeathForm(request.POST, sites=sites_that_can(request.user, patient, Capability.RECORD_CARE))
    if form.is_valid():
        try:
            death = death_record(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                died_on=form.cleaned_data["died_on"],
                cause=form.cleaned_data["cause"],
                detail=form.cleaned_data["detail"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Death recorded: {death.died_on:%d %b %Y}, {death.get_cause_display().lower()}.")
            return redirect("patient-detail", patient_id=patient.pk)
    focus_first_error(form)
    return render(request, "carecoord/patient_death.html", _context(request, patient, form=form), status=400)


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_death_withdraw(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Withdraw a death recorded in error."""
    require_capability(request.user, patient, Capability.RECORD_CARE)
    form = DeathWithdrawForm(request.POST, sites=sites_that_can(request.user, patient, Capability.RECORD_CARE))
    if form.is_valid():
        try:
            death_withdraw(
                actor=actor(request), patient=patient, site=form.chosen_site(), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Withdrawn: the steps the death cancelled are planned again.")
            return redirect("patient-detail", patient_id=patient.pk)
    focus_first_error(form)
    context = _context(request, patient, withdraw_form=form)
    return render(request, "carecoord/patient_death.html", context, status=400)
