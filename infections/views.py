"""The infection pages: a patient's infections, prophylaxis plan and vaccinations, and their forms.

Every route loads its patient or item through the access path first, so an outsider gets 404
whatever the method; a viewer whose role may not record care gets 403 before the body is read;
a refused entry comes back with the error next to its field (400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.models import Patient, Site
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import POST, SAFE, SAFE_AND_POST, actor, loads
from infections import forms as f
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from infections.selectors import (
    get_infection_for_user,
    get_prophylaxis_for_user,
    get_vaccination_for_user,
    infection_record_of,
    proposed_plan,
)
from infections.services import (
    infection_record,
    infection_resolve,
    plan_confirm,
    prophylaxis_add,
    prophylaxis_review,
    prophylaxis_stop,
    vaccination_add,
    vaccination_give,
)

_viewable_patient = partial(get_patient_for_user, capability=Capability.VIEW)
_recordable_patient = partial(get_patient_for_user, capability=Capability.RECORD_CARE)


def _recording_sites(request: HttpRequest, patient: Patient) -> list[Site]:
    """The viewer's sites that record care for the patient; 403 before the body is read."""
    require_capability(request.user, patient, Capability.RECORD_CARE)
    return sites_that_can(request.user, patient, Capability.RECORD_CARE)


def _page(patient: Patient, anchor: str = "") -> HttpResponse:
    url = redirect("infections-patient", patient_id=patient.pk).url
    return redirect(f"{url}#{anchor}" if anchor else url)


@dataclass(frozen=True)
class Failure:
    """A row action that did not go through, shown again open with its errors."""

    action: str  # "resolve", "stop", "review", "given"
    item_id: int
    form: BaseForm


def _page_context(request: HttpRequest, patient: Patient, failure: Failure | None = None) -> dict[str, Any]:
    record = infection_record_of(patient)
    can_record = Capability.RECORD_CARE in patient_capabilities(request.user, patient)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE) if can_record else []
    memberships = active_memberships_of(request.user)
    today = sites[0].today() if sites else (memberships[0].site.today() if memberships else timezone.localdate())
    return {
        "memberships": memberships,
        "patient": patient,
        "record": record,
        "can_record": can_record,
        "today": today,
        "failure": failure,
        "site_form": f.SiteForm(sites=sites, auto_id=False),
        "prophylaxis_rows": [(item, item.due(today)) for item in record.prophylaxis],
        "vaccination_rows": [(item, item.due(today)) for item in record.vaccinations],
    }


@login_required
@loads(_viewable_patient, "patient_id", methods=SAFE)
def patient_infections(request: HttpRequest, patient: Patient) -> HttpResponse:
    """A patient's infections, prophylaxis plan and vaccinations, with what is due."""
    shown(patient, what="viewed infections and prevention plan")
    return render(request, "infections/patient.html", _page_context(request, patient))


def _failed(request: HttpRequest, patient: Patient, failure: Failure) -> HttpResponse:
    return render(request, "infections/patient.html", _page_context(request, patient, failure), status=400)


# --- infections ----------------------------------------------------------------------------


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def record(request: HttpRequest, patient: Patient) -> HttpResponse:
    """A new infection; a severe one (grade 3+, ICU, fever while neutropenic) alerts at once."""
    shown(patient)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    if request.method != "POST":
        today = sites[0].today() if sites else timezone.localdate()
        form = f.InfectionForm(sites=sites, initial={"onset_on": today})
        return render(request, "infections/record.html", {"patient": patient, "form": form})
    form = f.InfectionForm(request.POST, sites=sites)
    if form.is_valid():
        data = form.cleaned_data
        try:
            infection = infection_record(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                body_site=data["body_site"],
                organism=data["organism"],
                category=data["category"],
                grade=data["grade"],
                setting=data["setting"],
                neutropenic_fever=data["neutropenic_fever"],
                onset_on=data["onset_on"],
                note=data["note"],
                confirm_date=data["confirm_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            alerted = " Every point person is alerted." if infection.toxicity_event_id else ""
            messages.success(request, f"Infection recorded.{alerted}")
            return _page(patient, f"infection-{infection.pk}")
    return render(request, "infections/record.html", {"patient": patient, "form": form}, status=400)


def _row_action(
    request: HttpRequest,
    patient: Patient,
    form_class: type[f.SiteForm],
    failure: tuple[str, int],
    write: Callable[[f.SiteForm], object],
    done: tuple[str, str],
) -> HttpResponse:
    """A row's action (resolve, stop, continue, given): `write` runs the service with the valid
    form; a refusal shows the page again with the row's form open and its errors (400)."""
    sites = _recording_sites(request, patient)
    action, item_id = failure
    form = form_class(request.POST, sites=sites, auto_id=f"id_{action}_{item_id}_%s")
    if form.is_valid():
        try:
            write(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            message, anchor = done
            messages.success(request, message)
            return _page(patient, anchor)
    return _failed(request, patient, Failure(action, item_id, form))


@login_required
@loads(get_infection_for_user, "infection_id", methods=POST)
def resolve(request: HttpRequest, infection: InfectionEvent) -> HttpResponse:
    def write(form: f.SiteForm) -> object:
        on = form.cleaned_data["resolved_on"]
        return infection_resolve(actor=actor(request), infection=infection, site=form.chosen_site(), resolved_on=on)

    done = ("Infection resolved.", f"infection-{infection.pk}")
    return _row_action(request, infection.patient, f.ResolveForm, ("resolve", infection.pk), write, done)


# --- the standard plan, proposed then confirmed --------------------------------------------


def _proposal(patient: Patient) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The proposed lines as the forms' initial values, and whose defaults they follow."""
    plan = proposed_plan(patient)
    prophylaxis = [
        {
            "include": p.include,
            "kind": p.kind,
            "agent": p.agent,
            "start_on": p.start_on,
            "planned_stop_on": p.planned_stop_on,
            "stop_condition": p.stop_condition,
        }
        for p in plan.prophylaxis
    ]
    vaccines = [
        {"include": v.include, "vaccine": v.vaccine, "due_on": v.due_on, "live": v.live} for v in plan.vaccinations
    ]
    return prophylaxis, vaccines, plan.set_by


def _plan_context(
    patient: Patient, form: f.SiteForm, rows: BaseFormSet[Any], vaccines: BaseFormSet[Any], error: str = ""
) -> dict[str, Any]:
    return {"patient": patient, "form": form, "rows": rows, "vaccines": vaccines, "plan_error": error}


def _put_back(error: ValidationError, kept: dict[str, BaseForm], form: BaseForm) -> str:
    """A service error on "prophylaxis-1-agent" next to that field of that row; others on the form."""
    unplaced = []
    for key, errors in error.message_dict.items():
        target = kept.get(key.rsplit("-", 1)[0])
        name = key.rsplit("-", 1)[-1]
        if target is not None and name in target.fields:
            for message in errors:
                target.add_error(name, message)
        elif key in form.fields:
            for message in errors:
                form.add_error(key, message)
        else:
            unplaced += errors
    return " ".join(unplaced)


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def plan(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The standard prophylaxis and revaccination plan from day 0, proposed for the clinician
    to tick, edit and confirm: nothing is kept until confirmed."""
    shown(patient)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    if request.method != "POST":
        proposed_rows, proposed_vaccines, set_by = _proposal(patient)
        context = _plan_context(
            patient,
            f.SiteForm(sites=sites),
            f.ProphylaxisRows(initial=proposed_rows, prefix="prophylaxis"),
            f.VaccinationRows(initial=proposed_vaccines, prefix="vaccination"),
        ) | {"set_by": set_by}
        return render(request, "infections/plan.html", context)
    form = f.SiteForm(request.POST, sites=sites)
    rows = f.ProphylaxisRows(request.POST, prefix="prophylaxis")
    vaccines = f.VaccinationRows(request.POST, prefix="vaccination")
    error = ""
    if form.is_valid() & rows.is_valid() & vaccines.is_valid():
        kept_rows = [row for row in rows if row.cleaned_data.get("include")]
        kept_vaccines = [row for row in vaccines if row.cleaned_data.get("include")]
        # The service names a line by its place among those kept.
        kept: dict[str, BaseForm] = {f"prophylaxis-{n}": row for n, row in enumerate(kept_rows)}
        kept |= {f"vaccination-{n}": row for n, row in enumerate(kept_vaccines)}
        try:
            plan_confirm(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                prophylaxis=[row.item() for row in kept_rows],
                vaccinations=[row.item() for row in kept_vaccines],
            )
        except ValidationError as exc:
            error = _put_back(exc, kept, form)
        else:
            messages.success(request, "Prevention plan confirmed.")
            return _page(patient, "prophylaxis")
    return render(request, "infections/plan.html", _plan_context(patient, form, rows, vaccines, error), status=400)


# --- single lines ----------------------------------------------------------------------------


def _add_line(
    request: HttpRequest,
    patient: Patient,
    form_class: type[f.ProphylaxisForm | f.VaccinationForm],
    write: Callable[[Any], object],
    texts: tuple[str, str, str],
) -> HttpResponse:
    """A page adding one line to a plan; `write` runs the service with the valid form."""
    shown(patient)
    title, message, anchor = texts
    form = form_class(request.POST or None, sites=sites_that_can(request.user, patient, Capability.RECORD_CARE))
    if request.method == "POST" and form.is_valid():
        try:
            write(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return _page(patient, anchor)
    context = {"patient": patient, "form": form, "title": title}
    return render(request, "infections/line.html", context, status=400 if request.method == "POST" else 200)


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def prophylaxis_new(request: HttpRequest, patient: Patient) -> HttpResponse:
    """One line added to the prophylaxis plan (IVIG, an antifungal while neutropenic...)."""

    def write(form: f.ProphylaxisForm) -> object:
        return prophylaxis_add(actor=actor(request), patient=patient, site=form.chosen_site(), item=form.item())

    texts = ("Add a prophylaxis", "Prophylaxis added.", "prophylaxis")
    return _add_line(request, patient, f.ProphylaxisForm, write, texts)


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def vaccination_new(request: HttpRequest, patient: Patient) -> HttpResponse:
    """One vaccine added to the revaccination plan."""

    def write(form: f.VaccinationForm) -> object:
        return vaccination_add(actor=actor(request), patient=patient, site=form.chosen_site(), item=form.item())

    return _add_line(request, patient, f.VaccinationForm, write, ("Plan a vaccine", "Vaccine planned.", "vaccinations"))


@login_required
@loads(get_prophylaxis_for_user, "prophylaxis_id", methods=POST)
def stop(request: HttpRequest, item: ProphylaxisItem) -> HttpResponse:
    def write(form: f.SiteForm) -> object:
        on = form.cleaned_data["stopped_on"]
        return prophylaxis_stop(actor=actor(request), item=item, site=form.chosen_site(), stopped_on=on)

    done = ("Prophylaxis stopped.", "prophylaxis")
    return _row_action(request, item.patient, f.StopForm, ("stop", item.pk), write, done)


@login_required
@loads(get_prophylaxis_for_user, "prophylaxis_id", methods=POST)
def review(request: HttpRequest, item: ProphylaxisItem) -> HttpResponse:
    def write(form: f.SiteForm) -> object:
        data = form.cleaned_data
        return prophylaxis_review(
            actor=actor(request),
            item=item,
            site=form.chosen_site(),
            planned_stop_on=data["planned_stop_on"],
            stop_condition=data["stop_condition"],
        )

    done = ("Prophylaxis continued.", "prophylaxis")
    return _row_action(request, item.patient, f.ReviewForm, ("review", item.pk), write, done)


@login_required
@loads(get_vaccination_for_user, "vaccination_id", methods=POST)
def given(request: HttpRequest, item: VaccinationItem) -> HttpResponse:
    def write(form: f.SiteForm) -> object:
        on = form.cleaned_data["given_on"]
        return vaccination_give(actor=actor(request), item=item, site=form.chosen_site(), given_on=on)

    done = ("Vaccine recorded as given.", "vaccinations")
    return _row_action(request, item.patient, f.GivenForm, ("given", item.pk), write, done)
