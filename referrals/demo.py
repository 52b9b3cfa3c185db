"""Demonstration referrals and timelines: every referral state and every phase of treatment.

Built through the services, as a coordinator at each site would, then dated back so that the
timelines read like real ones. Each story is told up to the phase the demo patient is meant
to be in; the phase itself is derived from it (`referrals.phase`), never set. Runs only for
demo patients who have no referral yet, so seeding twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from carecoord.models import Patient, Product, Site, TimelineEntry, User
from carecoord.models.patients import Phase
from carecoord.roles import Role
from carecoord.services.comments import comment_post
from referrals.milestones.kinds import PreparationKind
from referrals.milestones.services import milestone_complete, milestone_plan, milestone_set_infusion
from referrals.models import Milestone, Referral, ReferralMove
from referrals.services import referral_create, referral_move
from referrals.workflow import Move, State

# Days from today to the infusion for the phases after acceptance (negative: in the past).
INFUSION_OFFSET: dict[str, int] = {
    Phase.INSURANCE: 60,
    Phase.APHERESIS: 40,
    Phase.MANUFACTURING: 25,
    Phase.BRIDGING: 10,
    Phase.LYMPHODEPLETION: 4,
    Phase.INFUSION: 0,
    Phase.MONITORING: -7,
    Phase.HAND_BACK: -21,
    Phase.FOLLOW_UP: -75,
    Phase.LONG_TERM: -500,
}

# Preparation steps, in days from the infusion: done once their day has passed.
PREPARATION_DAYS: dict[str, int] = {
    PreparationKind.INSURANCE_AUTHORIZATION: -50,
    PreparationKind.APHERESIS: -35,
    PreparationKind.MANUFACTURING_RELEASE: -12,
    PreparationKind.BRIDGING_THERAPY: -10,
}

# The referral moves that bring a patient to each phase before acceptance.
PATH_BEFORE_ACCEPTANCE: dict[str, list[Move]] = {
    Phase.REFERRAL: [Move.SUBMIT],
    Phase.INTAKE_REVIEW: [Move.SUBMIT, Move.ACKNOWLEDGE, Move.START_REVIEW],
    Phase.CONSULT: [Move.SUBMIT, Move.ACKNOWLEDGE, Move.START_REVIEW, Move.SCHEDULE_CONSULT],
    Phase.ELIGIBILITY: [Move.SUBMIT, Move.ACKNOWLEDGE, Move.START_REVIEW, Move.SCHEDULE_CONSULT],
}
FULL_PATH = [Move.SUBMIT, Move.ACKNOWLEDGE, Move.START_REVIEW, Move.SCHEDULE_CONSULT, Move.ACCEPT]
CENTER_MOVES = {Move.ACKNOWLEDGE, Move.START_REVIEW, Move.SCHEDULE_CONSULT, Move.ACCEPT, Move.DECLINE}


def _product_for(disease_area: str) -> Product | None:
    return Product.objects.filter(is_active=True, disease_areas__contains=[disease_area]).order_by("brand_name").first()


def _backdate(patient: Patient, since: dt.datetime, when: dt.datetime) -> None:
    """Give the rows written since `since` the time `when` (demo timelines span months)."""
    TimelineEntry.objects.filter(patient=patient, occurred_at__gte=since).update(occurred_at=when)
    Referral.objects.filter(patient=patient, created_at__gte=since).update(created_at=when)
    ReferralMove.objects.filter(referral__patient=patient, at__gte=since).update(at=when)


def seed_referrals(
    patient: Patient,
    practice: Site,
    center: Site,
    holders: dict[tuple[str, str], User],
    keys: tuple[str, str],
    n: int,
    phase: Phase,
) -> int:
    """Tell the patient's story up to `phase`; returns the number of referrals created."""
    if Referral.objects.filter(patient=patient).exists():
        return 0
    practice_key, center_key = keys
    practice_coordinator = holders[(practice_key, Role.COORDINATOR)]
    physician = holders[(practice_key, Role.PHYSICIAN)]
    center_coordinator = holders[(center_key, Role.COORDINATOR)]
    today = center.today()  # the day at the center, as the phase is derived (not UTC's: they differ at night)
    infusion_offset = INFUSION_OFFSET.get(phase)
    # The story starts about ten weeks before the infusion, or a few days ago before acceptance.
    start = today + dt.timedelta(days=(infusion_offset - 70) if infusion_offset is not None else -(3 + n % 5))
    moves = FULL_PATH if infusion_offset is not None else PATH_BEFORE_ACCEPTANCE[phase]
    # A few end declined or withdrawn (and the patient is referred elsewhere, in a draft), so
    # every state shows.
    if phase == Phase.INTAKE_REVIEW and n > 20:
        moves = moves[:2]  # received, review not yet started
    # Indexes 14 and 28 are submitted referrals (42 patients, 14 phases in turn): one is declined,
    # one withdrawn, and each patient is referred elsewhere, so both stay in the referral phase.
    closed_story = {14: Move.DECLINE, 28: Move.WITHDRAW}.get(n)

    since = timezone.now()
    referral = _draft(patient, practice, center, practice_coordinator, physician, n)
    created = 1
    _backdate(patient, since, _at(start, 9))
    referral = _make_moves(referral, moves, start, today, phase, center_coordinator, practice_coordinator)
    if phase == Phase.ELIGIBILITY:
        _consult_seen(referral, center_coordinator, today)
    if phase == Phase.REFERRAL and moves and n % 2 == 0:
        # Submitted days ago and still not acknowledged: overdue, and the center will be reminded.
        Referral.objects.filter(pk=referral.pk).update(acknowledge_by=_at(today - dt.timedelta(days=1), 9))

    if infusion_offset is not None:
        infusion_on = today + dt.timedelta(days=infusion_offset)
        _treat(referral, practice, center, center_coordinator, infusion_on, start=start, today=today)
        if infusion_offset <= 0:
            since = timezone.now()
            comment_post(
                actor=holders[(practice_key, Role.NURSE)],
                patient=patient,
                site=practice,
                body="Seen in clinic today: afebrile, no confusion. Labs sent to the center.",
            )
            _backdate(patient, since, _at(today - dt.timedelta(days=1), 14))

    if closed_story is not None:
        referral = _close(referral, closed_story, center_coordinator, practice_coordinator)
        # A fresh referral to the other center keeps the patient moving; it stays a draft.
        created += _refer_elsewhere(patient, practice, practice_coordinator, physician, center)
    return created


def _draft(patient: Patient, practice: Site, center: Site, coordinator: User, physician: User, n: int) -> Referral:
    return referral_create(
        actor=coordinator,
        patient=patient,
        from_site=practice,
        to_center=center,
        referring_physician=physician,
        disease_area=patient.disease_area,
        prior_lines_of_therapy=1 + n % 4,
        prior_therapies="R-CHOP x6; salvage R-ICE x2 (demo)",
        transplant_eligibility=("ineligible", "eligible", "unknown")[n % 3],
        performance_status=n % 3,
        urgency=("routine", "urgent", "routine", "emergent")[n % 4],
        reason="Relapsed disease; evaluation for CAR-T (synthetic demo referral).",
    )


def _make_moves(
    referral: Referral,
    moves: list[Move],
    start: dt.date,
    today: dt.date,
    phase: Phase,
    center_coordinator: User,
    practice_coordinator: User,
) -> Referral:
    """The referral's moves, a day or two apart from `start`, each dated back to its day."""
    patient = referral.patient
    day = start
    for move in moves:
        day += dt.timedelta(days=1 if move != Move.SCHEDULE_CONSULT else 2)
        actor = center_coordinator if move in CENTER_MOVES else practice_coordinator
        since = timezone.now()
        consult_on = day + dt.timedelta(days=5) if move == Move.SCHEDULE_CONSULT else None
        if consult_on and phase == Phase.ELIGIBILITY:
            consult_on = min(consult_on, today - dt.timedelta(days=1))  # seen, awaiting the decision
        referral = referral_move(actor=actor, referral=referral, move=move, consult_on=consult_on)
        if move == Move.SUBMIT:
            Referral.objects.filter(pk=referral.pk).update(submitted_at=_at(day, 10))
        _backdate(patient, since, _at(day, 10 + len(moves) % 6))
    return referral


def _consult_seen(referral: Referral, center_coordinator: User, today: dt.date) -> None:
    """The consult took place on its planned day (or today), dated back to it."""
    consult = Milestone.objects.get(referral=referral, kind=PreparationKind.CONSULT)
    since = timezone.now()
    milestone_complete(actor=center_coordinator, milestone=consult, actual_on=consult.planned_on or today)
    _backdate(referral.patient, since, _at(consult.planned_on or today, 16))


def _treat(
    referral: Referral,
    practice: Site,
    center: Site,
    center_coordinator: User,
    infusion_on: dt.date,
    *,
    start: dt.date,
    today: dt.date,
) -> None:
    """An accepted referral's product, day 0 and preparation steps; those already past are done."""
    patient = referral.patient
    product = _product_for(patient.disease_area)
    Referral.objects.filter(pk=referral.pk).update(product=product)
    referral.product = product
    since = timezone.now()
    milestone_set_infusion(actor=center_coordinator, referral=referral, infusion_on=infusion_on)
    for kind, offset in PREPARATION_DAYS.items():
        given_at = practice if kind == PreparationKind.BRIDGING_THERAPY else center
        planned_on = infusion_on + dt.timedelta(days=offset)
        milestone_plan(actor=center_coordinator, referral=referral, kind=kind, planned_on=planned_on, given_at=given_at)
    _backdate(patient, since, _at(start + dt.timedelta(days=12), 15))
    for milestone in Milestone.objects.filter(referral=referral, planned_on__lt=today).order_by("planned_on"):
        if milestone.planned_on is None:
            continue
        since = timezone.now()
        milestone_complete(actor=center_coordinator, milestone=milestone, actual_on=milestone.planned_on)
        _backdate(patient, since, _at(milestone.planned_on, 16))


def _close(referral: Referral, move: Move, center_coordinator: User, practice_coordinator: User) -> Referral:
    if move == Move.DECLINE:
        if referral.state == State.SUBMITTED:
            referral = referral_move(actor=center_coordinator, referral=referral, move=Move.ACKNOWLEDGE)
        return referral_move(
            actor=center_coordinator,
            referral=referral,
            move=Move.DECLINE,
            decline_reason="Not a candidate now: active CNS disease (demo).",
        )
    return referral_move(
        actor=practice_coordinator,
        referral=referral,
        move=Move.WITHDRAW,
        note="Patient chose to stay closer to home for now (demo).",
    )


def _refer_elsewhere(patient: Patient, practice: Site, actor: User, physician: User, center: Site) -> int:
    other = Site.objects.filter(kind=Site.Kind.ACADEMIC_CENTER).filter(~Q(pk=center.pk)).first()
    if other is None:
        return 0
    referral_create(
        actor=actor,
        patient=patient,
        from_site=practice,
        to_center=other,
        referring_physician=physician,
        disease_area=patient.disease_area,
        prior_lines_of_therapy=2,
        performance_status=1,
        reason="Second opinion after the first center's decision (demo).",
    )
    return 1


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def seed_all(holders: dict[tuple[str, str], User]) -> int:
    """Referral stories for every demo patient of `carecoord.demo`; returns referrals created."""
    from carecoord import demo

    created = 0
    for n, spec in enumerate(demo.PATIENTS):
        practice = Site.objects.get(name=demo.SITES_BY_KEY[spec.practice].name)
        center_key = demo.SITES_BY_KEY[spec.practice].treating_center or ""
        center = Site.objects.get(name=demo.SITES_BY_KEY[center_key].name)
        patient = Patient.objects.get(identifiers__site=practice, identifiers__mrn=spec.mrn)
        keys = (spec.practice, center_key)
        created += seed_referrals(patient, practice, center, holders, keys, n, Phase(spec.phase))
    return created
