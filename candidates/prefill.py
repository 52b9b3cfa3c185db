"""A new referral prefilled from the treatment history: the lines, the transplant candidacy and
why the patient is, or is about to be, a candidate (registered with
`carecoord.referral_prefill` in `CandidatesConfig.ready`). Everything stays editable on the form.
The recorded lines also put the prior lines of the referral's checklist on file
(`carecoord.records_on_file`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from candidates.matching import Assessment
from candidates.models import TherapyLine, TransplantCandidacy
from candidates.selectors import assessment_of, therapy_lines_of, transplant_candidacy_of
from carecoord.models import Patient
from carecoord.text_limits import PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH

# The referral's own words for transplant eligibility (never a reason to refuse one).
ELIGIBILITY = {
    TransplantCandidacy.Status.YES: "eligible",
    TransplantCandidacy.Status.NO: "ineligible",
    TransplantCandidacy.Status.UNKNOWN: "unknown",
}


def _day(day: dt.date | None) -> str:
    return f"{day:%d %b %Y}" if day else "ongoing"


def line_summary(line: TherapyLine) -> str:
    """One line of therapy in words, for the referral's prior therapies."""
    classes = line.class_names + (", with lenalidomide" if line.lenalidomide else "")
    parts = [
        f"Line {line.number}: {line.regimen} ({classes})",
        f"{_day(line.started_on)} to {_day(line.ended_on)}",
        f"best response: {line.get_best_response_display().lower()}",
    ]
    if line.refractory:
        parts.append("refractory")
    if line.progressed_on:
        parts.append(f"relapse or progression {_day(line.progressed_on)}")
    return "; ".join(parts) + "."


def prior_lines_on_file(patient_id: uuid.UUID) -> str:
    """The checklist's prior lines, on file when the treatment history has a line (one query)."""
    count = TherapyLine.objects.filter(patient_id=patient_id).count()
    if not count:
        return ""
    return f"{count} line{'s' if count != 1 else ''} of therapy recorded in the treatment history"


def referral_reason(assessment: Assessment) -> str:
    """Why refer now, from the prompts: the uses met or approached with their sources, and the
    notes for the center. Empty when the history prompts nothing."""
    chosen = assessment.meets or assessment.approaching
    if not chosen:
        return ""
    products = ", ".join(assessment.products)
    lines = [f"Referred early for CAR-T evaluation. Possible products (the center decides): {products}."]
    lines += [f"{prompt.why} (Source: {prompt.rule.source}.)" for prompt in chosen]
    lines += list(assessment.notes)
    return "\n".join(lines)


def prefill_from_history(patient: Patient) -> dict[str, Any]:
    """The referral form's initial values from the patient's history (nothing without one)."""
    lines = therapy_lines_of(patient.pk)
    candidacy = transplant_candidacy_of(patient.pk)
    values: dict[str, Any] = {}
    if candidacy is not None:
        values["transplant_eligibility"] = ELIGIBILITY[TransplantCandidacy.Status(candidacy.status)]
    if not lines:
        return values
    values["prior_lines_of_therapy"] = len(lines)
    values["prior_therapies"] = "\n".join(line_summary(line) for line in lines)[:PRIOR_THERAPIES_MAX_LENGTH]
    assessment = assessment_of(patient)
    if reason := referral_reason(assessment):
        values["reason"] = reason[:REASON_MAX_LENGTH]
    return values
