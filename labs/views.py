"""Entering lab results in the browser: one by one, a pasted block or a CSV file, from the
patient's timeline (where the pasted block is offered) or the entry page (all three).

The patient is loaded through the access path first (404 for an outsider, 403 for a role that
may not record care), then the method is checked. A success goes back to the counts on the
timeline, saying what was recorded and who was told of a flagged value.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from carecoord.access import get_patient_for_user, sites_that_can
from carecoord.models import Patient, Site
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors, focus_first_error
from carecoord.web.shortcuts import POST, SAFE_AND_POST, actor, loads, next_or, viewer_zone
from labs.forms import DATE_FIELD, ENTRY_FORMS, CsvForm, PasteForm, ResultForm, dates_on
from labs.models import LabFlagNotice
from labs.selectors import flag_thresholds_for, get_lab_notice_for_user
from labs.services import Recorded, lab_flag_acknowledge, lab_results_record
from referrals.day_zero import day_zero_of

_recordable_patient = partial(get_patient_for_user, capability=Capability.RECORD_CARE)


EntryForm = ResultForm | PasteForm | CsvForm


def entry_forms(
    sites: list[Site], *, today: dt.date, day_zero: dt.date | None, bound: tuple[str, EntryForm] | None = None
) -> dict[str, EntryForm]:
    """The three entry forms, `bound` (mode, form) in place of its empty one."""
    initial = {"taken_on": today}
    forms: dict[str, EntryForm] = {
        "one": ResultForm(sites=sites, initial=initial),
        "paste": PasteForm(sites=sites, initial=initial, day_zero=day_zero),
        "csv": CsvForm(sites=sites, day_zero=day_zero),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    return forms


def _summary(recorded: Recorded) -> str:
    if not recorded.created:
        return f"Already recorded: {recorded.repeated} result{'s' if recorded.repeated != 1 else ''}; nothing new."
    parts = [f"Recorded {len(recorded.created)} result{'s' if len(recorded.created) != 1 else ''}."]
    if recorded.repeated:
        parts.append(f"{recorded.repeated} already recorded.")
    if recorded.flagged:
        values = ", ".join(f"{r.get_kind_display()} {r.value_text}" for r in recorded.flagged)
        told = sorted({f"{n.recipient.full_name} ({n.site.name})" for n in recorded.notices})
        parts.append(f"Flagged: {values}. Told: {', '.join(told) or 'nobody (no point person or coordinator)'}.")
    return " ".join(parts)


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def lab_entry(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Enter results for the patient, measured at one of the viewer's sites on the care team."""
    shown(patient, what="viewed lab entry")
    memberships = active_memberships_of(request.user)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    zone = sites[0].zone if sites else viewer_zone(memberships)
    today = timezone.localdate(timezone=zone)
    day_zero = day_zero_of(patient)
    context: dict[str, Any] = {
        "memberships": memberships,
        "patient": patient,
        "day_zero": day_zero,
        "flags": flag_thresholds_for(patient.pk),
    }
    if request.method != "POST":
        forms = entry_forms(sites, today=today, day_zero=day_zero)
        return render(request, "labs/entry.html", context | {"forms": forms, "open": ""})

    mode = request.POST.get("mode", "")
    if mode not in ENTRY_FORMS:
        mode = "paste"
    form_class = ENTRY_FORMS[mode]
    form: EntryForm
    if form_class is ResultForm:
        form = ResultForm(request.POST, sites=sites)
    else:
        form = form_class(request.POST, request.FILES, sites=sites, day_zero=day_zero)
    if form.is_valid():
        try:
            recorded = lab_results_record(
                actor=actor(request),
                patient=patient,
                site=form.chosen_site(),
                entries=form.entries(),
                confirm_date=form.cleaned_data["confirm_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, dates_on(exc, DATE_FIELD[mode]))
        else:
            messages.success(request, _summary(recorded))
            return redirect(reverse("patient-timeline", kwargs={"patient_id": patient.pk}) + "#counts")
    focus_first_error(form)
    forms = entry_forms(sites, today=today, day_zero=day_zero, bound=(mode, form))
    return render(request, "labs/entry.html", context | {"forms": forms, "open": mode}, status=400)


@login_required
@loads(get_lab_notice_for_user, "notice_id", methods=POST)
def lab_flag_acknowledge_view(request: HttpRequest, notice: LabFlagNotice) -> HttpResponse:
    """The person told has seen the patient's flagged values, for their site."""
    try:
        lab_flag_acknowledge(actor=actor(request), notice=notice)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Flagged values seen, for {notice.site.name}.")
    timeline = reverse("patient-timeline", kwargs={"patient_id": notice.result.patient_id}) + "#counts"
    return redirect(next_or(request, timeline))
