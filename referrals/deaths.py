"""Recording that a patient died, correcting it, and withdrawing one recorded in error.

Either care-team site records a death, for one of its sites whose role records care. The
death cancels the patient's planned steps in the same transaction, so that nothing is due,
overdue, reminded, put in a calendar or a digest's week ahead any more; the steps it cancelled
are kept on the record, and withdrawing a death recorded in error plans them again. Both sites'
point persons are told by email (the patient's initials only), and the timeline shows it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.services import audited_atomic, audited_update
from carecoord.access import require_acting_site
from carecoord.clinical_dates import check_happened
from carecoord.emails import Email, email_queue_new
from carecoord.happened import latest_after
from carecoord.models import DeathCause, Patient, PatientDeath, Site, TimelineEntry, User
from carecoord.models.deaths import DEATH_DETAIL_MAX_LENGTH
from carecoord.recipients import alert_recipients
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from referrals.conflicts import refresh_conflicts
from referrals.models import Milestone, Referral
from referrals.phase import refresh_phases
from referrals.selectors import record_dates
from referrals.workflow import State

WITHDRAW_REASON_MAX_LENGTH = 300


def death_of(patient: Patient) -> PatientDeath | None:
    """The patient's recorded death, or None: none of a query for a patient loaded through the
    access path (`get_patient_for_user` brings it along), else one, with who recorded it."""
    if Patient.death.is_cached(patient):
        try:
            return patient.death
        except PatientDeath.DoesNotExist:
            return None
    return PatientDeath.objects.filter(patient=patient).select_related("site", "recorded_by").first()


def died_heading(died_on: dt.date) -> str:
    """How a digest heads a patient who died, in place of a phase: "Died Thu 14 Jan 2027"."""
    return f"Died {died_on:%a %d %b %Y}"


def died_on_of(patient_id: uuid.UUID) -> dt.date | None:
    """The day of the patient's recorded death, or None: one query."""
    return PatientDeath.objects.filter(patient_id=patient_id).values_list("died_on", flat=True).first()


def refuse_if_died(patient_id: uuid.UUID, field: str, then: str) -> None:
    """Nothing new is planned for a patient who died: a ValidationError on `field` saying `then`."""
    died_on = died_on_of(patient_id)
    if died_on is not None:
        raise ValidationError({field: f"The patient died on {died_on:%d %b %Y}: {then}"})


def cancelled_by_death(milestone: Milestone) -> bool:
    """Whether the patient's death cancelled this step (it may still be recorded as done, on or
    before the day of death: a visit or an infusion recorded late)."""
    return PatientDeath.objects.filter(
        patient_id=milestone.referral.patient_id, cancelled_steps__contains=[milestone.pk]
    ).exists()


def _check(died_on: dt.date, cause: str, detail: str, patient: Patient, site: Site) -> None:
    errors: dict[str, str] = {}
    if cause not in DeathCause.values:
        errors["cause"] = "Choose the primary cause of death (Unknown if it is not known)."
    if len(detail) > DEATH_DETAIL_MAX_LENGTH:
        errors["detail"] = f"Keep the detail under {DEATH_DETAIL_MAX_LENGTH} characters."
    if errors:
        raise ValidationError(errors)
    # The death's own date is checked against birth and today, not against itself.
    dates = dataclasses.replace(record_dates(patient, site.zone), died_on=None)
    check_happened("died_on", died_on, dates, confirmed=True)
    later = latest_after(patient.pk, died_on, site.zone)
    if later is not None:
        raise ValidationError(
            {"died_on": f"{later.label} is recorded on {later.on:%d %b %Y}, after this date: check the date."}
        )


def _title(death: PatientDeath) -> str:
    return f"Died on {death.died_on:%d %b %Y}"


def _body(death: PatientDeath) -> str:
    cause = f"Cause: {death.get_cause_display()}"
    return f"{cause}. {death.detail}" if death.detail else cause


def _courses_changed(patient: Patient, referral_ids: set[int]) -> None:
    for referral in Referral.objects.filter(pk__in=referral_ids).select_related("patient"):
        refresh_conflicts(referral)
    refresh_phases([patient.pk])


def _tell_care_team(death: PatientDeath, entry: TimelineEntry, actor: User) -> None:
    """Email whoever is told at once about the patient (`carecoord.recipients`: the point
    persons, or a site's coordinators where it names no primary), once each, but the recorder."""
    link = reverse("patient-timeline", kwargs={"patient_id": death.patient_id})
    context = {"initials": death.patient.initials, "site": death.site.name, "link": link}
    users = {r.user.pk: r.user for r in alert_recipients(death.patient_id) if r.user.pk != actor.pk}
    email_queue_new(
        [Email(user, "patient-death", context, f"death:{entry.pk}:{pk}") for pk, user in sorted(users.items())]
    )


def death_record(
    *, actor: User, patient: Patient, site: Site, died_on: dt.date, cause: str, detail: str = ""
) -> PatientDeath:
    """Record that `patient` died on `died_on` of `cause`, for `site`, or correct the death
    already recorded. A first record cancels the patient's planned steps and tells every
    care-team point person; a correction changes the record and says so on the timeline."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    detail = detail.strip()
    with audited_atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).get()  # one recording at a time
        _check(died_on, cause, detail, patient, site)  # against what is recorded now, locked
        death = PatientDeath.objects.filter(patient=patient).first()
        if death is not None:
            if (death.died_on, death.cause, death.detail) == (died_on, cause, detail):
                return death
            death.died_on, death.cause, death.detail = died_on, cause, detail
            death.site, death.recorded_by = site, actor
            death.save()
            timeline_record(
                patient=patient,
                kind=TimelineEntry.Kind.DEATH,
                title=f"Death record corrected: died on {death.died_on:%d %b %Y}",
                body=_body(death),
                actor=actor,
                site=site,
            )
            return death
        planned = Milestone.objects.filter(referral__patient=patient, status=Milestone.Status.PLANNED)
        steps = list(planned.values_list("pk", "referral_id"))
        # Stamped, so that a withdrawal plans again only the steps nobody changed since.
        cancelled = Milestone.objects.filter(pk__in=[pk for pk, _ in steps])
        audited_update(cancelled, status=Milestone.Status.CANCELLED, updated_at=timezone.now())
        death = PatientDeath.objects.create(
            patient=patient,
            died_on=died_on,
            cause=cause,
            detail=detail,
            site=site,
            recorded_by=actor,
            cancelled_steps=sorted(pk for pk, _ in steps),
        )
        _courses_changed(patient, {referral for _, referral in steps})
        said = f"\n{len(steps)} planned step{'s' if len(steps) != 1 else ''} cancelled." if steps else ""
        entry = timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.DEATH,
            title=_title(death),
            body=_body(death) + said,
            actor=actor,
            site=site,
        )
        _tell_care_team(death, entry, actor)
    return death


def death_withdraw(*, actor: User, patient: Patient, site: Site, reason: str) -> None:
    """Withdraw a death recorded in error, for `site`, saying why: the record goes (the audit
    trail keeps it), the steps it cancelled that nobody has changed since, of a referral not
    closed since, are planned again."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    reason = reason.strip()
    if not reason or len(reason) > WITHDRAW_REASON_MAX_LENGTH:
        limit = WITHDRAW_REASON_MAX_LENGTH
        raise ValidationError({"reason": f"Say why the death was recorded in error (up to {limit} characters)."})
    with audited_atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).get()
        death = PatientDeath.objects.filter(patient=patient).first()
        if death is None:
            raise ValidationError({"reason": "No death is recorded for this patient."})
        # Those still as the death left them (a step cancelled or recorded since has a later
        # stamp) of a referral still open or accepted.
        cancelled = Milestone.objects.filter(
            pk__in=death.cancelled_steps, status=Milestone.Status.CANCELLED, updated_at__lte=death.recorded_at
        ).exclude(referral__state__in=[State.DECLINED, State.WITHDRAWN])
        referral_ids = set(cancelled.values_list("referral_id", flat=True))
        restored = audited_update(cancelled, status=Milestone.Status.PLANNED)
        died_on = death.died_on
        death.delete()
        _courses_changed(patient, referral_ids)
        again = f"\n{restored} step{'s' if restored != 1 else ''} planned again." if restored else ""
        timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.DEATH,
            title=f"Death on {died_on:%d %b %Y} withdrawn: recorded in error",
            body=f"Why: {reason}{again}",
            actor=actor,
            site=site,
        )
