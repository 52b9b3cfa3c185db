"""Writes of the treatment timeline's milestones. Either care-team site may make them, but day 0:
the referral's center alone sets or moves the infusion date."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audited_bulk_create, audited_bulk_update
from carecoord.access import acting_site_for
from carecoord.clinical_dates import RecordDates, check_happened, check_planned
from carecoord.models import Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from referrals.conflicts import refresh_conflicts
from referrals.deaths import cancelled_by_death, died_on_of, refuse_if_died
from referrals.milestones.kinds import PreparationKind, milestone_label
from referrals.models import Milestone, Referral
from referrals.phase import refresh_phases
from referrals.schedule import MilestoneKind, MonitoringRules, plan_milestones
from referrals.selectors import record_dates
from referrals.workflow import State

NOTHING_PLANNED = "nothing more is planned."


def _dates(referral: Referral, site: Site | None) -> RecordDates:
    """What a date of the referral's patient is checked against, in the recording site's zone
    (the referred center's for a care-team site outside the referral)."""
    return record_dates(referral.patient, (site or referral.to_center).zone)


def _check(actor: User, referral: Referral) -> Site:
    """The site the actor records from: any care-team site whose role there records care, the
    referral's center, then its practice, first."""
    site = acting_site_for(
        actor, referral.patient, Capability.RECORD_CARE, prefer=[referral.to_center, referral.from_site]
    ).site
    _refuse_if_closed(referral)
    return site


def _refuse_if_closed(referral: Referral) -> None:
    if referral.state in {State.DECLINED, State.WITHDRAWN}:
        raise ValidationError({"referral": "This referral is closed; its timeline cannot change."})


def day_zero_site(referral: Referral) -> Site:
    """Whose act setting or moving day 0 is: the referral's center, which schedules the infusion
    and gives the cells; the practice plans around it and is told through the timeline."""
    return referral.to_center


def require_day_zero_site(actor: User, referral: Referral) -> Site:
    """The site `actor` sets or moves day 0 for: the referral's center, where their role records
    care. Anyone else (the practice, a reader at the center) is refused (403), before any input
    is read."""
    center = day_zero_site(referral)
    try:
        return acting_site_for(actor, referral.patient, Capability.RECORD_CARE, among=[center]).site
    except PermissionDenied:
        raise PermissionDenied(
            f"Only the staff of {center} who record care set or move the infusion date (day 0)."
        ) from None


def day_zero_stays(infusion: Milestone | None) -> bool:
    """Once the infusion is done its date is day 0 for good: it is no longer set or moved."""
    return infusion is not None and infusion.status == Milestone.Status.DONE


def day_zero_fixed(infusion: Milestone | None) -> str:
    """Why day 0 may no longer be set or moved, in the words a refused form shows; "" while it
    may. The date is the day the infusion was recorded done, a date of the recording site."""
    if infusion is None or not day_zero_stays(infusion):
        return ""
    done = infusion.actual_on
    on = f"on {day_text(done)}" if done else "already"
    return f"Day 0 is fixed: the infusion was recorded as done {on}."


def _refuse_moving_day_zero(actor: User, infusion: Milestone) -> None:
    """The infusion recorded done on another day than planned moves day 0: anyone but the
    referral's center is told, on the date, which day they may record it on."""
    try:
        require_day_zero_site(actor, infusion.referral)
    except PermissionDenied:
        center = day_zero_site(infusion.referral)
        planned = (
            f"on its planned day, {day_text(infusion.planned_on)}" if infusion.planned_on else "once it is planned"
        )
        raise ValidationError(
            {
                "actual_on": f"Record the infusion done {planned}: another day moves day 0, "
                f"which the staff of {center} record."
            }
        ) from None


def _record(actor: User, site: Site | None, milestone: Milestone, title: str, body: str = "") -> None:
    timeline_record(
        patient=milestone.referral.patient,
        kind=TimelineEntry.Kind.MILESTONE,
        actor=actor,
        site=site,
        title=title,
        body=body,
        subject=milestone,
    )


def milestone_plan(
    *,
    actor: User,
    referral: Referral,
    kind: str,
    planned_on: dt.date,
    given_at: Site | None = None,
    note: str = "",
    confirm_date: bool = False,
) -> Milestone:
    """Plan a preparation step (consult, authorization, apheresis, release, bridging), or plan
    again one planned or cancelled. A step of the kind already done stays done: planning it
    again would have made it planned, its done date and place lost."""
    site = _check(actor, referral)
    refuse_if_died(referral.patient_id, "planned_on", NOTHING_PLANNED)
    if kind not in PreparationKind.__members__.values():
        raise ValidationError({"kind": "Plan the infusion with its own action; choose a preparation step."})
    done = Milestone.objects.filter(referral=referral, kind=kind, status=Milestone.Status.DONE).first()
    if done is not None:
        raise ValidationError(
            {
                "kind": f"{milestone_label(kind)} is recorded done on {day_text(done.actual_on)}: "
                "correct its done date on its row if it is wrong."
            }
        )
    check_planned("planned_on", planned_on, _dates(referral, site), confirmed=confirm_date)
    with transaction.atomic():
        milestone, _ = Milestone.objects.update_or_create(
            referral=referral,
            kind=kind,
            defaults={
                "planned_on": planned_on,
                "manual": True,
                "given_at": given_at,
                "note": note,
                "status": Milestone.Status.PLANNED,
            },
        )
        where = f" at {given_at}" if given_at else ""
        conflicts = course_changed(referral)
        title = f"{milestone_label(kind)} planned for {day_text(planned_on)}{where}"
        _record(actor, site, milestone, title, _with_conflicts(note, conflicts))
    return milestone


def _replan(referral: Referral, day_zero: dt.date) -> tuple[Milestone, list[Milestone]]:
    """Recompute every planned date that follows from `day_zero`; returns the infusion and the
    milestones whose date moved. Dates entered by hand, done and cancelled steps stay."""
    existing = {m.kind: m for m in Milestone.objects.filter(referral=referral)}
    kept = {
        MilestoneKind(kind): m.planned_on
        for kind, m in existing.items()
        if kind in MilestoneKind.__members__.values()
        and kind != MilestoneKind.INFUSION
        and m.planned_on is not None
        and (m.manual or m.status != Milestone.Status.PLANNED)
    }
    rules = MonitoringRules.from_product(referral.product) if referral.product else MonitoringRules()
    plan = plan_milestones(day_zero, rules=rules, hand_back_day=referral.hand_back_day, manual_dates=kept)
    to_update: list[Milestone] = []
    to_create: list[Milestone] = []
    for planned in plan:
        current = existing.get(planned.kind)
        if planned.manual or (current is not None and current.status != Milestone.Status.PLANNED):
            continue  # a done infusion keeps the date it was planned for; day 0 is its actual date
        if current is None:
            to_create.append(Milestone(referral=referral, kind=planned.kind, planned_on=planned.planned_on))
        elif current.planned_on != planned.planned_on:
            current.planned_on = planned.planned_on
            to_update.append(current)
    audited_bulk_create(Milestone, to_create)
    audited_bulk_update(Milestone, to_update, ["planned_on"])
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
    return infusion, [m for m in to_update if m.kind != MilestoneKind.INFUSION]


def course_changed(referral: Referral) -> list[Milestone]:
    """After any change to a course: its date conflicts and the patient's phase follow.

    Returns the milestones whose date the change made conflict (for the timeline entry).
    """
    conflicts = refresh_conflicts(referral)
    refresh_phases([referral.patient_id])
    return conflicts


def _with_conflicts(body: str, conflicts: list[Milestone]) -> str:
    if not conflicts:
        return body
    lines = [f"{milestone_label(m.kind)}: {m.conflict}" for m in conflicts]
    count = "1 planned date conflicts" if len(lines) == 1 else f"{len(lines)} planned dates conflict"
    return "\n".join(filter(None, [body, f"{count} with the course:", *lines]))


def day_text(day: dt.date | None) -> str:
    """A day in the timeline's entries and messages: "6 Dec 2026", as `day_zero_fixed` and the
    page's own dates write it (no leading zero)."""
    return f"{day.day} {day:%b %Y}" if day else ""


def milestone_set_infusion(
    *, actor: User, referral: Referral, infusion_on: dt.date, reason: str = "", confirm_date: bool = False
) -> list[Milestone]:
    """Set or move day 0, as the referral's center, and recompute the planned dates that depend on it.

    Dates someone entered by hand are kept (and shown as conflicts where they no longer fit);
    done and cancelled milestones are not touched.
    """
    site = require_day_zero_site(actor, referral)
    _refuse_if_closed(referral)
    if referral.state != State.ACCEPTED:
        raise ValidationError({"infusion_on": "The infusion is planned once the center has accepted the referral."})
    refuse_if_died(referral.patient_id, "infusion_on", NOTHING_PLANNED)
    previous = Milestone.objects.filter(referral=referral, kind=MilestoneKind.INFUSION).first()
    if fixed := day_zero_fixed(previous):
        raise ValidationError({"infusion_on": fixed})
    check_planned("infusion_on", infusion_on, _dates(referral, site), confirmed=confirm_date)
    if previous is not None and previous.planned_on and previous.planned_on != infusion_on and not reason.strip():
        raise ValidationError({"reason": "Say why the infusion date moves."})
    with transaction.atomic():
        infusion, _moved = _replan(referral, infusion_on)
        if previous is None or previous.planned_on is None:
            title = f"Infusion (day 0) planned for {day_text(infusion_on)}"
        elif previous.planned_on == infusion_on:
            title = f"Planned dates recomputed (day 0 stays {day_text(infusion_on)})"
        else:
            title = f"Infusion moved from {day_text(previous.planned_on)} to {day_text(infusion_on)}"
        conflicts = course_changed(referral)
        _record(actor, site, infusion, title, _with_conflicts(reason.strip(), conflicts))
    return list(Milestone.objects.filter(referral=referral))


def milestone_replan(*, referral: Referral) -> None:
    """Recompute the planned dates from the current day 0, after the product or the hand-back
    day changed (the caller records why on the timeline)."""
    infusion = Milestone.objects.filter(referral=referral).infusions().first()
    planning = referral.state == State.ACCEPTED and died_on_of(referral.patient_id) is None
    if infusion is not None and infusion.day_zero is not None and planning:
        _replan(referral, infusion.day_zero)
    course_changed(referral)


def milestone_complete(
    *, actor: User, milestone: Milestone, actual_on: dt.date, note: str = "", confirm_date: bool = False
) -> Milestone:
    """Mark a step done on the day it happened. An infusion done on another day than planned
    moves day 0 there, and every planned date that follows from it moves with it: the
    referral's center's act (`require_day_zero_site`); the practice records it done on its
    planned day only."""
    site = _check(actor, milestone.referral)
    if milestone.kind == MilestoneKind.INFUSION and actual_on != milestone.planned_on:
        _refuse_moving_day_zero(actor, milestone)
    # A step the patient's death cancelled may still have happened before it (recorded late).
    if milestone.status != Milestone.Status.PLANNED and not (
        milestone.status == Milestone.Status.CANCELLED and cancelled_by_death(milestone)
    ):
        raise ValidationError({"status": "Only a planned milestone can be marked done."})
    dates = _dates(milestone.referral, site)
    check_happened("actual_on", actual_on, dates, confirmed=confirm_date)
    with transaction.atomic():
        # The note of the plan stays beside the one written now: both are the step's record.
        milestone.status, milestone.actual_on, milestone.done_note = Milestone.Status.DONE, actual_on, note
        milestone.save(update_fields=["status", "actual_on", "done_note", "updated_at"])
        title = f"{milestone_label(milestone.kind)} done on {day_text(actual_on)}"
        body = note
        # After a death nothing is planned again: day 0 moves, the cancelled steps stay so.
        if milestone.kind == MilestoneKind.INFUSION and milestone.planned_on != actual_on and dates.died_on is None:
            _, moved = _replan(milestone.referral, actual_on)
            shift = (actual_on - milestone.planned_on).days if milestone.planned_on else 0
            title += f", {abs(shift)} day{'s' if abs(shift) != 1 else ''} {'after' if shift > 0 else 'before'} the plan"
            body = "\n".join(
                filter(None, [note, f"Day 0 is now {day_text(actual_on)}: {len(moved)} planned dates follow it."])
            )
        conflicts = course_changed(milestone.referral)
        # No "(day N)" in the title: written once, it would go stale when day 0 moves; the
        # milestone's row, which the entry links to, says its day as it is now.
        _record(actor, site, milestone, title, _with_conflicts(body, conflicts))
    return milestone


def milestone_correct_done(
    *, actor: User, milestone: Milestone, actual_on: dt.date, reason: str = "", confirm_date: bool = False
) -> Milestone:
    """Correct the day a step was done on, recorded wrong. Whoever may mark it done may correct
    it, but the infusion: its date is day 0, which the referral's center alone moves; corrected,
    day 0 moves there, and every planned date that follows from it moves with it."""
    referral = milestone.referral
    is_infusion = milestone.kind == MilestoneKind.INFUSION
    site = require_day_zero_site(actor, referral) if is_infusion else _check(actor, referral)
    _refuse_if_closed(referral)
    if milestone.status != Milestone.Status.DONE:
        raise ValidationError({"status": "Only a step marked done has a done date to correct."})
    if actual_on == milestone.actual_on:
        raise ValidationError({"actual_on": f"The step is already recorded done on {day_text(actual_on)}."})
    dates = _dates(referral, site)
    check_happened("actual_on", actual_on, dates, confirmed=confirm_date)
    before = milestone.actual_on
    with transaction.atomic():
        milestone.actual_on = actual_on
        milestone.save(update_fields=["actual_on", "updated_at"])
        title = (
            f"{milestone_label(milestone.kind)}: done date corrected from {day_text(before)} to {day_text(actual_on)}"
        )
        body = reason.strip()
        if is_infusion and dates.died_on is None:
            _, moved = _replan(referral, actual_on)
            note = f"Day 0 is now {day_text(actual_on)}: {len(moved)} planned dates follow it."
            body = "\n".join(filter(None, [body, note]))
        conflicts = course_changed(referral)
        _record(actor, site, milestone, title, _with_conflicts(body, conflicts))
    return milestone


def milestone_move(
    *, actor: User, milestone: Milestone, planned_on: dt.date, reason: str, confirm_date: bool = False
) -> Milestone:
    """Move one planned date by hand, with a reason; the new date is kept on recomputation."""
    site = _check(actor, milestone.referral)
    if milestone.kind == MilestoneKind.INFUSION:
        raise ValidationError({"planned_on": "Move the infusion with its own action, which recomputes the plan."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the date moves."})
    if milestone.status != Milestone.Status.PLANNED:
        raise ValidationError({"status": "Only a planned milestone can be moved."})
    refuse_if_died(milestone.referral.patient_id, "planned_on", NOTHING_PLANNED)
    check_planned("planned_on", planned_on, _dates(milestone.referral, site), confirmed=confirm_date)
    before = milestone.planned_on
    with transaction.atomic():
        milestone.planned_on, milestone.manual = planned_on, True
        milestone.save(update_fields=["planned_on", "manual", "updated_at"])
        was = f" from {day_text(before)}" if before else ""
        conflicts = course_changed(milestone.referral)
        title = f"{milestone_label(milestone.kind)} moved{was} to {day_text(planned_on)}"
        _record(actor, site, milestone, title, _with_conflicts(reason.strip(), conflicts))
    milestone.refresh_from_db()
    return milestone


def milestone_cancel(*, actor: User, milestone: Milestone, reason: str) -> Milestone:
    """Cancel a step, with a reason. The infusion's is day 0: only the referral's center
    cancels it (403 for anyone else, before the reason is read)."""
    site = (
        require_day_zero_site(actor, milestone.referral)
        if milestone.kind == MilestoneKind.INFUSION
        else _check(actor, milestone.referral)
    )
    _refuse_if_closed(milestone.referral)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the milestone is cancelled."})
    if milestone.status == Milestone.Status.CANCELLED:
        raise ValidationError({"status": "This milestone is already cancelled."})
    with transaction.atomic():
        milestone.status = Milestone.Status.CANCELLED
        milestone.save(update_fields=["status", "updated_at"])
        conflicts = course_changed(milestone.referral)
        _record(
            actor,
            site,
            milestone,
            f"{milestone_label(milestone.kind)} cancelled",
            _with_conflicts(reason.strip(), conflicts),
        )
    return milestone


def milestone_confirm_conflict(*, actor: User, milestone: Milestone, reason: str) -> Milestone:
    """Keep a date that conflicts with the course, saying why; it stops being flagged until
    the dates behind the conflict change again."""
    site = _check(actor, milestone.referral)
    if not milestone.has_open_conflict:
        raise ValidationError({"reason": "This date has no conflict to confirm."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the date stays as it is."})
    with transaction.atomic():
        milestone.conflict_confirmed_key, milestone.conflict_confirmation = milestone.conflict_key, reason.strip()
        milestone.save(update_fields=["conflict_confirmed_key", "conflict_confirmation", "updated_at"])
        title = f"{milestone_label(milestone.kind)} kept on {day_text(milestone.planned_on)} despite a conflict"
        _record(actor, site, milestone, title, f"{milestone.conflict}\nWhy: {reason.strip()}")
    return milestone
