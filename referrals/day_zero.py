"""Day 0 of a patient: the one answer to "when was (or will be) this patient's infusion".

The rule, in one place: the infusion milestone of the current course (the latest referral that
has one), not cancelled; its actual date once it is done, else its planned date. Every page,
API, email, digest, hand-off prefill and toxicity day count asks here, through one of three
doors that apply the same rule:

- `day_zero_of(patient)`: one patient, one query;
- `day_zero_by_patient(ids)`: many patients, one query (lists, digests);
- `day_zero_subquery(ref)`: an SQL expression, to annotate rows without a query each;
- `current_infusion(milestones)`: among milestones already loaded (the timeline page).

`referrals/tests/test_day_zero.py` holds the four to the same answer on one fixture.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Protocol

from django.db.models import DateField, F, OuterRef, Subquery

from carecoord.lookups import AnyOf
from carecoord.models import Patient
from referrals.models import DAY_ZERO, INFUSION_KIND, Milestone


class Dated(Protocol):
    """A milestone as day 0 and the phase read it: a model instance or a row of values."""

    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def planned_on(self) -> dt.date | None: ...
    @property
    def actual_on(self) -> dt.date | None: ...
    @property
    def referral_id(self) -> int: ...


def current_infusion[M: Dated](milestones: Iterable[M]) -> M | None:
    """The infusion that makes day 0, among milestones already loaded (of one patient)."""
    infusions = [
        m
        for m in milestones
        if m.kind == INFUSION_KIND and m.status != Milestone.Status.CANCELLED and m.planned_on is not None
    ]
    return max(infusions, key=lambda m: m.referral_id, default=None)


def day_zero_in(milestones: Iterable[Dated]) -> dt.date | None:
    infusion = current_infusion(milestones)
    return (infusion.actual_on or infusion.planned_on) if infusion else None


def day_zero_of(patient: Patient | uuid.UUID) -> dt.date | None:
    """Day 0 of one patient, or None before an infusion is planned."""
    patient_id = patient.pk if isinstance(patient, Patient) else patient
    value: dt.date | None = (
        Milestone.objects.filter(referral__patient_id=patient_id).infusions().values_list(DAY_ZERO, flat=True).first()
    )
    return value


def day_zero_by_patient(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dt.date]:
    """Day 0 of each of the patients that has one, in one query (PostgreSQL's DISTINCT ON)."""
    rows = (
        Milestone.objects.filter(AnyOf(F("referral__patient_id"), patient_ids))
        .infusions()
        .order_by("referral__patient_id", "-referral_id")
        .distinct("referral__patient_id")
        .values_list("referral__patient_id", DAY_ZERO)
    )
    return {patient_id: day for patient_id, day in rows}


def day_zero_subquery(patient_ref: str | OuterRef = "patient_id") -> Subquery:
    """Day 0 of the patient `patient_ref` (an outer field name) points at, as an SQL expression."""
    ref = patient_ref if isinstance(patient_ref, OuterRef) else OuterRef(patient_ref)
    infusion = Milestone.objects.filter(referral__patient_id=ref).infusions().values(day=DAY_ZERO)[:1]
    return Subquery(infusion, output_field=DateField())
