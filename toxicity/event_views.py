"""Recording and following toxicities in the browser, from either site of the care team.

The grade is shown as the assessment is entered: the form posts to `grade_preview` (htmx)
on every change and gets back a small partial with the grade and its reason, computed by
`toxicity.assessment.grade_assessment` and saving nothing. Without JavaScript the form still
submits and the service grades it. Every route loads its patient or event through the
access path first, so an outsider gets 404 whatever the method; then the method is checked.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access import get_patient_for_user, patient_capabilities, require_capability, sites_that_can
from carecoord.models import Patient, Site, SiteMembership
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import POST, SAFE_AND_POST, HtmxHttpRequest, actor, loads, viewer_zone
from toxicity.alerts import alert_summary
from toxicity.assessment import ADULT, Circumstances, InputError, grade_assessment, is_pediatric
from toxicity.forms import (
    AssessmentForm,
    CRSForm,
    ICANSChildForm,
    ICANSForm,
    ManufacturerReportForm,
    PreviewForm,
    ReassessForm,
    RecordForm,
    ResolveForm,
    SiteForm,
    TreatmentForm,
    assessment_form_class,
    assessment_forms,
    site_time_now,
    system_of,
)
from toxicity.models import ASTCT_KINDS, Alert, ToxicityEvent, ToxicityKind, needs_manufacturer_report
from toxicity.selectors import (
    active_events_brief,
    assessment_circumstances,
    get_event_for_user,
    toxicity_events_visible_to,
)
from toxicity.services import (
    manufacturer_report_record,
    report_route_of,
    toxicity_add_treatment,
    toxicity_assess,
    toxicity_record,
    toxicity_resolve,
)

EVENT_ACTIONS = ("assess", "treatment", "resolve", "report")


@dataclass(frozen=True)
class Preview:
    """What the live region says: a grade with its reason, or the input that stops grading."""

    grade: int | None = None
    system: str = ""
    reason: str = ""
    field: str = ""
    error: str = ""


def _zone(sites: Sequence[Site], memberships: Sequence[SiteMembership]) -> zoneinfo.ZoneInfo:
    return sites[0].zone if sites else viewer_zone(memberships)


def preview_of(kind: str, form: AssessmentForm, circumstances: Circumstances = ADULT) -> Preview:
    """Grade what was entered so far, without saving anything."""
    system = "ASTCT" if kind in ASTCT_KINDS else "CTCAE"
    if not form.is_valid():
        field, error = form.first_error() or ("", " ".join(str(e) for e in form.non_field_errors()))
        return Preview(system=system, field=field, error=error)
    try:
        graded = grade_assessment(kind, form.inputs(), form.ctcae_grade(), circumstances)
    except InputError as exc:
        return Preview(system=system, field=exc.field, error=exc.plain)
    return Preview(grade=graded.grade, system=system, reason=graded.reason)


def is_child_today(patient: Patient, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether ICANS is entered with the CAPD on a form opened today (the service checks the date)."""
    return is_pediatric(patient.date_of_birth, timezone.localdate(timezone=zone))


def _posted_moment(request: HttpRequest, site: Site) -> dt.datetime:
    """The onset or assessment time typed so far, read in the site's zone; now when not readable."""
    value = request.POST.get("assessed_at") or request.POST.get("onset_at") or ""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return timezone.now()
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, site.zone)


def posted_preview(
    request: HttpRequest, patient: Patient, sites: Sequence[Site], *, pediatric: bool, purpose: str = "record"
) -> tuple[Preview, AssessmentForm | None]:
    """The grade of the posted assessment, with the form read for it (None without a kind): the
    live preview's, and the record page's when it is shown again after a refusal, so the
    grade stands beside the inputs it was computed from without waiting for a change."""
    kind_form = PreviewForm(request.POST)
    if not kind_form.is_valid():
        return Preview(field="kind", error="Choose the kind of toxicity."), None
    kind = kind_form.cleaned_data["kind"]
    auto_id = "id_assess_%s" if purpose == "assess" else "id_%s"
    form = assessment_form_class(kind, pediatric=pediatric)(request.POST, auto_id=auto_id)
    circumstances = Circumstances(pediatric=pediatric)
    if sites:
        at = _posted_moment(request, sites[0])
        event = _event_of(request, patient)
        circumstances, _ = assessment_circumstances(patient=patient, kind=kind, at=at, site=sites[0], event=event)
    return preview_of(kind, form, circumstances), form


# --- recording a new event --------------------------------------------------------------------


def _record_context(
    request: HttpRequest,
    patient: Patient,
    form: RecordForm,
    assessments: dict[str, AssessmentForm],
    preview: Preview | None = None,
) -> dict[str, Any]:
    return {
        "memberships": active_memberships_of(request.user),
        "patient": patient,
        "form": form,
        "crs_form": assessments["crs"],
        "icans_form": assessments["icans"],
        "ctcae_form": assessments["ctcae"],
        "preview": preview,
        # Named at the top, each to be reassessed: a second one of the same kind is asked about.
        "active": form.active,
        "zone": form.zone,
        "pediatric": is_child_today(patient, form.zone),
    }


# Recording needs the capability on the patient: 403 for a visible patient, before the method.
_recordable_patient = partial(get_patient_for_user, capability=Capability.RECORD_CARE)


def _record_posted(
    request: HttpRequest, patient: Patient, form: RecordForm, assessment: AssessmentForm
) -> ToxicityEvent:
    """Run the service with the two validated forms; infection details only for an infection."""
    infection = request.POST.get("kind", "") == ToxicityKind.INFECTION
    return toxicity_record(
        actor=actor(request),
        patient=patient,
        site=form.chosen_site(),
        kind=form.cleaned_data["kind"],
        onset_at=form.aware("onset_at"),
        confirm_date=form.cleaned_data["confirm_date"],
        inputs=assessment.inputs(),
        ctcae_grade=assessment.ctcae_grade(),
        note=form.cleaned_data["note"],
        infection_site=form.cleaned_data["infection_site"] if infection else "",
        organism=form.cleaned_data["organism"] if infection else "",
    )


@login_required
@loads(_recordable_patient, "patient_id", methods=SAFE_AND_POST)
def record(request: HttpRequest, patient: Patient) -> HttpResponse:
    """A new toxicity for the patient, graded from the assessment and alerted at once."""
    shown(patient)
    memberships = active_memberships_of(request.user)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    pediatric = is_child_today(patient, _zone(sites, memberships))
    active = active_events_brief(patient)
    if request.method != "POST":
        initial = {"onset_at": site_time_now(_zone(sites, memberships))}
        form = RecordForm(sites=sites, active=active, initial=initial)
        assessments = assessment_forms(pediatric=pediatric)
        return render(request, "toxicity/record.html", _record_context(request, patient, form, assessments))

    form = RecordForm(request.POST, sites=sites, active=active)
    kind = request.POST.get("kind", "")
    assessments = assessment_forms(request.POST, active=system_of(kind), pediatric=pediatric)
    assessment = assessments[system_of(kind)]
    # Both validated, so every error shows at once.
    if form.is_valid() & assessment.is_valid():
        try:
            event = _record_posted(request, patient, form, assessment)
        except ValidationError as exc:
            add_service_errors([form, assessment], exc)
        else:
            alerts = list(event.alerts.select_related("recipient"))
            lines = alert_summary(alerts, list(open_care_team_links().filter(patient=patient)))
            messages.success(request, " ".join(["Recorded. Alerted:", *lines]))
            return redirect("toxicity-event", event_id=event.pk)
    # Shown again with the grade of what was posted, as the live preview had it.
    preview, _ = posted_preview(request, patient, sites, pediatric=pediatric)
    context = _record_context(request, patient, form, assessments, preview)
    return render(request, "toxicity/record.html", context, status=400)


@vary_on_headers("HX-Request")
@login_required
@loads(_recordable_patient, "patient_id", methods=POST)
def grade_preview(request: HtmxHttpRequest, patient: Patient) -> HttpResponse:
    """The grade of what was entered so far: a partial for htmx, the record page otherwise."""
    memberships = active_memberships_of(request.user)
    sites = sites_that_can(request.user, patient, Capability.RECORD_CARE)
    pediatric = is_child_today(patient, _zone(sites, memberships))
    purpose = request.POST.get("purpose", "")
    preview, form = posted_preview(request, patient, sites, pediatric=pediatric, purpose=purpose)
    if request.htmx:
        # Each input's sentence slot is refreshed out of band: the message stands next to its field,
        # and a slot whose input is fine again is emptied.
        live = [(bf.auto_id, preview.error if bf.name == preview.field else "") for bf in form] if form else []
        context = {"preview": preview, "purpose": purpose, "live": live}
        return render(request, "toxicity/_grade_preview.html", context)
    # Without JavaScript the "Show the grade" button lands here: the form again, as entered.
    assessments = assessment_forms(request.POST, active=system_of(request.POST.get("kind", "")), pediatric=pediatric)
    entered = RecordForm(request.POST, sites=sites, active=active_events_brief(patient))
    context = _record_context(request, patient, entered, assessments)
    context["preview"] = preview
    context["purpose"] = "record"
    return render(request, "toxicity/record.html", context)


def _event_of(request: HttpRequest, patient: Patient) -> ToxicityEvent | None:
    """The event a reassessment preview is for (its treatments mask fever), if it is the patient's."""
    event_id = request.POST.get("event", "")
    if not event_id.isdigit():
        return None
    return toxicity_events_visible_to(request.user).filter(pk=int(event_id), patient=patient).first()


# --- the event page and its actions -----------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """An event action that did not go through, shown again open with its errors."""

    action: str  # one of EVENT_ACTIONS
    form: SiteForm
    assessment: AssessmentForm | None = None
    preview: Preview | None = None  # the grade of a refused reassessment's inputs


def _assess_initial(event: ToxicityEvent, assessments: Sequence[Any], *, pediatric: bool) -> dict[str, Any]:
    # The latest assessment's inputs: the clinician changes only what changed.
    latest = assessments[-1].inputs if assessments else {}
    if event.kind == ToxicityKind.ICANS:
        return ICANSChildForm.initial_from(latest) if pediatric else ICANSForm.initial_from(latest)
    if event.kind == ToxicityKind.CRS:
        return {name: latest[name] for name in CRSForm.base_fields if name in latest}
    return {"grade": event.grade} if event.grade else {}


def event_context(request: HttpRequest, event: ToxicityEvent, failure: Failure | None = None) -> dict[str, Any]:
    """Everything the event page shows, in a number of queries that does not grow with the event."""
    memberships = active_memberships_of(request.user)
    alerts = list(event.alerts.all())
    assessments = list(event.assessments.all())
    links = list(open_care_team_links().filter(patient_id=event.patient_id))
    first_alerts = [a for a in alerts if a.reason == Alert.Reason.RECORDED]
    context: dict[str, Any] = {
        "memberships": memberships,
        "event": event,
        "assessments": assessments,
        "treatments": list(event.treatments.all()),
        "alerts": alerts,
        "alert_lines": alert_summary(first_alerts, links) if first_alerts else [],
        "unreached": [link.site for link in links if not any(a.site_id == link.site_id for a in alerts)],
        "my_open_alerts": [a for a in alerts if a.recipient_id == request.user.pk and not a.is_acknowledged],
        "needs_report": needs_manufacturer_report(event.kind),
        "report": getattr(event, "manufacturer_report", None),
        "report_route": report_route_of(event.patient) if needs_manufacturer_report(event.kind) else "",
        "can_record": False,
        "zone": _zone((), memberships),
    }
    if Capability.RECORD_CARE not in patient_capabilities(request.user, event.patient):
        return context
    sites = sites_that_can(request.user, event.patient, Capability.RECORD_CARE)
    if not sites:
        return context
    return context | _recording_context(event, sites, assessments, failure)


def _failed(failure: Failure | None, action: str) -> Failure | None:
    return failure if failure and failure.action == action else None


def _recording_context(
    event: ToxicityEvent, sites: list[Site], assessments: list[Any], failure: Failure | None
) -> dict[str, Any]:
    """The event page's forms for one who records care at `sites`, a failed one as it was posted."""
    zone = sites[0].zone
    now = site_time_now(zone)
    pediatric = event.kind == ToxicityKind.ICANS and is_child_today(event.patient, zone)
    circumstances, _ = assessment_circumstances(
        patient=event.patient, kind=event.kind, at=timezone.now(), site=sites[0], event=event
    )
    context: dict[str, Any] = {"pediatric": pediatric, "fever_masked_by": circumstances.fever_masked_by}
    if event.status == ToxicityEvent.Status.ACTIVE:
        context |= _active_event_forms(event, sites, assessments, failure, pediatric=pediatric)
    treatment = _failed(failure, "treatment")
    context["treatment_form"] = (
        treatment.form
        if treatment
        else TreatmentForm(sites=sites, auto_id="id_treatment_%s", initial={"given_at": now})
    )
    report = _failed(failure, "report")
    if needs_manufacturer_report(event.kind):
        context["report_form"] = (
            report.form
            if report
            else ManufacturerReportForm(sites=sites, auto_id="id_report_%s", initial={"reported_at": now})
        )
    context["can_record"] = True
    context["zone"] = zone
    context["system"] = system_of(event.kind)
    context["failure"] = failure
    return context


def _active_event_forms(
    event: ToxicityEvent, sites: list[Site], assessments: list[Any], failure: Failure | None, *, pediatric: bool
) -> dict[str, Any]:
    """Reassessing and resolving, which only an active event offers."""
    zone = sites[0].zone
    assess = _failed(failure, "assess")
    resolve = _failed(failure, "resolve")
    return {
        "assess_form": (
            assess.form
            if assess
            else ReassessForm(sites=sites, auto_id="id_assess_%s", initial={"assessed_at": site_time_now(zone)})
        ),
        "assess_inputs": (
            assess.assessment
            if assess
            else assessment_form_class(event.kind, pediatric=pediatric)(
                auto_id="id_assess_%s", initial=_assess_initial(event, assessments, pediatric=pediatric)
            )
        ),
        "assess_preview": assess.preview if assess else None,
        "resolve_form": (
            resolve.form
            if resolve
            else ResolveForm(
                sites=sites, auto_id="id_resolve_%s", initial={"resolved_on": timezone.localdate(timezone=zone)}
            )
        ),
    }


def render_event_page(
    request: HttpRequest, event: ToxicityEvent, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    # A failed form's error summary takes the focus (`{% form_top %}`).
    return render(request, "toxicity/event_detail.html", event_context(request, event, failure), status=status)


def _recording_sites(request: HttpRequest, event: ToxicityEvent) -> list[Site]:
    """The viewer's sites that record care for the event's patient; 403 before the body is read."""
    require_capability(request.user, event.patient, Capability.RECORD_CARE)
    return sites_that_can(request.user, event.patient, Capability.RECORD_CARE)


def _done(request: HttpRequest, event: ToxicityEvent, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("toxicity-event", event_id=event.pk)


@login_required
@loads(get_event_for_user, "event_id", methods=POST)
def event_assess(request: HttpRequest, event: ToxicityEvent) -> HttpResponse:
    """Grade the event again from a new assessment; a rising grade alerts the point persons."""
    sites = _recording_sites(request, event)
    form = ReassessForm(request.POST, sites=sites, auto_id="id_assess_%s")
    pediatric = bool(sites) and is_child_today(event.patient, sites[0].zone)
    assessment = assessment_form_class(event.kind, pediatric=pediatric)(request.POST, auto_id="id_assess_%s")
    if form.is_valid() & assessment.is_valid():
        try:
            done = toxicity_assess(
                actor=actor(request),
                event=event,
                site=form.chosen_site(),
                assessed_at=form.aware("assessed_at"),
                confirm_date=form.cleaned_data["confirm_date"],
                inputs=assessment.inputs(),
                ctcae_grade=assessment.ctcae_grade(),
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors([form, assessment], exc)
        else:
            return _done(request, event, f"Reassessed: grade {done.grade}.")
    failure = Failure("assess", form, assessment, _assess_preview(request, event, sites, assessment))
    return render_event_page(request, event, failure, status=400)


def _assess_preview(
    request: HttpRequest, event: ToxicityEvent, sites: Sequence[Site], assessment: AssessmentForm
) -> Preview | None:
    """The grade of a refused reassessment's inputs, shown again beside them as the live preview
    had it (with the fever the event's treatments mask), not the hint to start entering."""
    if not sites:
        return None
    at = _posted_moment(request, sites[0])
    circumstances, _ = assessment_circumstances(
        patient=event.patient, kind=event.kind, at=at, site=sites[0], event=event
    )
    return preview_of(event.kind, assessment, circumstances)


@login_required
@loads(get_event_for_user, "event_id", methods=POST)
def event_treatment(request: HttpRequest, event: ToxicityEvent) -> HttpResponse:
    """A treatment given for the event, e.g. tocilizumab 8 mg/kg."""
    sites = _recording_sites(request, event)
    form = TreatmentForm(request.POST, sites=sites, auto_id="id_treatment_%s")
    if form.is_valid():
        try:
            treatment = toxicity_add_treatment(
                actor=actor(request),
                event=event,
                site=form.chosen_site(),
                kind=form.cleaned_data["kind"],
                given_at=form.aware("given_at"),
                confirm_date=form.cleaned_data["confirm_date"],
                detail=form.cleaned_data["detail"],
            )
        except ValidationError as exc:
            add_service_errors([form], exc)
        else:
            return _done(request, event, f"{treatment.get_kind_display()} recorded.")
    return render_event_page(request, event, Failure("treatment", form), status=400)


@login_required
@loads(get_event_for_user, "event_id", methods=POST)
def event_resolve(request: HttpRequest, event: ToxicityEvent) -> HttpResponse:
    """Close the event with its outcome; the point persons are told."""
    sites = _recording_sites(request, event)
    form = ResolveForm(request.POST, sites=sites, auto_id="id_resolve_%s")
    if form.is_valid():
        try:
            toxicity_resolve(
                actor=actor(request),
                event=event,
                site=form.chosen_site(),
                resolved_on=form.cleaned_data["resolved_on"],
                confirm_date=form.cleaned_data["confirm_date"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors([form], exc)
        else:
            return _done(request, event, "Resolved. The point persons are told.")
    return render_event_page(request, event, Failure("resolve", form), status=400)


@login_required
@loads(get_event_for_user, "event_id", methods=POST)
def event_manufacturer_report(request: HttpRequest, event: ToxicityEvent) -> HttpResponse:
    """Record when a secondary malignancy was reported to the product's manufacturer."""
    sites = _recording_sites(request, event)
    form = ManufacturerReportForm(request.POST, sites=sites, auto_id="id_report_%s")
    if form.is_valid():
        try:
            manufacturer_report_record(
                actor=actor(request),
                event=event,
                site=form.chosen_site(),
                reported_at=form.aware("reported_at"),
                confirm_date=form.cleaned_data["confirm_date"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as exc:
            add_service_errors([form], exc)
        else:
            return _done(request, event, "The report to the manufacturer is recorded.")
    return render_event_page(request, event, Failure("report", form), status=400)


@login_required
@require_safe
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event: grade and reason, its course, treatments, and who was alerted and acknowledged."""
    event = get_event_for_user(request.user, event_id)
    shown(event)
    # With the forms to reassess, treat and resolve for those who may record care.
    return render_event_page(request, event)
