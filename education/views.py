"""Education pages: the materials (read by everyone signed in, edited by site administrators),
a patient's education (what was given, and recording more) and the patient's wallet card PDF.

Every patient route loads its patient through the access path first, so an outsider gets 404
whatever the method; then the method is checked, then the role (403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from audit.models import AuditEntry
from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.downloads import attachment_disposition
from carecoord.models import Patient
from carecoord.reads import shown, shown_patient
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors, focus_first_error
from carecoord.web.shortcuts import SAFE, SAFE_AND_POST, actor, loads, viewer_zone
from education.forms import EducationGivenForm, MaterialContentForm, MaterialCreateForm
from education.models import EducationMaterial, EducationMaterialVersion
from education.selectors import (
    current_versions,
    education_given_to,
    get_material,
    get_material_version,
    materials_with_versions,
)
from education.services import education_record, material_create, material_revise, require_material_editor
from education.wallet_card import wallet_card_of, wallet_card_pdf
from toxicity.forms import site_time_now

GIVEN_SHOWN = 50  # the latest on the page; every one is on the timeline and in the API


# --- Materials ------------------------------------------------------------------------------


@login_required
@require_safe
def material_list(request: HttpRequest) -> HttpResponse:
    """Every material by phase and audience, with its versions; editing links for administrators."""
    context = {
        "memberships": active_memberships_of(request.user),
        "materials": list(materials_with_versions()),
        "may_edit": request.user.is_staff,
    }
    return render(request, "education/material_list.html", context)


@login_required
@require_http_methods(SAFE_AND_POST)
def material_create_view(request: HttpRequest) -> HttpResponse:
    require_material_editor(actor(request))
    context: dict[str, Any] = {"memberships": active_memberships_of(request.user)}
    if request.method != "POST":
        context["form"] = MaterialCreateForm()
        return render(request, "education/material_create.html", context)
    form = MaterialCreateForm(request.POST)
    if form.is_valid():
        try:
            version = material_create(actor=actor(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{version.material.name} saved as version 1.")
            return redirect("education-material-list")
    context["form"] = form
    return render(request, "education/material_create.html", context, status=400)


@login_required
@loads(get_material, "material_id", methods=SAFE_AND_POST)
def material_edit(request: HttpRequest, material: EducationMaterial) -> HttpResponse:
    """The material's next version; saving makes it the one taught from now on."""
    require_material_editor(actor(request))
    versions = list(material.versions.all())
    context: dict[str, Any] = {
        "memberships": active_memberships_of(request.user),
        "material": material,
        "versions": versions,
        "next_number": versions[0].number + 1 if versions else 1,
    }
    if request.method != "POST":
        latest = versions[0] if versions else None
        initial = {"title": latest.title, "body": latest.body} if latest else {}
        context["form"] = MaterialContentForm(initial=initial)
        return render(request, "education/material_edit.html", context)
    form = MaterialContentForm(request.POST)
    if form.is_valid():
        try:
            version = material_revise(actor=actor(request), material=material, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} saved: it is the one taught from now on.")
            return redirect("education-material-edit", material_id=material.pk)
    context["form"] = form
    return render(request, "education/material_edit.html", context, status=400)


@login_required
@loads(get_material_version, "material_version_id", methods=SAFE)
def material_version(request: HttpRequest, version: EducationMaterialVersion) -> HttpResponse:
    """One version as it was taught: never changed once saved."""
    memberships = active_memberships_of(request.user)
    context = {"memberships": memberships, "zone": viewer_zone(memberships), "version": version}
    return render(request, "education/material_version.html", context)


# --- A patient's education ------------------------------------------------------------------


def _patient_context(request: HttpRequest, patient: Patient, form: EducationGivenForm | None = None) -> dict[str, Any]:
    memberships = active_memberships_of(request.user)
    zone = viewer_zone(memberships)
    given = list(education_given_to(patient.pk)[:GIVEN_SHOWN])
    shown(given, what="viewed education given")
    context: dict[str, Any] = {
        "memberships": memberships,
        "zone": zone,
        "patient": patient,
        "given": given,
        "form": None,
    }
    if Capability.RECORD_CARE in patient_capabilities(request.user, patient):
        sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
        if sites:
            context["form"] = form or EducationGivenForm(
                sites=sites,
                versions=list(current_versions()),
                phase=patient.phase,
                initial={"given_at": site_time_now(sites[0].zone)},
            )
    return context


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE_AND_POST)
def patient_education(request: HttpRequest, patient: Patient) -> HttpResponse:
    """What the patient, their caregiver and community clinicians were taught; recording more."""
    if request.method != "POST":
        shown_patient(patient.pk, patient, what="viewed education")
        return render(request, "education/patient_education.html", _patient_context(request, patient))
    # The patient loaded above, checked now for the write: 403 before the body is read.
    require_capability(request.user, patient, Capability.RECORD_CARE)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    form = EducationGivenForm(request.POST, sites=sites, versions=list(current_versions()), phase=patient.phase)
    if form.is_valid():
        try:
            given = education_record(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                version=form.chosen_version(),
                recipient=form.cleaned_data["recipient"],
                given_at=form.aware("given_at"),
                confirm_date=form.cleaned_data["confirm_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Recorded: {given.version.title}, given to the {given.get_recipient_display().lower()}."
            )
            return redirect("education-patient", patient_id=patient.pk)
    focus_first_error(form)
    context = _patient_context(request, patient, form)
    return render(request, "education/patient_education.html", context, status=400)


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE)
def wallet_card(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The patient's wallet card as a PDF: product, day 0, the center's 24/7 number, what to tell
    an emergency department, and the restrictions still running with their end dates."""
    zone = viewer_zone(active_memberships_of(request.user))
    pdf = wallet_card_pdf(wallet_card_of(patient), timezone.localdate(timezone=zone))
    shown_patient(patient.pk, patient, what="downloaded wallet card", action=AuditEntry.Action.DOWNLOAD)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = attachment_disposition("wallet-card", "pdf")
    return response
