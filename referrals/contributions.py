"""What referrals and milestones contribute to the combined pages: the digest's milestones,
waiting referrals and phases, and the work queue's referrals and milestones. Registered in
`ReferralsConfig.ready`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet

from carecoord.access.walks import first_visible
from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, recent_window, register_digest_section
from carecoord.lookups import AnyOf, InArray
from carecoord.work_queue import QueueList, QueueScope, Slot, built_per_shape, read_per_shape, register_queue_list
from referrals.day_zero import course_day, current_infusion
from referrals.milestones.kinds import milestone_label, milestone_label_or_kind
from referrals.models import (
    INFUSION_KIND,
    Milestone,
    Referral,
    ReferralMove,
    acknowledgement_overdue,
    open_conflict,
    overdue_on,
)
from referrals.phase import EPISODE_FIELDS, PHASE_KINDS, EpisodeRow, current_episodes, phases_from
from referrals.selectors import (
    WAITING_ORDER,
    milestones_due,
    milestones_in_conflict,
    referrals_overdue_for,
    referrals_to_or_from,
    referrals_waiting_at,
    referrals_waiting_on,
)
from referrals.workflow import STATE_LABELS, State

DUE_DAYS = 14
STATE_VALUES = frozenset(state.value for state in State)

# --- the weekly digest ---------------------------------------------------------------------


class _DigestMilestone(NamedTuple):
    """A milestone as the digest reads it: a `Dated`, with the conditions the lines use."""

    patient_id: uuid.UUID
    referral_id: int
    kind: str
    status: str
    planned_on: dt.date | None
    actual_on: dt.date | None
    listed: bool  # a line of the digest: planned up to the horizon, or in open conflict
    in_conflict: bool
    overdue: bool
    conflict: str


class _DigestReferral(NamedTuple):
    """A referral as the digest's three referral sections read it, in one query for all three."""

    episode: EpisodeRow  # what the phase reads (`digest_milestones`)
    created_at: dt.datetime  # drafted in the past week? (`digest_referral_steps`)
    acknowledge_by: dt.datetime | None
    waiting: bool  # its acknowledgement is overdue, at one of the reader's sites (`digest_referrals_waiting`)


def _digest_referrals(scope: DigestScope) -> list[_DigestReferral]:
    """Every referral of the digest's patients, with what the three sections ask of it: one
    query, made once for the digest (`DigestScope.shared`), instead of one per section."""
    waiting = acknowledgement_overdue(scope.now) & AnyOf(F("to_center_id"), scope.site_ids)
    rows = (
        Referral.objects.filter(scope.of_patients())
        .annotate(waiting=ExpressionWrapper(waiting, output_field=BooleanField()))
        .order_by()
        .values_list(*EPISODE_FIELDS, "created_at", "acknowledge_by", "waiting")
    )
    width = len(EPISODE_FIELDS)
    return [_DigestReferral(EpisodeRow(*row[:width]), *row[width:]) for row in rows]


def digest_milestones(scope: DigestScope) -> SectionRead:
    """Milestones due in the coming two weeks, past and not recorded, or in conflict; each
    patient's day from the infusion and phase now, from the same rows. One query of its own
    (the referrals are the digest's shared read, `_digest_referrals`): only the milestones
    listed and the steps day 0 and the phase look at (the done and far-off visits, most of a
    course, are never read)."""
    read = SectionRead()
    today = scope.today
    horizon = today + dt.timedelta(days=DUE_DAYS)
    episodes = current_episodes(row.episode for row in scope.shared(_digest_referrals))
    listed = Q(status=Milestone.Status.PLANNED, planned_on__isnull=False) & (
        Q(planned_on__lte=horizon) | open_conflict()
    )
    rows = [
        _DigestMilestone(*row)
        for row in Milestone.objects.filter(scope.of_patients("referral__patient_id"))
        .filter(listed | Q(kind__in=PHASE_KINDS))
        .annotate(
            listed=ExpressionWrapper(listed, output_field=BooleanField()),
            in_conflict=ExpressionWrapper(open_conflict(), output_field=BooleanField()),
            overdue=ExpressionWrapper(overdue_on(today), output_field=BooleanField()),
        )
        .order_by("referral__created_at", "planned_on", "pk")
        .values_list("referral__patient_id", *_DigestMilestone._fields[1:])
    ]
    # Day 0 is read from the infusions alone (`day_zero_in`): only they are grouped by patient.
    infusions: dict[uuid.UUID, list[_DigestMilestone]] = defaultdict(list)
    for row in rows:
        if row.kind == INFUSION_KIND:
            infusions[row.patient_id].append(row)
        if not row.listed or row.planned_on is None:
            continue
        label = milestone_label(row.kind)
        planned = scope.day_text(row.planned_on)
        if row.in_conflict:
            read.overdue.append((row.patient_id, f"Date conflict: {label} on {planned}. {row.conflict}"))
        if today <= row.planned_on <= horizon:
            read.due.append((row.patient_id, f"{planned}: {label}"))
        elif row.overdue:
            read.overdue.append((row.patient_id, f"{label} was planned on {planned}, not recorded"))
    for patient_id, milestones in infusions.items():
        if day := course_day(current_infusion(milestones), today).text:
            read.days[patient_id] = day
    phases = phases_from(scope.patient_ids, episodes, rows, scope.now)
    read.phases = {patient_id: phase.label for patient_id, phase in phases.items()}
    return read


def digest_referral_steps(scope: DigestScope) -> SectionRead:
    """A patient's referral steps of the past week in one line ("Referral: submitted → received
    by the center → accepted (3 steps)"), not one line each: the referrals drafted in the week
    (from the digest's shared read of them, `_digest_referrals`) and one query of the moves
    made in it. (The recent events section leaves referral entries
    to this one.)"""
    since, until = recent_window(scope)
    steps: dict[uuid.UUID, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for referral in scope.shared(_digest_referrals):
        if since <= referral.created_at < until:
            steps[referral.episode.patient_id].append((referral.created_at, "drafted"))
    moves = ReferralMove.objects.filter(scope.of_patients("referral__patient_id"), at__gte=since, at__lt=until)
    for patient_id, to_state, at in moves.order_by().values_list("referral__patient_id", "to_state", "at"):
        label = STATE_LABELS[State(to_state)].lower() if to_state in STATE_VALUES else to_state
        steps[patient_id].append((at, label))
    read = SectionRead()
    for patient_id in scope.patient_ids:
        if taken := [label for _at, label in sorted(steps.get(patient_id, []), key=lambda step: step[0])]:
            count = len(taken)
            read.recent.append((patient_id, f"Referral: {' → '.join(taken)} ({count} step{'s' if count > 1 else ''})"))
    return read


def digest_referrals_waiting(scope: DigestScope) -> SectionRead:
    """Referrals to the reader's sites whose acknowledgement is overdue, from the digest's
    shared read of the referrals (`_digest_referrals`), the longest overdue first."""
    waiting = sorted(
        (r for r in scope.shared(_digest_referrals) if r.waiting),
        key=lambda r: (r.acknowledge_by, r.episode.pk),
    )
    return SectionRead(
        overdue=[
            (
                r.episode.patient_id,
                f"Referral waiting on your site, acknowledgement due {scope.site_day_text(r.acknowledge_by)}",
            )
            for r in waiting
        ]
    )


# --- the work queue ------------------------------------------------------------------------


def _waiting(scope: QueueScope) -> QuerySet[Referral]:
    return referrals_waiting_on(scope.user, scope.recording)


def _overdue(scope: QueueScope) -> QuerySet[Referral]:
    return referrals_overdue_for(scope.user, scope.recording)


# What a referral row of the queue shows: its patient and its two sites, not the physician and
# product the referral pages join (seven tables took PostgreSQL 7-8 ms to plan, 0.3 to run),
# and of them the columns the rows show (the referral's clinical fields and the sites' settings
# cost half a millisecond a list to read into objects nobody looks at).
QUEUE_JOINS = ("patient", "from_site", "to_center")
QUEUE_ROW = (
    "state",
    "urgency",
    "acknowledge_by",
    "patient__given_name",
    "patient__family_name",
    "from_site__name",
    "to_center__name",
)


def _queue_rows(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.select_related(None).select_related(*QUEUE_JOINS).only(*QUEUE_ROW)


@read_per_shape()
def queue_waiting(scope: QueueScope) -> QuerySet[Referral]:
    """Referrals whose next move belongs to one of the viewer's sites.

    The rows shown are picked from the referral table alone (a subquery, computed first as an
    array: `InArray`, which PostgreSQL plans faster than a join with it), then joined with what
    they show: joined first, PostgreSQL read every patient of the network to join the 190
    referrals waiting on the center, to keep eleven. They are picked in their order, each one's
    patient checked in the grants until there are enough (`first_visible`): filtered first, the
    grants of every patient the viewer sees were hashed (5 ms for the whole network, 0.3 now)."""
    picked = first_visible(referrals_waiting_at(scope.recording), scope.user, scope.limit)
    return _queue_rows(Referral.objects.filter(InArray(F("pk"), picked))).order_by(*WAITING_ORDER)


@built_per_shape()
def _to_or_from_rows(scope: QueueScope) -> QuerySet[Referral]:
    return _queue_rows(referrals_to_or_from(scope.user, scope.recording)).order_by("acknowledge_by")


def queue_overdue(scope: QueueScope) -> Sequence[Referral]:
    """Referrals whose acknowledgement is overdue, to or from the viewer's sites (the clock is
    read here, on the copy of the query built for the viewer's shape)."""
    return list(_to_or_from_rows(scope).filter(acknowledgement_overdue())[: scope.limit])


# What a milestone row of the queue shows, of the milestone and its patient (not the referral's
# clinical fields).
MILESTONE_ROW = ("kind", "planned_on", "referral__patient__given_name", "referral__patient__family_name")


@read_per_shape(dated=True)
def _milestones_due_rows(scope: QueueScope) -> QuerySet[Milestone]:
    return milestones_due(scope.user, None, scope.week_end).only(*MILESTONE_ROW)[: scope.limit]


def queue_milestones_due(scope: QueueScope) -> Sequence[tuple[Milestone, str]]:
    """Planned milestones not recorded by the end of the coming week, the overdue first, with their labels."""
    return [(m, milestone_label_or_kind(m.kind)) for m in _milestones_due_rows(scope)]


@read_per_shape()
def _conflict_rows(scope: QueueScope) -> QuerySet[Milestone]:
    return milestones_in_conflict(scope.user).only(*MILESTONE_ROW, "conflict")[: scope.limit]


def queue_conflicts(scope: QueueScope) -> Sequence[tuple[Milestone, str]]:
    """Planned dates that no longer fit their course, with their labels."""
    return [(m, milestone_label_or_kind(m.kind)) for m in _conflict_rows(scope)]


# The patients with work in each list (`QueueList.patients`), for "needs my action".


def waiting_patients(scope: QueueScope) -> QuerySet[Any]:
    return _waiting(scope).order_by().values("patient_id")


def overdue_patients(scope: QueueScope) -> QuerySet[Any]:
    return _overdue(scope).order_by().values("patient_id")


def milestone_patients(scope: QueueScope) -> QuerySet[Any]:
    """Patients with a milestone due today or overdue: work for today, not the week ahead."""
    return milestones_due(scope.user, None, scope.today).order_by().values("referral__patient_id")


def conflict_patients(scope: QueueScope) -> QuerySet[Any]:
    return milestones_in_conflict(scope.user).order_by().values("referral__patient_id")


def _milestone_of(row: tuple[Milestone, str]) -> Milestone:
    return row[0]


def register_referrals_contributions() -> None:
    register_digest_section(DigestSection(name="referral steps", order=5, read=digest_referral_steps))
    register_digest_section(DigestSection(name="milestones", order=20, read=digest_milestones))
    register_digest_section(DigestSection(name="referrals waiting", order=50, read=digest_referrals_waiting))
    # The audit's order (read_order) is the one the dashboard has always declared its reads in.
    for entry in (
        QueueList(
            name="conflicts",
            slot=Slot.URGENT,
            order=20,
            read_order=30,
            template="referrals/_queue_conflicts.html",
            items=queue_conflicts,
            object_of=_milestone_of,
            patients=conflict_patients,
        ),
        QueueList(
            name="waiting",
            slot=Slot.LISTS,
            order=10,
            read_order=50,
            template="referrals/_queue_waiting.html",
            items=queue_waiting,
            patients=waiting_patients,
        ),
        QueueList(
            name="overdue",
            slot=Slot.LISTS,
            order=20,
            read_order=60,
            template="referrals/_queue_overdue.html",
            items=queue_overdue,
            patients=overdue_patients,
        ),
        QueueList(
            name="milestones_due",
            slot=Slot.LISTS,
            order=30,
            read_order=40,
            template="referrals/_queue_milestones_due.html",
            items=queue_milestones_due,
            object_of=_milestone_of,
            patients=milestone_patients,
        ),
    ):
        register_queue_list(entry)
