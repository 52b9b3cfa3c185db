"""Writes of the treatment history: keyword-only arguments, one transaction, the audit rows.

A practice (or the center) records the lines of therapy a patient received and whether the
patient is a transplant candidate. Prior therapy comes before any referral by nature, so its
dates are not asked to be confirmed for being far before the referral (they are still refused
before birth or in the future).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from audit.services import audited_atomic
from candidates.drug_classes import DrugClass
from candidates.models import MAX_LINES, BestResponse, TherapyLine, TransplantCandidacy
from carecoord.access import require_acting_site
from carecoord.clinical_dates import check_happened
from carecoord.models import Patient, Site, User
from carecoord.roles import Capability
from referrals.selectors import record_dates

REGIMEN_MAX_LENGTH = 200
REASON_MAX_LENGTH = 300


def therapy_line_record(
    *,
    actor: User,
    patient: Patient,
    site: Site,
    number: int,
    regimen: str,
    drug_classes: Sequence[str],
    started_on: dt.date,
    ended_on: dt.date | None = None,
    lenalidomide: bool = False,
    best_response: str = BestResponse.NOT_ASSESSED,
    refractory: bool = False,
    progressed_on: dt.date | None = None,
    line: TherapyLine | None = None,
) -> TherapyLine:
    """Record a line of therapy the patient received, or correct or complete `line` (one of
    the patient's: its end, response, refractoriness, relapse), for `site` (one of the actor's
    on the care team, whose role records care), which then signs it. Each line number once per
    patient. The audit trail keeps a corrected line's old values."""
    if line is not None and line.patient_id != patient.pk:
        raise ValueError("The line is not this patient's.")
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    classes = list(dict.fromkeys(drug_classes))
    errors: dict[str, str] = {}
    if not 1 <= number <= MAX_LINES:
        errors["number"] = f"Number the line from 1 to {MAX_LINES}."
    if not regimen.strip() or len(regimen) > REGIMEN_MAX_LENGTH:
        errors["regimen"] = f"Name the regimen, in up to {REGIMEN_MAX_LENGTH} characters."
    if not classes:
        errors["drug_classes"] = "Tick at least one drug class (Other if none fits)."
    elif unknown := [c for c in classes if c not in DrugClass.values]:
        errors["drug_classes"] = f"Unknown drug class: {', '.join(unknown)}."
    if best_response not in BestResponse.values:
        errors["best_response"] = "Choose the best response."
    if ended_on is not None and ended_on < started_on:
        errors["ended_on"] = "The line cannot end before it started."
    if progressed_on is not None and progressed_on < started_on:
        errors["progressed_on"] = "A relapse or progression on this line cannot come before the line started."
    if errors:
        raise ValidationError(errors)
    # Prior therapy comes before a referral by nature: no "far before the referral" question.
    dates = record_dates(patient, site.zone)
    for name, value in (("started_on", started_on), ("ended_on", ended_on), ("progressed_on", progressed_on)):
        if value is not None:
            check_happened(name, value, dates, confirmed=True)
    taken = ValidationError({"number": f"Line {number} is already recorded for this patient."})
    others = TherapyLine.objects.filter(patient=patient, number=number)
    if (others.exclude(pk=line.pk) if line is not None else others).exists():
        raise taken
    if line is None:
        line = TherapyLine(patient=patient)
    line.number, line.regimen = number, regimen.strip()
    line.drug_classes = [c for c in DrugClass.values if c in classes]
    line.started_on, line.ended_on, line.progressed_on = started_on, ended_on, progressed_on
    line.lenalidomide, line.refractory, line.best_response = lenalidomide, refractory, best_response
    line.site, line.recorded_by = site, actor
    try:
        with audited_atomic():
            line.save()
    except IntegrityError:  # the same line number recorded by a racing request
        raise taken from None
    return line


def transplant_candidacy_record(
    *, actor: User, patient: Patient, site: Site, status: str, reason: str = ""
) -> TransplantCandidacy:
    """Record whether the patient is a transplant candidate, and why, for `site`."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    if status not in TransplantCandidacy.Status.values:
        raise ValidationError({"status": "Choose whether the patient is a transplant candidate."})
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters."})
    with audited_atomic():
        candidacy, _ = TransplantCandidacy.objects.select_for_update().get_or_create(
            patient=patient, defaults={"status": status, "reason": reason, "site": site, "recorded_by": actor}
        )
        if (candidacy.status, candidacy.reason, candidacy.site_id) != (status, reason, site.pk) or (
            candidacy.recorded_by_id != actor.pk
        ):
            candidacy.status, candidacy.reason, candidacy.site, candidacy.recorded_by = status, reason, site, actor
            candidacy.save()
    return candidacy
