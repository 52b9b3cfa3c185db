"""Where a patient stands on the treatment path (docs/clinical-rules.md#phase), derived, never typed.

`phase_of` is the rule: a pure function of the current referral's state, its milestones and
the date. `Patient.phase` is only its cache, for lists and filters in SQL; `refresh_phases`
rewrites it after every change to a referral or a milestone, and the beat task
`referrals.tasks.refresh_phases` as dates come round (a planned step whose day has arrived).
`referrals/tests/test_phase.py` holds the cache to the function.

The rule, step by step along the path:

- no referral, a draft, a submitted one, or only declined or withdrawn ones: Referral;
- received or under review: Intake review; consult scheduled: Consult, then Eligibility
  decision once the consult is done;
- accepted: Insurance authorization, then Apheresis once the authorization is done (or the
  apheresis day has come), Manufacturing once apheresis is done, Bridging therapy from its
  first day, Lymphodepletion from its first day, Infusion (day 0) from the infusion's day
  until it is recorded done;
- after a recorded infusion: Intensive monitoring, Hand-back once monitoring ends, Follow-up
  once the hand-back is done, Long-term follow-up from one year after day 0.

A step "has come" when it is done or its planned day is today or past: the phase follows the
calendar, and a step that should have happened and is not recorded shows as overdue elsewhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple, Protocol

from django.db.models import F, Q
from django.utils import timezone

from carecoord.lookups import AnyOf
from carecoord.models import Patient
from carecoord.models.patients import Phase
from referrals.day_zero import Dated, current_infusion
from referrals.milestones.kinds import PreparationKind
from referrals.models import Milestone, Referral
from referrals.schedule import MONTHS_PER_YEAR, MilestoneKind, add_months
from referrals.workflow import OPEN_STATES, State

INTAKE_STATES = frozenset({State.RECEIVED, State.UNDER_REVIEW})
BATCH = 500  # patients refreshed per pair of queries
# The steps `phase_of` looks at; a course's other milestones (the visits, the end of driving
# restrictions...) never move the phase, so they are not even read (`phases_now`).
PHASE_KINDS = frozenset(
    {
        PreparationKind.CONSULT,
        PreparationKind.INSURANCE_AUTHORIZATION,
        PreparationKind.APHERESIS,
        PreparationKind.BRIDGING_THERAPY,
        MilestoneKind.LYMPHODEPLETION_START,
        MilestoneKind.LYMPHODEPLETION_END,
        MilestoneKind.INFUSION,
        MilestoneKind.MONITORING_END,
        MilestoneKind.HAND_BACK,
    }
)


class Condition(Protocol):
    def __call__(self, kind: str) -> bool: ...


class Episode(Protocol):
    @property
    def pk(self) -> int: ...
    @property
    def state(self) -> str: ...


def current_episode[R: Episode](referrals: Iterable[R]) -> R | None:
    """The referral that decides the phase: the latest open or accepted one, else the latest."""
    ordered = sorted(referrals, key=lambda r: r.pk, reverse=True)
    live = [r for r in ordered if r.state in OPEN_STATES or r.state == State.ACCEPTED]
    candidates = live or ordered
    return candidates[0] if candidates else None


def phase_of(*, state: str | None, milestones: Iterable[Dated], today: dt.date) -> Phase:
    """The phase of a patient whose current referral is in `state` with these milestones."""
    if state in INTAKE_STATES:
        return Phase.INTAKE_REVIEW
    # Only the steps of PHASE_KINDS count: a step missing from it would never be read.
    by_kind = {m.kind: m for m in milestones if m.kind in PHASE_KINDS and m.status != Milestone.Status.CANCELLED}

    def done(kind: str) -> bool:
        return kind in by_kind and by_kind[kind].status == Milestone.Status.DONE

    def come(kind: str) -> bool:
        milestone = by_kind.get(kind)
        on = milestone.planned_on if milestone else None
        return done(kind) or (on is not None and on <= today)

    if state == State.CONSULT_SCHEDULED:
        return Phase.ELIGIBILITY if done(PreparationKind.CONSULT) else Phase.CONSULT
    if state != State.ACCEPTED:
        return Phase.REFERRAL
    infusion = current_infusion(by_kind.values())
    if infusion is not None and infusion.status == Milestone.Status.DONE and infusion.actual_on is not None:
        return _after_infusion(infusion.actual_on, today, done=done, come=come)
    steps = [
        (come(MilestoneKind.INFUSION), Phase.INFUSION),
        (come(MilestoneKind.LYMPHODEPLETION_START) or come(MilestoneKind.LYMPHODEPLETION_END), Phase.LYMPHODEPLETION),
        (come(PreparationKind.BRIDGING_THERAPY), Phase.BRIDGING),
        (done(PreparationKind.APHERESIS), Phase.MANUFACTURING),
        (done(PreparationKind.INSURANCE_AUTHORIZATION) or come(PreparationKind.APHERESIS), Phase.APHERESIS),
    ]
    return next((phase for reached, phase in steps if reached), Phase.INSURANCE)


def _after_infusion(day_zero: dt.date, today: dt.date, *, done: Condition, come: Condition) -> Phase:
    if today <= day_zero:
        return Phase.INFUSION
    if today >= add_months(day_zero, MONTHS_PER_YEAR):
        return Phase.LONG_TERM
    if done(MilestoneKind.HAND_BACK):
        return Phase.FOLLOW_UP
    if come(MilestoneKind.MONITORING_END):
        return Phase.HAND_BACK
    return Phase.MONITORING


# --- the path, step by step ------------------------------------------------------------------------

# The steps whose record shows a phase behind the patient. The phase moves with the calendar
# (a planned step whose day came), but a phase is shown done only once its steps are recorded
# done; the phases without steps of their own (the referral's, follow-up) are done once the
# phase has moved past them. Manufacturing follows from the collection it makes the cells of.
PHASE_RECORDS: dict[Phase, tuple[str, ...]] = {
    Phase.INSURANCE: (PreparationKind.INSURANCE_AUTHORIZATION,),
    Phase.APHERESIS: (PreparationKind.APHERESIS,),
    # No cells without a recorded collection; and the expected release, when one is planned,
    # recorded too (a release still planned is not a manufacturing done).
    Phase.MANUFACTURING: (PreparationKind.APHERESIS, PreparationKind.MANUFACTURING_RELEASE),
    Phase.BRIDGING: (PreparationKind.BRIDGING_THERAPY,),
    Phase.LYMPHODEPLETION: (MilestoneKind.LYMPHODEPLETION_START, MilestoneKind.LYMPHODEPLETION_END),
    Phase.INFUSION: (MilestoneKind.INFUSION,),
    Phase.MONITORING: (MilestoneKind.MONITORING_END,),
    Phase.HAND_BACK: (MilestoneKind.HAND_BACK,),
}


class PathStep(StrEnum):
    """Where a phase stands on the path (`phase_path`)."""

    DONE = "past"  # behind the patient, its steps recorded done
    OVERDUE = "overdue"  # behind the patient by the calendar, a step's planned day passed unrecorded
    DUE = "due"  # behind the patient by the calendar, a step planned but its day still to come
    UNRECORDED = "unrecorded"  # behind the patient, its step never planned (or cancelled)
    CURRENT = "current"
    FUTURE = "future"


def phase_path(current: Phase, milestones: Iterable[Dated], today: dt.date) -> list[tuple[Phase, PathStep]]:
    """Each phase along the path, in order, with where it stands, the patient being in
    `current` with the milestones of their current course: only what is recorded done is done."""
    by_kind = {m.kind: m for m in milestones if m.status != Milestone.Status.CANCELLED}
    order = list(Phase)
    now = order.index(current)

    def behind(phase: Phase) -> PathStep:
        kinds = PHASE_RECORDS.get(phase)
        if kinds is None:
            return PathStep.DONE
        steps = [by_kind[kind] for kind in kinds if kind in by_kind]
        if not steps:
            return PathStep.UNRECORDED
        if all(step.status == Milestone.Status.DONE for step in steps):
            return PathStep.DONE
        if any(step.status != Milestone.Status.DONE and step.planned_on and step.planned_on < today for step in steps):
            return PathStep.OVERDUE
        return PathStep.DUE

    return [
        (phase, behind(phase) if n < now else PathStep.CURRENT if n == now else PathStep.FUTURE)
        for n, phase in enumerate(order)
    ]


def patient_path(
    referrals: Iterable[Referral], milestones: Iterable[Dated], now: dt.datetime
) -> list[tuple[Phase, PathStep]]:
    """`phase_path` of one patient from their referrals and milestones, already loaded."""
    episode = current_episode(referrals)
    if episode is None:
        return phase_path(Phase.REFERRAL, [], now.date())
    today = timezone.localdate(now, episode.to_center.zone)
    course = [m for m in milestones if m.referral_id == episode.pk]
    return phase_path(_course_phase(episode.pk, episode.state, episode.to_center.zone, course, now), course, today)


# --- the cache -----------------------------------------------------------------------------------


class EpisodeRow(NamedTuple):
    """A referral as the phase reads it, from `Referral...values_list(*EPISODE_FIELDS)`."""

    patient_id: uuid.UUID
    pk: int
    state: str
    center_zone: str  # the treating center's time zone


EPISODE_FIELDS = ("patient_id", "pk", "state", "to_center__time_zone")


class StepRow(NamedTuple):
    """A milestone as the phase reads it (`phases_now`); a `Dated`."""

    referral_id: int
    kind: str
    status: str
    planned_on: dt.date | None
    actual_on: dt.date | None


def patient_phase(referrals: Iterable[Referral], milestones: Iterable[Dated], now: dt.datetime) -> Phase:
    """`phase_of` one patient from their referrals and milestones, already loaded."""
    episode = current_episode(referrals)
    if episode is None:
        return Phase.REFERRAL
    return _course_phase(episode.pk, episode.state, episode.to_center.zone, milestones, now)


def _course_phase(
    episode: int, state: str, center_zone: zoneinfo.ZoneInfo, milestones: Iterable[Dated], now: dt.datetime
) -> Phase:
    # "Today" is the treating center's date, where day 0 and the steps around it happen.
    today = timezone.localdate(now, center_zone)
    course = [m for m in milestones if m.referral_id == episode]
    return phase_of(state=state, milestones=course, today=today)


def current_episodes(referrals: Iterable[EpisodeRow]) -> dict[uuid.UUID, EpisodeRow]:
    """Each patient's current episode (`current_episode`), among the rows of their referrals."""
    by_patient: dict[uuid.UUID, list[EpisodeRow]] = defaultdict(list)
    for row in referrals:
        by_patient[row.patient_id].append(row)
    return {patient_id: episode for patient_id, rows in by_patient.items() if (episode := current_episode(rows))}


def phases_from(
    patient_ids: Iterable[uuid.UUID],
    episodes: Mapping[uuid.UUID, EpisodeRow],
    milestones: Iterable[Dated],
    now: dt.datetime,
) -> dict[uuid.UUID, Phase]:
    """`phase_of` each patient from their current episode (`current_episodes`) and milestones
    already read: at least the PHASE_KINDS steps of every episode (others are left aside)."""
    steps: dict[int, list[Dated]] = defaultdict(list)
    for milestone in milestones:
        steps[milestone.referral_id].append(milestone)
    return {
        patient_id: _course_phase(e.pk, e.state, zoneinfo.ZoneInfo(e.center_zone), steps[e.pk], now)
        if (e := episodes.get(patient_id))
        else Phase.REFERRAL
        for patient_id in patient_ids
    }


def phases_now(patient_ids: Iterable[uuid.UUID], now: dt.datetime | None = None) -> dict[uuid.UUID, Phase]:
    """What `phase_of` says of each patient now, in two queries whatever their number.

    Both read plain values: the patients' referrals, then only the PHASE_KINDS steps of each
    current course.
    """
    ids = list(patient_ids)
    referrals = Referral.objects.filter(AnyOf(F("patient_id"), ids)).order_by().values_list(*EPISODE_FIELDS)
    episodes = current_episodes(EpisodeRow(*row) for row in referrals)
    steps = (
        Milestone.objects.filter(AnyOf(F("referral_id"), [e.pk for e in episodes.values()]), kind__in=PHASE_KINDS)
        .order_by()
        .values_list(*StepRow._fields)
    )
    return phases_from(ids, episodes, [StepRow(*row) for row in steps], now or timezone.now())


def refresh_phases(patient_ids: Iterable[uuid.UUID], now: dt.datetime | None = None) -> int:
    """Rewrite the cached phase of these patients where it differs; returns how many changed.

    Not audited: the phase is derived from referrals and milestones, whose changes are.
    """
    phases = phases_now(patient_ids, now)
    stale = [
        Patient(pk=patient_id, phase=phases[patient_id])
        for patient_id, cached in Patient.objects.filter(pk__in=list(phases)).values_list("pk", "phase")
        if cached != phases[patient_id]
    ]
    Patient.objects.bulk_update(stale, ["phase"])
    return len(stale)


def refresh_phases_due(now: dt.datetime | None = None, *, everyone: bool = False) -> int:
    """Refresh the patients whose phase may have changed with the date (beat, hourly).

    A phase moves with the calendar only when a step's day arrives, so the patients with a
    milestone dated around today (in any time zone) are the ones to look at; `everyone`
    (nightly) catches up whatever a stopped scheduler missed.
    """
    now = now or timezone.now()
    patients = Patient.objects.all()
    if not everyone:
        today = now.date()
        window = (today - dt.timedelta(days=2), today + dt.timedelta(days=1))
        dated = Milestone.objects.filter(Q(planned_on__range=window) | Q(actual_on__range=window))
        patients = patients.filter(pk__in=dated.values("referral__patient_id"))
    changed = 0
    ids = list(patients.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        changed += refresh_phases(ids[start : start + BATCH], now)
    return changed
