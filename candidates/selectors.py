"""Reads of the treatment history, always scoped through the patient's access path."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from candidates.models import TherapyLine, TransplantCandidacy
from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser


def therapy_lines_visible_to(user: AnyUser) -> QuerySet[TherapyLine]:
    """The lines of the user's patients, by patient and line number."""
    return (
        TherapyLine.objects.filter(patient_id__in=visible_patient_ids(user))
        .select_related("site", "recorded_by")
        .order_by("patient_id", "number")
    )


def get_therapy_line_for_user(user: AnyUser, line_id: int | str) -> TherapyLine:
    """One line; 404 outside the user's scope."""
    return get_visible_or_404(therapy_lines_visible_to(user), line_id, "therapy line")


def therapy_lines_of(patient_id: uuid.UUID) -> list[TherapyLine]:
    """The lines of a patient already loaded through the access path, first line first."""
    return list(TherapyLine.objects.filter(patient_id=patient_id).select_related("site", "recorded_by"))


def transplant_candidacy_of(patient_id: uuid.UUID) -> TransplantCandidacy | None:
    """The patient's transplant candidacy, if recorded (a patient already loaded through the access path)."""
    return TransplantCandidacy.objects.filter(patient_id=patient_id).select_related("site", "recorded_by").first()
