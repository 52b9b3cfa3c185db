"""Writes of infections, prophylaxis and vaccinations. Each: keyword-only arguments, one
transaction with its audit rows (`audited_atomic`), a timeline entry both sites see.

An infection that alerts (`rules.alert_reason`: grade 3 and above, the ICU, fever while
neutropenic) is also recorded as a toxicity of kind infection with the same CTCAE grade, in the
same transaction: `toxicity.services.toxicity_record` alerts every point person, and the alert
is acknowledged and escalated like any toxicity's. One clinical fact, one alert: a double
submission returns the infection already recorded and alerts nobody again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from audit.services import audited_atomic
from carecoord.access import require_acting_site
from carecoord.clinical_dates import check_happened, check_planned
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from infections.rules import alert_reason, live_vaccine_too_early
from referrals.day_zero import day_zero_of
from referrals.selectors import record_dates
from toxicity.models import ToxicityEvent, ToxicityKind
from toxicity.services import toxicity_record, toxicity_resolve


def _check(choice: str, allowed: Sequence[str], field: str, message: str) -> None:
    if choice not in allowed:
        raise ValidationError({field: message})


def _happened(field: str, value: dt.date, patient: Patient, site: Site, confirmed: bool) -> None:
    check_happened(field, value, record_dates(patient, site.zone), confirmed=confirmed)


def _planned(field: str, value: dt.date, patient: Patient, site: Site, confirmed: bool = False) -> None:
    check_planned(field, value, record_dates(patient, site.zone), confirmed=confirmed)


def _on_timeline(
    patient: Patient, actor: User, site: Site, title: str, body: str = "", subject: InfectionEvent | None = None
) -> None:
    """The entry both sites see on the shared timeline, in the transaction of the change."""
    kind = TimelineEntry.Kind.INFECTION
    timeline_record(patient=patient, kind=kind, actor=actor, site=site, title=title, body=body, subject=subject)


# --- infections ----------------------------------------------------------------------------


def _infection_title(infection: InfectionEvent) -> str:
    return (
        f"Infection recorded: {infection.get_body_site_display().lower()}, {infection.organism_text}, "
        f"grade {infection.grade}, {infection.get_setting_display().lower()}"
    )


def _toxicity_onset(infection: InfectionEvent, site: Site) -> dt.datetime:
    """When the toxicity of an alerting infection began: the start of the onset day at the
    recording site (never ahead of now; the day it counts from), plus the infection's id in
    microseconds, so two infections of one day are two toxicities, never one taken for a repeat."""
    start = dt.datetime.combine(infection.onset_on, dt.time.min, tzinfo=site.zone)
    return start + dt.timedelta(microseconds=infection.pk % 1_000_000)


def infection_record(
    *,
    actor: User,
    patient: Patient,
    site: Site,
    body_site: str,
    grade: int,
    setting: str,
    onset_on: dt.date,
    organism: str = "",
    category: str = InfectionEvent.Category.UNKNOWN,
    neutropenic_fever: bool = False,
    note: str = "",
    confirm_date: bool = False,
) -> InfectionEvent:
    """Record an infection from either care-team site; a severe one alerts every point person."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    _check(body_site, InfectionEvent.BodySite.values, "body_site", "Choose the site of the infection.")
    _check(category, InfectionEvent.Category.values, "category", "Choose the kind of organism, or unknown.")
    _check(setting, InfectionEvent.Setting.values, "setting", "Choose where it is treated.")
    if not 1 <= grade <= 5:
        raise ValidationError({"grade": "Choose the CTCAE grade, 1 to 5."})
    _happened("onset_on", onset_on, patient, site, confirm_date)
    with audited_atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
        same = InfectionEvent.objects.filter(
            patient=patient,
            reporting_site=site,
            recorded_by=actor,
            onset_on=onset_on,
            body_site=body_site,
            grade=grade,
            setting=setting,
        ).first()
        if same is not None:  # the same entry again (a double submission): already recorded
            return same
        infection = InfectionEvent.objects.create(
            patient=patient,
            reporting_site=site,
            recorded_by=actor,
            body_site=body_site,
            organism=organism.strip(),
            category=category,
            grade=grade,
            setting=setting,
            neutropenic_fever=neutropenic_fever,
            onset_on=onset_on,
            note=note,
        )
        reason = alert_reason(grade=grade, setting=setting, neutropenic_fever=neutropenic_fever)
        _on_timeline(
            patient,
            actor,
            site,
            _infection_title(infection),
            body=f"Point persons alerted: {reason}." if reason else "",
            subject=infection,
        )
        if reason:
            onset_at = _toxicity_onset(infection, site)
            infection.toxicity_event = toxicity_record(
                actor=actor,
                patient=patient,
                site=site,
                kind=ToxicityKind.INFECTION,
                onset_at=onset_at,
                ctcae_grade=grade,
                note=f"Recorded with the infection: {reason}.",
                infection_site=infection.get_body_site_display(),
                organism=infection.organism,
                confirm_date=True,  # the infection's date was checked (and confirmed) above
            )
            infection.save(update_fields=["toxicity_event", "updated_at"])
    return infection


def infection_resolve(*, actor: User, infection: InfectionEvent, site: Site, resolved_on: dt.date) -> InfectionEvent:
    """Record the end of the infection; its toxicity, if it alerted, is resolved with it."""
    require_acting_site(actor, infection.patient, site, Capability.RECORD_CARE)
    if infection.resolved_on is not None:
        raise ValidationError({"resolved_on": "This infection is already resolved."})
    _happened("resolved_on", resolved_on, infection.patient, site, confirmed=True)
    if resolved_on < infection.onset_on:
        raise ValidationError({"resolved_on": "The infection cannot resolve before its onset."})
    with audited_atomic():
        locked = InfectionEvent.objects.select_for_update().get(pk=infection.pk)
        if locked.resolved_on is not None:
            raise ValidationError({"resolved_on": "This infection has just been resolved."})
        infection.resolved_on = resolved_on
        infection.save(update_fields=["resolved_on", "updated_at"])
        _on_timeline(
            infection.patient,
            actor,
            site,
            f"Infection resolved: {infection.get_body_site_display().lower()}, {infection.organism_text}",
            subject=infection,
        )
        toxicity = infection.toxicity_event
        if toxicity is not None and toxicity.status == ToxicityEvent.Status.ACTIVE:
            outcome = ToxicityEvent.Outcome.FATAL if infection.grade == 5 else ToxicityEvent.Outcome.RECOVERED
            toxicity_resolve(
                actor=actor,
                event=toxicity,
                site=site,
                resolved_on=max(resolved_on, site.date_of(toxicity.onset_at)),
                outcome=outcome,
                confirm_date=True,
            )
    return infection


# --- the prophylaxis plan ------------------------------------------------------------------


@dataclass(frozen=True)
class ProphylaxisInput:
    kind: str
    agent: str
    start_on: dt.date
    planned_stop_on: dt.date | None = None
    stop_condition: str = ""


@dataclass(frozen=True)
class VaccinationInput:
    vaccine: str
    due_on: dt.date
    live: bool = False


def _checked_prophylaxis(item: ProphylaxisInput, patient: Patient, site: Site, prefix: str = "") -> None:
    _check(item.kind, ProphylaxisItem.Kind.values, f"{prefix}kind", "Choose the kind of prophylaxis.")
    if not item.agent.strip():
        raise ValidationError({f"{prefix}agent": "Enter the agent and dose."})
    _planned(f"{prefix}start_on", item.start_on, patient, site)
    if item.planned_stop_on is not None:
        _planned(f"{prefix}planned_stop_on", item.planned_stop_on, patient, site)
        if item.planned_stop_on < item.start_on:
            raise ValidationError({f"{prefix}planned_stop_on": "The planned stop cannot come before the start."})


def _checked_vaccination(
    item: VaccinationInput, patient: Patient, site: Site, day_zero: dt.date | None, prefix: str = ""
) -> None:
    if not item.vaccine.strip():
        raise ValidationError({f"{prefix}vaccine": "Enter the vaccine."})
    _planned(f"{prefix}due_on", item.due_on, patient, site)
    if item.live and live_vaccine_too_early(day_zero, item.due_on):
        raise ValidationError({f"{prefix}due_on": LIVE_TOO_EARLY})


LIVE_TOO_EARLY = "A live vaccine is not given before 1 year after the infusion, and only with immune recovery."


def _new_prophylaxis(item: ProphylaxisInput, patient: Patient, site: Site, actor: User) -> ProphylaxisItem:
    return ProphylaxisItem.objects.create(
        patient=patient,
        kind=item.kind,
        agent=item.agent.strip(),
        start_on=item.start_on,
        planned_stop_on=item.planned_stop_on,
        stop_condition=item.stop_condition.strip(),
        site=site,
        recorded_by=actor,
    )


def _new_vaccination(item: VaccinationInput, patient: Patient, site: Site, actor: User) -> VaccinationItem:
    return VaccinationItem.objects.create(
        patient=patient, vaccine=item.vaccine.strip(), live=item.live, due_on=item.due_on, site=site, recorded_by=actor
    )


def plan_confirm(
    *,
    actor: User,
    patient: Patient,
    site: Site,
    prophylaxis: Sequence[ProphylaxisInput],
    vaccinations: Sequence[VaccinationInput],
) -> tuple[list[ProphylaxisItem], list[VaccinationItem]]:
    """Keep the plan the clinician confirmed (the standard one as proposed, or as edited).
    A field error names the line: "prophylaxis-1-agent"."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    if not prophylaxis and not vaccinations:
        raise ValidationError({"__all__": "Tick at least one line of the plan."})
    day_zero = day_zero_of(patient)
    for n, item in enumerate(prophylaxis):
        _checked_prophylaxis(item, patient, site, f"prophylaxis-{n}-")
    for n, vaccination in enumerate(vaccinations):
        _checked_vaccination(vaccination, patient, site, day_zero, f"vaccination-{n}-")
    with audited_atomic():
        items = [_new_prophylaxis(item, patient, site, actor) for item in prophylaxis]
        vaccines = [_new_vaccination(item, patient, site, actor) for item in vaccinations]
        parts = []
        if items:
            parts.append(f"{len(items)} prophylaxis item{'s' if len(items) != 1 else ''}")
        if vaccines:
            parts.append(f"{len(vaccines)} vaccine{'s' if len(vaccines) != 1 else ''}")
        _on_timeline(
            patient,
            actor,
            site,
            f"Prevention plan confirmed: {' and '.join(parts)}",
            body="\n".join([i.plan_line for i in items] + [f"{v.vaccine}: due {v.due_on:%d %b %Y}" for v in vaccines]),
        )
    return items, vaccines


def prophylaxis_add(*, actor: User, patient: Patient, site: Site, item: ProphylaxisInput) -> ProphylaxisItem:
    """Add one line to the patient's prophylaxis plan."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    _checked_prophylaxis(item, patient, site)
    with audited_atomic():
        added = _new_prophylaxis(item, patient, site, actor)
        _on_timeline(patient, actor, site, f"Prophylaxis added: {added.get_kind_display()}", body=added.plan_line)
    return added


def prophylaxis_stop(*, actor: User, item: ProphylaxisItem, site: Site, stopped_on: dt.date) -> ProphylaxisItem:
    """Record that the prophylaxis was stopped: it leaves the work queue."""
    require_acting_site(actor, item.patient, site, Capability.RECORD_CARE)
    if item.stopped_on is not None:
        raise ValidationError({"stopped_on": "This prophylaxis is already stopped."})
    _happened("stopped_on", stopped_on, item.patient, site, confirmed=True)
    if stopped_on < item.start_on:
        raise ValidationError({"stopped_on": "It cannot stop before it started."})
    with audited_atomic():
        # Locked and read again: of two stops at once (a double click), the second is refused.
        if ProphylaxisItem.objects.select_for_update().only("stopped_on").get(pk=item.pk).stopped_on is not None:
            raise ValidationError({"stopped_on": "This prophylaxis has just been stopped."})
        item.stopped_on = stopped_on
        item.save(update_fields=["stopped_on", "updated_at"])
        _on_timeline(item.patient, actor, site, f"Prophylaxis stopped: {item.get_kind_display()} ({item.agent})")
    return item


def prophylaxis_review(
    *, actor: User, item: ProphylaxisItem, site: Site, planned_stop_on: dt.date, stop_condition: str = ""
) -> ProphylaxisItem:
    """Carry on with the prophylaxis to a later planned stop (the condition is not met yet)."""
    require_acting_site(actor, item.patient, site, Capability.RECORD_CARE)
    if item.stopped_on is not None:
        raise ValidationError({"planned_stop_on": "This prophylaxis is already stopped."})
    _planned("planned_stop_on", planned_stop_on, item.patient, site)
    if planned_stop_on < item.start_on:
        raise ValidationError({"planned_stop_on": "The planned stop cannot come before the start."})
    with audited_atomic():
        item.planned_stop_on = planned_stop_on
        if stop_condition.strip():
            item.stop_condition = stop_condition.strip()
        item.save(update_fields=["planned_stop_on", "stop_condition", "updated_at"])
        _on_timeline(
            item.patient,
            actor,
            site,
            f"Prophylaxis continued: {item.get_kind_display()} until {planned_stop_on:%d %b %Y}",
            body=item.stop_condition,
        )
    return item


# --- vaccinations --------------------------------------------------------------------------


def vaccination_add(*, actor: User, patient: Patient, site: Site, item: VaccinationInput) -> VaccinationItem:
    """Plan one vaccine; a live one not before 1 year after the infusion."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    _checked_vaccination(item, patient, site, day_zero_of(patient))
    with audited_atomic():
        added = _new_vaccination(item, patient, site, actor)
        _on_timeline(patient, actor, site, f"Vaccine planned: {added.vaccine}, due {added.due_on:%d %b %Y}")
    return added


def vaccination_give(*, actor: User, item: VaccinationItem, site: Site, given_on: dt.date) -> VaccinationItem:
    """Record that the vaccine was given: it leaves the work queue."""
    require_acting_site(actor, item.patient, site, Capability.RECORD_CARE)
    if item.given_on is not None:
        raise ValidationError({"given_on": "This vaccine is already recorded as given."})
    _happened("given_on", given_on, item.patient, site, confirmed=True)
    with audited_atomic():
        if VaccinationItem.objects.select_for_update().only("given_on").get(pk=item.pk).given_on is not None:
            raise ValidationError({"given_on": "This vaccine has just been recorded as given."})
        item.given_on = given_on
        item.save(update_fields=["given_on", "updated_at"])
        _on_timeline(item.patient, actor, site, f"Vaccine given: {item.vaccine}")
    return item
