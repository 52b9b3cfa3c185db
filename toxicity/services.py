"""Writes of toxicity events. Each: keyword-only arguments, one transaction, a timeline entry,
and same-day alerts when an event is recorded, its grade rises or it resolves.

One clinical fact, one alert: each write locks the row it changes (the patient for a new event,
the event otherwise) and looks again at what is there, so two racing requests (a double click,
two clinicians at once) make one change and one set of alerts; the second gets what the first
made (the same assessment, event or treatment) or a field error (already resolved).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from audit.services import audited_atomic
from carecoord.access import require_acting_site
from carecoord.clinical_dates import check_happened
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from referrals.selectors import record_dates, treated_product
from toxicity.alerts import alert_point_persons
from toxicity.assessment import Circumstances, Graded, InputError, grade_assessment
from toxicity.models import (
    Alert,
    ManufacturerReport,
    ToxicityAssessment,
    ToxicityEvent,
    ToxicityKind,
    ToxicityTreatment,
    needs_manufacturer_report,
)
from toxicity.selectors import assessment_circumstances

REFERENCE_MAX_LENGTH = ManufacturerReport._meta.get_field("reference").max_length or 120


def _check_date(field: str, value: dt.date | dt.datetime, patient: Patient, site: Site, confirmed: bool) -> None:
    check_happened(field, value, record_dates(patient, site.zone), confirmed=confirmed)


def _grade(kind: str, inputs: dict[str, Any], ctcae_grade: int | None, circumstances: Circumstances) -> Graded:
    try:
        return grade_assessment(kind, inputs, ctcae_grade, circumstances)
    except InputError as exc:
        raise ValidationError({exc.field: exc.plain}) from None


def _lock(event: ToxicityEvent) -> None:
    """Lock the event's row and bring `event` up to what is committed (another request may have
    just changed it): the caller decides on the fresh grade and status."""
    fresh = ToxicityEvent.objects.select_for_update().only("grade", "highest_grade", "status").get(pk=event.pk)
    event.grade, event.highest_grade, event.status = fresh.grade, fresh.highest_grade, fresh.status


def _label(event: ToxicityEvent) -> str:
    # No day +N here: the entry's title is kept as written, and day 0 may still move.
    return f"{event.get_kind_display()} grade {event.grade}"


def _with_timing(event_id: int) -> ToxicityEvent:
    """The event read back with its timing (day after infusion, atypical onset) annotated."""
    return ToxicityEvent.objects.with_timing().select_related("patient", "reporting_site").get(pk=event_id)


def _first_assessment(
    event: ToxicityEvent, graded: Graded, *, actor: User, site: Site, onset_at: dt.datetime, note: str
) -> ToxicityAssessment:
    """The assessment the event was recorded from: at onset, by the reporter, at their site."""
    return ToxicityAssessment.objects.create(
        event=event,
        assessed_at=onset_at,
        assessed_by=actor,
        site=site,
        grade=graded.grade,
        reason=graded.reason,
        inputs=graded.inputs,
        note=note,
    )


def toxicity_record(
    *,
    actor: User,
    patient: Patient,
    site: Site,
    kind: str,
    onset_at: dt.datetime,
    inputs: dict[str, Any] | None = None,
    ctcae_grade: int | None = None,
    note: str = "",
    infection_site: str = "",
    organism: str = "",
    confirm_date: bool = False,
) -> ToxicityEvent:
    """Record a toxicity from either care-team site and alert every point person at once."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    if kind not in ToxicityKind.values:
        raise ValidationError({"kind": "Choose the kind of toxicity."})
    _check_date("onset_at", onset_at, patient, site, confirm_date)
    circumstances, _ = assessment_circumstances(patient=patient, kind=kind, at=onset_at, site=site)
    graded = _grade(kind, inputs or {}, ctcae_grade, circumstances)
    if graded.grade == 0:
        raise ValidationError({"kind": f"The ASTCT criteria are not met: {graded.reason}"})
    with audited_atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
        same = ToxicityEvent.objects.filter(
            patient=patient, kind=kind, onset_at=onset_at, reporting_site=site, reported_by=actor, grade=graded.grade
        )
        same_pk = same.values_list("pk", flat=True).first()
        if same_pk is not None:  # the same entry again (a double submission): it is already recorded
            return _with_timing(same_pk)
        # Its timing (day +N, flags) is read when first asked, by the timeline entry below.
        event = ToxicityEvent.objects.create(
            patient=patient,
            kind=kind,
            onset_at=onset_at,
            reporting_site=site,
            reported_by=actor,
            grade=graded.grade,
            highest_grade=graded.grade,
            grade_reason=graded.reason,
            note=note,
            infection_site=infection_site,
            organism=organism,
        )
        _first_assessment(event, graded, actor=actor, site=site, onset_at=onset_at, note=note)
        timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=site,
            occurred_at=onset_at,
            title=f"{_label(event)} recorded",
            body=" ".join(filter(None, [graded.reason, event.atypical_reason])),
            subject=event,
        )
        alert_point_persons(event, Alert.Reason.RECORDED, actor=actor, actor_site=site)
    return event


def toxicity_assess(
    *,
    actor: User,
    event: ToxicityEvent,
    site: Site,
    assessed_at: dt.datetime,
    inputs: dict[str, Any] | None = None,
    ctcae_grade: int | None = None,
    note: str = "",
    confirm_date: bool = False,
) -> ToxicityAssessment:
    """Grade the event again; the course is kept and a rising grade alerts the point persons."""
    require_acting_site(actor, event.patient, site, Capability.RECORD_CARE)
    if event.status == ToxicityEvent.Status.RESOLVED:
        raise ValidationError({"event": "This event is resolved; record a new event if it recurs."})
    _check_date("assessed_at", assessed_at, event.patient, site, confirm_date)
    circumstances, masked_by = assessment_circumstances(
        patient=event.patient, kind=event.kind, at=assessed_at, site=site, event=event
    )
    graded = _grade(event.kind, inputs or {}, ctcae_grade, circumstances)
    with audited_atomic():
        _lock(event)
        if event.status == ToxicityEvent.Status.RESOLVED:
            raise ValidationError({"event": "This event has just been resolved; record a new event if it recurs."})
        repeat = event.assessments.filter(
            assessed_at=assessed_at, site=site, grade=graded.grade, inputs=graded.inputs
        ).first()
        if repeat is not None:  # the same assessment again (a double submission): nothing new to say
            return repeat
        previous = event.grade
        assessment = ToxicityAssessment.objects.create(
            event=event,
            assessed_at=assessed_at,
            assessed_by=actor,
            site=site,
            grade=graded.grade,
            reason=graded.reason,
            inputs=graded.inputs,
            fever_masked_by=masked_by,
            note=note,
        )
        event.grade, event.grade_reason = graded.grade, graded.reason
        event.highest_grade = max(event.highest_grade, graded.grade)
        event.save(update_fields=["grade", "grade_reason", "highest_grade", "updated_at"])
        trend = "rose" if graded.grade > previous else "fell" if graded.grade < previous else "unchanged"
        timeline_record(
            patient=event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=site,
            occurred_at=assessed_at,
            title=f"{event.get_kind_display()} reassessed: grade {graded.grade} ({trend} from {previous})",
            body=graded.reason,
            subject=event,
        )
        if graded.grade > previous:
            alert_point_persons(event, Alert.Reason.GRADE_ROSE, actor=actor, actor_site=site)
    return assessment


def toxicity_add_treatment(
    *,
    actor: User,
    event: ToxicityEvent,
    site: Site,
    kind: str,
    given_at: dt.datetime,
    detail: str = "",
    confirm_date: bool = False,
) -> ToxicityTreatment:
    require_acting_site(actor, event.patient, site, Capability.RECORD_CARE)
    if kind not in ToxicityTreatment.Kind.values:
        raise ValidationError({"kind": "Choose the treatment."})
    _check_date("given_at", given_at, event.patient, site, confirm_date)
    with audited_atomic():
        _lock(event)
        repeat = event.treatments.filter(kind=kind, given_at=given_at, site=site, detail=detail.strip()).first()
        if repeat is not None:
            return repeat
        treatment = ToxicityTreatment.objects.create(
            event=event, kind=kind, given_at=given_at, detail=detail.strip(), recorded_by=actor, site=site
        )
        timeline_record(
            patient=event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=site,
            occurred_at=given_at,
            title=f"{treatment.get_kind_display()} given for {event.get_kind_display()}",
            body=treatment.detail,
            subject=event,
        )
    return treatment


def toxicity_resolve(
    *,
    actor: User,
    event: ToxicityEvent,
    site: Site,
    resolved_on: dt.date,
    outcome: str,
    note: str = "",
    confirm_date: bool = False,
) -> ToxicityEvent:
    """Close the event with its outcome and tell the point persons."""
    require_acting_site(actor, event.patient, site, Capability.RECORD_CARE)
    if event.status == ToxicityEvent.Status.RESOLVED:
        raise ValidationError({"event": "This event is already resolved."})
    if outcome not in ToxicityEvent.Outcome.values or outcome == ToxicityEvent.Outcome.ONGOING:
        raise ValidationError({"outcome": "Choose how the event ended."})
    _check_date("resolved_on", resolved_on, event.patient, site, confirm_date)
    if resolved_on < site.date_of(event.onset_at):
        raise ValidationError({"resolved_on": "The event cannot resolve before its onset."})
    with audited_atomic():
        _lock(event)
        if event.status == ToxicityEvent.Status.RESOLVED:
            raise ValidationError({"event": "This event has just been resolved."})
        event.status, event.resolved_on, event.outcome = ToxicityEvent.Status.RESOLVED, resolved_on, outcome
        if note:
            event.note = f"{event.note}\n{note}".strip()
        event.save(update_fields=["status", "resolved_on", "outcome", "note", "updated_at"])
        timeline_record(
            patient=event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=site,
            title=f"{event.get_kind_display()} resolved ({event.get_outcome_display().lower()})",
            body=note,
            subject=event,
        )
        alert_point_persons(event, Alert.Reason.RESOLVED, actor=actor, actor_site=site)
    return event


def report_route_of(patient: Patient) -> str:
    """Where the patient's secondary malignancy is reported: the product's manufacturer and route
    (from the accepted referral's product), or what to do when no product is recorded."""
    product = treated_product(patient.pk)
    if product is None or not product.manufacturer_report_route:
        return "The product's manufacturer (no product with a report route is recorded on the accepted referral)."
    return f"{product.manufacturer or product.brand_name}: {product.manufacturer_report_route}"


def manufacturer_report_record(
    *,
    actor: User,
    event: ToxicityEvent,
    site: Site,
    reported_at: dt.datetime,
    reference: str = "",
    confirm_date: bool = False,
) -> ManufacturerReport:
    """Record that a secondary malignancy was reported to the product's manufacturer, and when."""
    require_acting_site(actor, event.patient, site, Capability.RECORD_CARE)
    if not needs_manufacturer_report(event.kind):
        raise ValidationError({"event": "Only a secondary malignancy is reported to the manufacturer here."})
    _check_date("reported_at", reported_at, event.patient, site, confirm_date)
    if reported_at < event.onset_at - dt.timedelta(days=1):
        raise ValidationError({"reported_at": "The report cannot come before the malignancy was found."})
    reference = reference.strip()
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise ValidationError({"reference": f"Keep the reference under {REFERENCE_MAX_LENGTH} characters."})
    reported_to = report_route_of(event.patient)
    with audited_atomic():
        _lock(event)
        if ManufacturerReport.objects.filter(event=event).exists():
            raise ValidationError({"event": "The report to the manufacturer is already recorded."})
        report = ManufacturerReport.objects.create(
            event=event,
            reported_at=reported_at,
            reported_to=reported_to[:300],
            reference=reference,
            recorded_by=actor,
            site=site,
        )
        timeline_record(
            patient=event.patient,
            kind=TimelineEntry.Kind.TOXICITY,
            actor=actor,
            site=site,
            occurred_at=reported_at,
            title="Secondary malignancy reported to the manufacturer",
            body=reported_to,
            subject=event,
        )
    return report
