"""Day 0 of a patient: the one answer to "when was (or will be) this patient's infusion".

The rule, in one place: the infusion milestone of the current course (the latest referral that
has one), not cancelled; its actual date once it is done, else its planned date. Every page,
API, email, digest, hand-off prefill and toxicity day count asks here, through one of three
doors that apply the same rule:

- `day_zero_of(patient)`: one patient, one query;
- `day_zero_by_patient(ids)`: many patients, one query (lists, digests);
- `day_zero_subquery(ref)`: an SQL expression, to annotate rows without a query each;
- `current_infusion(milestones)`: among milestones already loaded (the timeline page).

Where today stands on the course ("Today: day +7") is a stricter rule, also kept here once
(`course_day`): day +N counts only from an infusion recorded as done. Before a planned infusion
the days count down to it (day -3, day 0); once its planned day has passed without the infusion
being recorded, there is no count at all but the plain fact, something to attend to ("Infusion
planned for 11 Jan 2027, not recorded as done"). The timeline's header, the patient list and
the weekly digest all ask `course_day`; `infusion_by_patient` gives it many patients' infusions
in one query.

`referrals/tests/test_day_zero.py` holds the four to the same answer on one fixture.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from django.db.models import DateField, F, OuterRef, Subquery
from django.utils.formats import date_format

from carecoord.lookups import AnyOf
from carecoord.models import Patient
from referrals.models import DAY_ZERO, INFUSION_KIND, Milestone
from referrals.schedule import day_label


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


class InfusionRow(NamedTuple):
    """A patient's current infusion as `infusion_by_patient` reads it: a `Dated`."""

    referral_id: int
    kind: str
    status: str
    planned_on: dt.date | None
    actual_on: dt.date | None

    @property
    def day_zero(self) -> dt.date | None:
        return self.actual_on or self.planned_on


def infusion_by_patient(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, InfusionRow]:
    """The current infusion of each of the patients that has one, in one query (PostgreSQL's
    DISTINCT ON)."""
    rows = (
        Milestone.objects.filter(AnyOf(F("referral__patient_id"), patient_ids))
        .infusions()
        .order_by("referral__patient_id", "-referral_id")
        .distinct("referral__patient_id")
        .values_list("referral__patient_id", *InfusionRow._fields)
    )
    return {row[0]: InfusionRow(*row[1:]) for row in rows}


def day_zero_by_patient(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dt.date]:
    """Day 0 of each of the patients that has one, in one query."""
    return {
        patient_id: day
        for patient_id, infusion in infusion_by_patient(patient_ids).items()
        if (day := infusion.day_zero) is not None
    }


def day_zero_subquery(patient_ref: str | OuterRef = "patient_id") -> Subquery:
    """Day 0 of the patient `patient_ref` (an outer field name) points at, as an SQL expression."""
    ref = patient_ref if isinstance(patient_ref, OuterRef) else OuterRef(patient_ref)
    infusion = Milestone.objects.filter(referral__patient_id=ref).infusions().values(day=DAY_ZERO)[:1]
    return Subquery(infusion, output_field=DateField())


class CourseDay(NamedTuple):
    """Where a day stands on a patient's course (`course_day`)."""

    day: str  # "day -3", "day 0", "day +7"; "" when there is no count to give
    unrecorded_since: dt.date | None = None  # the planned day of an infusion passed without being recorded

    @property
    def unrecorded(self) -> bool:
        return self.unrecorded_since is not None

    @property
    def text(self) -> str:
        """The day, or the infusion not recorded, in words; "" before an infusion is planned."""
        if self.unrecorded_since is not None:
            return f"Infusion planned for {date_format(self.unrecorded_since, 'j M Y')}, not recorded as done"
        return self.day


def course_day(infusion: Dated | None, today: dt.date) -> CourseDay:
    """Where `today` stands relative to `infusion` (the patient's `current_infusion`): day +N
    only from an infusion recorded as done; counting down to a planned one until its day; after
    a planned day passed unrecorded, no count but that fact."""
    if infusion is None or infusion.planned_on is None:
        return CourseDay("")
    if infusion.status == Milestone.Status.DONE and infusion.actual_on is not None:
        return CourseDay(day_label(infusion.actual_on, today))
    if infusion.planned_on < today:
        return CourseDay("", unrecorded_since=infusion.planned_on)
    return CourseDay(day_label(infusion.planned_on, today))
