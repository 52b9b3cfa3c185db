"""Reads of lab results, always scoped through the patient's access path."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import Patient
from carecoord.selectors.patients import treating_center_of
from labs.kinds import LabKind
from labs.models import LabFlagNotice, LabFlagNoticeQuerySet, LabFlagThresholds, LabResult
from labs.thresholds import DEFAULTS, FlagThresholds


def lab_results_visible_to(user: AnyUser) -> QuerySet[LabResult]:
    """The results of the user's patients, oldest sample first."""
    return (
        LabResult.objects.filter(patient_id__in=visible_patient_ids(user))
        .select_related("site", "recorded_by")
        .order_by("taken_on", "pk")
    )


def _with_notices(results: QuerySet[LabResult]) -> QuerySet[LabResult]:
    notices = LabFlagNotice.objects.select_related("recipient", "site", "acknowledged_by").order_by("pk")
    return results.prefetch_related(Prefetch("notices", queryset=notices))


def get_lab_result_for_user(user: AnyUser, result_id: int | str) -> LabResult:
    """One result with who was told of it; 404 outside the user's scope."""
    return get_visible_or_404(_with_notices(lab_results_visible_to(user)), result_id, "lab result")


def lab_results_for_user(user: AnyUser, result_ids: Iterable[int]) -> list[LabResult]:
    """The results of `result_ids` the user may see, with who was told of each: two queries."""
    return list(_with_notices(lab_results_visible_to(user).filter(pk__in=list(result_ids))))


def flag_thresholds_for(patient_id: uuid.UUID) -> FlagThresholds:
    """The thresholds that flag the patient's results: their treating center's own, else the
    consensus defaults (also for a patient no center treats yet). Two queries at most."""
    center = treating_center_of(patient_id)
    if center is None:
        return DEFAULTS
    own = LabFlagThresholds.objects.filter(site=center).first()
    if own is None:
        return DEFAULTS
    own.site = center
    return own.thresholds()


def results_of(patient: Patient) -> list[LabResult]:
    """Every result of an already-authorised patient, oldest first, with who was told of each
    flagged one: two queries whatever their number."""
    notices = LabFlagNotice.objects.select_related("recipient", "site").order_by("pk")
    return list(
        LabResult.objects.filter(patient=patient)
        .select_related("site")
        .prefetch_related(Prefetch("notices", queryset=notices))
        .order_by("taken_on", "pk")
    )


def latest_of(patient: Patient, kinds: list[str]) -> dict[str, list[LabResult]]:
    """The two latest results of each of `kinds` (latest first), for a summary: one query."""
    rows = (
        LabResult.objects.filter(patient=patient, kind__in=kinds)
        .select_related("site")
        .order_by("kind", "-taken_on", "-pk")
    )
    latest: dict[str, list[LabResult]] = {kind: [] for kind in kinds}
    for row in rows:
        if len(latest[row.kind]) < 2:
            latest[row.kind].append(row)
    return latest


def anc_series_of(patient: Patient) -> list[LabResult]:
    return list(LabResult.objects.filter(patient=patient, kind=LabKind.ANC).order_by("taken_on", "pk"))


def lab_notices_visible_to(user: AnyUser) -> LabFlagNoticeQuerySet:
    """The user's own notices of flagged values, of patients they still share care of."""
    if not user.is_authenticated:
        return LabFlagNotice.objects.none()
    return LabFlagNotice.objects.filter(
        recipient=user, result__patient_id__in=visible_patient_ids(user)
    ).select_related("result__patient", "result__site", "site")


def get_lab_notice_for_user(user: AnyUser, notice_id: int | str) -> LabFlagNotice:
    """One of the user's own notices; 404 for anyone else's."""
    return get_visible_or_404(lab_notices_visible_to(user), notice_id, "notice")
