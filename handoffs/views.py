"""Hand-off pages: start one for a patient, fill the draft, send it, read it, acknowledge it,
ask about it, print it or download it as a PDF.

Every route loads its patient or hand-off through the access path first, so an outsider gets
404 whatever the method; then the method is checked. The services decide who may write:
their PermissionDenied is Django's 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers

from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.models import Patient, PointPerson, Site
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import (
    POST,
    SAFE,
    SAFE_AND_POST,
    HtmxHttpRequest,
    actor,
    flash_errors,
    loads,
    next_or,
    viewer_zone,
)
from handoffs.forms import (
    BLANK_ROWS,
    FieldView,
    QuestionForm,
    StartForm,
    posted_values,
    row_cells,
    section_views,
    value_errors,
)
from handoffs.models import Handoff, HandoffTemplateVersion, thread_sites
from handoffs.pdf import handoff_pdf_download
from handoffs.schema import MAX_ROWS, ROW_COLUMNS, fields_of
from handoffs.selectors import get_handoff_for_user, handoffs_visible_to, templates_visible_to
from handoffs.services import (
    handoff_acknowledge,
    handoff_ask,
    handoff_preview,
    handoff_save,
    handoff_send,
    handoff_start,
    may_acknowledge,
)


def _sites(request: HttpRequest, patient: Patient) -> tuple[list[Site], list[Site]]:
    """The sites the viewer may send a hand-off from (their role there records care), and the
    care team's other sites, where it goes."""
    mine = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    links = list(open_care_team_links().filter(patient=patient))
    others = [link.site for link in links if link.site not in mine]
    return mine, others or mine


def _start_form(request: HttpRequest, patient: Patient, data: Any = None) -> StartForm:
    from_sites, to_sites = _sites(request, patient)
    templates = (
        templates_visible_to(request.user)
        .filter(versions__status=HandoffTemplateVersion.Status.PUBLISHED)
        .distinct()
        .order_by("name")
    )
    initial = {"template": request.GET.get("template")} if request.GET.get("template", "").isdigit() else {}
    return StartForm(data, templates=templates, from_sites=from_sites, to_sites=to_sites, initial=initial)


@login_required
@loads(partial(get_patient_for_user, capability=Capability.RECORD_CARE), "patient_id", methods=SAFE_AND_POST)
def handoff_start_page(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Choose a template and the two sites; the draft comes prefilled from what carecoord knows."""
    form = _start_form(request, patient, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            handoff = handoff_start(
                actor=actor(request),
                patient=patient,
                template=form.cleaned_data["template"],
                from_site=form.site("from_site"),
                to_site=form.site("to_site"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Draft started: check what was filled in and complete the rest.")
            return redirect("handoff-edit", handoff_id=handoff.pk)
    shown(patient)
    context = {"memberships": active_memberships_of(request.user), "patient": patient, "form": form}
    return render(request, "handoffs/start.html", context, status=400 if form.errors else 200)


# --- filling the draft ------------------------------------------------------------------------


def _require_sender(request: HttpRequest, handoff: Handoff) -> None:
    """Reading the fill-in form is for those who may change the draft (the services check writes)."""
    require_capability(request.user, handoff.patient, Capability.RECORD_CARE)
    if handoff.from_site not in sites_that_can(request.user, handoff.patient, Capability.RECORD_CARE):
        raise PermissionDenied(f"Only staff of {handoff.from_site} change this hand-off, as their role there allows.")


def _render_edit(
    request: HttpRequest,
    handoff: Handoff,
    errors: dict[str, str] | None = None,
    *,
    notice: str = "",
    problems: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    context = {
        "memberships": active_memberships_of(request.user),
        "handoff": handoff,
        "patient": handoff.patient,
        "sections": section_views(handoff.version.schema, handoff.values, errors, blank_rows=BLANK_ROWS),
        "errors": errors,
        "notice": notice,
        "problems": problems,
    }
    return render(request, "handoffs/edit.html", context, status=status)


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=SAFE_AND_POST)
def handoff_edit(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    """The draft's fields by section. "Save draft" keeps it as typed; "Send" validates and sends."""
    _require_sender(request, handoff)
    if handoff.state != Handoff.State.DRAFT:
        messages.info(request, "This hand-off has been sent: it can no longer change. Start a new one to update it.")
        return redirect("handoff-detail", handoff_id=handoff.pk)
    shown(handoff)
    if request.method != "POST":
        return _render_edit(request, handoff)

    sender = actor(request)
    errors = handoff_save(actor=sender, handoff=handoff, values=posted_values(handoff.version.schema, request.POST))
    if request.POST.get("action") != "send":
        count = len(errors)
        notice = "Draft saved." + (
            f" {count} field{'s are' if count != 1 else ' is'} not right yet: see below." if count else ""
        )
        return _render_edit(request, handoff, errors, notice=notice)
    try:
        handoff_send(actor=sender, handoff=handoff)
    except ValidationError as exc:
        field_errors, problems = value_errors(exc)
        notice = "Not sent: the draft is saved, check the fields marked below."
        return _render_edit(request, handoff, field_errors, notice=notice, problems=problems, status=400)
    messages.success(request, f"Sent to {handoff.to_site}. Its point persons are told by email.")
    return redirect("handoff-detail", handoff_id=handoff.pk)


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=POST)
def handoff_preview_view(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    """The draft as the form holds it now, read as the other site would, with what still stops
    sending; nothing is saved. The edit page's "Preview" posts its form here, in a new tab, so
    the edits stay in the form."""
    _require_sender(request, handoff)
    if handoff.state != Handoff.State.DRAFT:
        messages.info(request, "This hand-off has been sent: it can no longer change. Start a new one to update it.")
        return redirect("handoff-detail", handoff_id=handoff.pk)
    shown(handoff, what="previewed hand-off draft")
    values, errors = handoff_preview(
        actor=actor(request), handoff=handoff, values=posted_values(handoff.version.schema, request.POST)
    )
    memberships = active_memberships_of(request.user)
    sections = section_views(handoff.version.schema, values, errors)
    context = {
        "memberships": memberships,
        "handoff": handoff,
        "patient": handoff.patient,
        "zone": viewer_zone(memberships),
        "sections": sections,
        "errors": errors,
        "unchanged": values == handoff.values,
    }
    return render(request, "handoffs/preview.html", context)


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=SAFE)
def handoff_row(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    """One more empty row of a list field (htmx), e.g. ?field=medications.current&index=4."""
    _require_sender(request, handoff)
    by_path = {f.path: f for f in fields_of(handoff.version.schema) if f.type in ROW_COLUMNS}
    field_ = by_path.get(request.GET.get("field", ""))
    index = request.GET.get("index", "")
    if field_ is None or not index.isdigit() or int(index) >= MAX_ROWS:
        return HttpResponse("No such row.", status=400, content_type="text/plain")
    shown(handoff)
    context = {
        "handoff": handoff,
        "f": FieldView(field=field_, value=None),
        "index": int(index),
        "cells": row_cells(field_, int(index), {}),
    }
    return render(request, "handoffs/_row_response.html", context)


# --- reading, acknowledging, asking -----------------------------------------------------------


def detail_context(request: HttpRequest, handoff: Handoff, question_form: QuestionForm | None = None) -> dict[str, Any]:
    """Everything the detail page shows, in a number of queries that does not grow with the thread."""
    memberships = active_memberships_of(request.user)
    user = actor(request)
    receivers = list(
        PointPerson.objects.open()
        .filter(link__patient=handoff.patient, link__site=handoff.to_site, user__is_active=True)
        .select_related("user")
        .order_by("rank")
    )
    recording = {site.pk for site in sites_that_can(user, handoff.patient, Capability.RECORD_CARE)}
    sent = handoff.state != Handoff.State.DRAFT
    writer = _writer(handoff, recording)
    may_ask = sent and writer is not None
    awaited = handoff.awaited_site_id()
    return {
        "memberships": memberships,
        "handoff": handoff,
        "patient": handoff.patient,
        "zone": viewer_zone(memberships),
        "sections": section_views(handoff.version.schema, handoff.values),
        "questions": list(handoff.questions.select_related("author", "site")),
        "question_form": (question_form or question_form_for(handoff, writer)) if may_ask else None,
        "awaited_site": _site_of(handoff, awaited),
        "receivers": receivers,
        "can_acknowledge": handoff.state == Handoff.State.SENT
        and may_acknowledge(user, handoff, [p.user for p in receivers]),
        "can_edit": not sent and handoff.from_site_id in recording,
        "is_sent": sent,
    }


def _writer(handoff: Handoff, recording: set[int]) -> int | None:
    """The site the viewer writes in the thread for, as `handoff_ask` chooses it; None: neither."""
    return next((site_id for site_id in thread_sites(handoff) if site_id in recording), None)


def _site_of(handoff: Handoff, site_id: int | None) -> Site | None:
    return {handoff.from_site_id: handoff.from_site, handoff.to_site_id: handoff.to_site}.get(site_id or 0)


def question_form_for(handoff: Handoff, writer: int | None, data: Any = None) -> QuestionForm:
    """The thread's form for someone writing for the site `writer`: it asks the other site, and
    answers by default when that site's question waits for the writer's."""
    other = handoff.from_site if writer == handoff.to_site_id else handoff.to_site
    return QuestionForm(data, other_site=other, answering=handoff.awaited_site_id() == writer)


def _render_detail(
    request: HttpRequest, handoff: Handoff, question_form: QuestionForm | None = None, status: int = 200
) -> HttpResponse:
    return render(request, "handoffs/detail.html", detail_context(request, handoff, question_form), status=status)


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=SAFE)
def handoff_detail(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    # Printing is this page with the print stylesheet: recorded as this read.
    shown(handoff)
    return _render_detail(request, handoff)


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=POST)
def handoff_acknowledge_view(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    """The receiving point person confirms the hand-off was read; anyone else gets 403."""
    try:
        handoff_acknowledge(actor=actor(request), handoff=handoff)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"Acknowledged. {handoff.from_site} sees it on the timeline.")
    return redirect(next_or(request, reverse("handoff-detail", kwargs={"handoff_id": handoff.pk})))


@vary_on_headers("HX-Request")
@login_required
@loads(get_handoff_for_user, "handoff_id", methods=POST)
def handoff_question(request: HtmxHttpRequest, handoff: Handoff) -> HttpResponse:
    """A question (or an answer) to the other site about a sent hand-off."""
    # Before the form: a role that may not record care is refused (403) whatever it posts.
    require_capability(request.user, handoff.patient, Capability.RECORD_CARE)
    recording = {site.pk for site in sites_that_can(request.user, handoff.patient, Capability.RECORD_CARE)}
    form = question_form_for(handoff, _writer(handoff, recording), request.POST)
    if form.is_valid():
        try:
            handoff_ask(
                actor=actor(request),
                handoff=handoff,
                body=form.cleaned_data["body"],
                needs_answer=form.cleaned_data["needs_answer"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Sent to the other site.")
            return redirect(reverse("handoff-detail", kwargs={"handoff_id": handoff.pk}) + "#questions")
    return _render_detail(request, handoff, form, status=400)


@login_required
@loads(get_patient_for_user, "patient_id", methods=SAFE)
def handoff_list(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The patient's hand-offs, newest first."""
    shown(patient, what="viewed hand-off list")
    memberships = active_memberships_of(request.user)
    context = {
        "memberships": memberships,
        "patient": patient,
        "handoffs": list(handoffs_visible_to(request.user).filter(patient=patient)),
        "zone": viewer_zone(memberships),
        "can_record": Capability.RECORD_CARE in patient_capabilities(request.user, patient),
    }
    return render(request, "handoffs/list.html", context)


# --- the PDF ----------------------------------------------------------------------------------


@login_required
@loads(get_handoff_for_user, "handoff_id", methods=SAFE)
def handoff_pdf(request: HttpRequest, handoff: Handoff) -> HttpResponse:
    """The sent hand-off as a PDF, stamped with its template version, sender and times."""
    if handoff.state == Handoff.State.DRAFT:
        return HttpResponse(
            "A draft has no PDF: send the hand-off first.", status=409, content_type="text/plain; charset=utf-8"
        )
    return handoff_pdf_download(request, handoff)
