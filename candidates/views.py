"""The treatment history page: the lines of therapy a patient received and whether they are a
transplant candidate, recorded by the roles that record care at a care-team site.

The patient is loaded through the access path first (404 for an outsider), then the method is
checked, then, for a write, the role (403 before the body is read).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from candidates.forms import TherapyLineForm, TransplantCandidacyForm
from candidates.models import TherapyLine
from candidates.selectors import get_therapy_line_for_user, therapy_lines_of, transplant_candidacy_of
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.models import Patient
from carecoord.reads import shown_patient
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors, focus_first_error
from carecoord.web.shortcuts import POST, SAFE_AND_POST, actor, loads


def _next_number(lines: list[TherapyLine]) -> int:
    return max((line.number for line in lines), default=0) + 1


def _context(
    request: HttpRequest,
    patient: Patient,
    *,
    line_form: TherapyLineForm | None = None,
    candidacy_form: TransplantCandidacyForm | None = None,
) -> dict[str, Any]:
    lines = therapy_lines_of(patient.pk)
    candidacy = transplant_candidacy_of(patient.pk)
    shown_patient(patient.pk, patient, what="viewed treatment history")
    context: dict[str, Any] = {
        "memberships": active_memberships_of(request.user),
        "patient": patient,
        "lines": lines,
        "candidacy": candidacy,
        "line_form": None,
        "candidacy_form": None,
    }
    if Capability.RECORD_CARE in patient_capabilities(request.user, patient):
        sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
        if sites:
            context["line_form"] = line_form or TherapyLineForm(sites=sites, initial={"number": _next_number(lines)})
            initial = {"status": candidacy.status, "reason": candidacy.reason} if candidacy else {}
            context["candidacy_form"] = candidacy_form or TransplantCandidacyForm(sites=sites, initial=initial)
    return context


def _save_line(
    request: HttpRequest, patient: Patient, line: TherapyLine | None = None
) -> tuple[TherapyLineForm, TherapyLine | None]:
    """The posted line recorded (or `line` corrected) for the chosen site: the form, and the
    line saved, or None with the form's errors (the service's on their fields)."""
    require_capability(request.user, patient, Capability.RECORD_CARE)
    form = TherapyLineForm(request.POST, sites=sites_that_can(request.user, patient, Capability.RECORD_CARE))
    if form.is_valid():
        try:
            saved = therapy_line_record(
                actor=actor(request), patient=patient, site=form.chosen_site(), line=line, **form.values()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return form, saved
    focus_first_error(form)
    return form, None


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE_AND_POST)
def treatment_history(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The patient's lines of therapy and transplant candidacy; recording a line."""
    if request.method != "POST":
        return render(request, "candidates/history.html", _context(request, patient))
    form, saved = _save_line(request, patient)
    if saved is not None:
        messages.success(request, f"Line {saved.number} recorded: {saved.regimen}.")
        return redirect("candidates-history", patient_id=patient.pk)
    return render(request, "candidates/history.html", _context(request, patient, line_form=form), status=400)


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def transplant_candidacy(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Record whether the patient is a transplant candidate."""
    require_capability(request.user, patient, Capability.RECORD_CARE)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    form = TransplantCandidacyForm(request.POST, sites=sites)
    if form.is_valid():
        try:
            candidacy = transplant_candidacy_record(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Transplant candidacy recorded: {candidacy.get_status_display().lower()}.")
            return redirect("candidates-history", patient_id=patient.pk)
    focus_first_error(form)
    context = _context(request, patient, candidacy_form=form)
    return render(request, "candidates/history.html", context, status=400)


@login_required
@loads(get_therapy_line_for_user, "line_id", methods=SAFE_AND_POST)
def therapy_line_edit(request: HttpRequest, line: TherapyLine) -> HttpResponse:
    """Correct or complete a recorded line: its end, response, refractoriness, relapse."""
    patient = line.patient
    require_capability(request.user, patient, Capability.RECORD_CARE)
    shown_patient(patient.pk, line, what="viewed a therapy line to edit")
    if request.method != "POST":
        initial = {name: getattr(line, name) for name in TherapyLineForm.base_fields if name != "site"}
        form = TherapyLineForm(sites=sites_that_can(request.user, patient, Capability.RECORD_CARE), initial=initial)
        answer = 200
    else:
        form, saved = _save_line(request, patient, line)
        if saved is not None:
            messages.success(request, f"Line {saved.number} saved: {saved.regimen}.")
            return redirect("candidates-history", patient_id=patient.pk)
        answer = 400
    context = {"memberships": active_memberships_of(request.user), "patient": patient, "line": line, "form": form}
    return render(request, "candidates/line_edit.html", context, status=answer)
