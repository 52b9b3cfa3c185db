"""Writes of the treatment timeline's milestones. Either care-team site may make them."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from carecoord.access import require_capability
from carecoord.audit.services import audited_bulk_create, audited_bulk_update
from carecoord.models import Site, TimelineEntry, User
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from referrals.milestone_kinds import PreparationKind, milestone_label
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind, MonitoringRules, day_label, plan_milestones
from referrals.selectors import referral_side
from referrals.workflow import State


def _check(actor: User, referral: Referral) -> Site | None:
    """The site the actor records from (None for care-team sites other than the two parties)."""
    require_capability(actor, referral.patient, Capability.RECORD_CARE)
    if referral.state in {State.DECLINED, State.WITHDRAWN}:
        raise ValidationError({"referral": "This referral is closed; its timeline cannot change."})
    side = referral_side(actor, referral)
    return side[1] if side else None


def _record(actor: User, site: Site | None, milestone: Milestone, title: str, body: str = "") -> None:
    timeline_record(
        patient=milestone.referral.patient,
        kind=TimelineEntry.Kind.MILESTONE,
        actor=actor,
        site=site,
        title=title,
        body=body,
    )


def milestone_plan(
    *, actor: User, referral: Referral, kind: str, planned_on: dt.date, given_at: Site | None = None, note: str = ""
) -> Milestone:
    """Plan a preparation step (consult, authorization, apheresis, release, bridging)."""
    site = _check(actor, referral)
    if kind not in PreparationKind.__members__.values():
        raise ValidationError({"kind": "Plan the infusion with its own action; choose a preparation step."})
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
        _record(actor, site, milestone, f"{milestone_label(kind)} planned for {planned_on:%d %b %Y}{where}", note)
    return milestone


def milestone_set_infusion(
    *, actor: User, referral: Referral, infusion_on: dt.date, reason: str = ""
) -> list[Milestone]:
    """Set or move day 0 and recompute the planned dates that depend on it.

    Dates someone entered by hand are kept; done and cancelled milestones are not touched.
    """
    site = _check(actor, referral)
    if referral.state != State.ACCEPTED:
        raise ValidationError({"infusion_on": "The infusion is planned once the center has accepted the referral."})
    existing = {m.kind: m for m in Milestone.objects.filter(referral=referral)}
    previous = existing.get(MilestoneKind.INFUSION)
    if previous is not None and previous.planned_on and previous.planned_on != infusion_on and not reason.strip():
        raise ValidationError({"reason": "Say why the infusion date moves."})
    manual = {
        MilestoneKind(kind): m.planned_on
        for kind, m in existing.items()
        if kind in MilestoneKind.__members__.values()
        and kind != MilestoneKind.INFUSION
        and m.planned_on is not None
        and (m.manual or m.status != Milestone.Status.PLANNED)
    }
    rules = MonitoringRules.from_product(referral.product) if referral.product else MonitoringRules()
    plan = plan_milestones(infusion_on, rules=rules, hand_back_day=referral.hand_back_day, manual_dates=manual)
    with transaction.atomic():
        to_update: list[Milestone] = []
        to_create: list[Milestone] = []
        for planned in plan:
            if planned.manual:
                continue
            current = existing.get(planned.kind)
            if current is None:
                to_create.append(Milestone(referral=referral, kind=planned.kind, planned_on=planned.planned_on))
            elif current.planned_on != planned.planned_on:
                current.planned_on = planned.planned_on
                to_update.append(current)
        audited_bulk_create(Milestone, to_create)
        audited_bulk_update(Milestone, to_update, ["planned_on"])
        infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
        if previous is None or previous.planned_on is None:
            title = f"Infusion (day 0) planned for {infusion_on:%d %b %Y}"
        elif previous.planned_on == infusion_on:
            title = f"Planned dates recomputed (day 0 stays {infusion_on:%d %b %Y})"
        else:
            title = f"Infusion moved from {previous.planned_on:%d %b %Y} to {infusion_on:%d %b %Y}"
        _record(actor, site, infusion, title, reason.strip())
    return list(Milestone.objects.filter(referral=referral))


def milestone_complete(*, actor: User, milestone: Milestone, actual_on: dt.date, note: str = "") -> Milestone:
    site = _check(actor, milestone.referral)
    if milestone.status != Milestone.Status.PLANNED:
        raise ValidationError({"status": "Only a planned milestone can be marked done."})
    with transaction.atomic():
        milestone.status, milestone.actual_on = Milestone.Status.DONE, actual_on
        if note:
            milestone.note = note
        milestone.save(update_fields=["status", "actual_on", "note", "updated_at"])
        title = f"{milestone_label(milestone.kind)} done on {actual_on:%d %b %Y}"
        infusion_on = _infusion_date(milestone.referral)
        if infusion_on is not None:
            title += f" ({day_label(infusion_on, actual_on)})"
        _record(actor, site, milestone, title, note)
    return milestone


def milestone_move(*, actor: User, milestone: Milestone, planned_on: dt.date, reason: str) -> Milestone:
    """Move one planned date by hand, with a reason; the new date is kept on recomputation."""
    site = _check(actor, milestone.referral)
    if milestone.kind == MilestoneKind.INFUSION:
        raise ValidationError({"planned_on": "Move the infusion with its own action, which recomputes the plan."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the date moves."})
    if milestone.status != Milestone.Status.PLANNED:
        raise ValidationError({"status": "Only a planned milestone can be moved."})
    before = milestone.planned_on
    with transaction.atomic():
        milestone.planned_on, milestone.manual = planned_on, True
        milestone.save(update_fields=["planned_on", "manual", "updated_at"])
        was = f" from {before:%d %b %Y}" if before else ""
        _record(
            actor,
            site,
            milestone,
            f"{milestone_label(milestone.kind)} moved{was} to {planned_on:%d %b %Y}",
            reason.strip(),
        )
    return milestone


def milestone_cancel(*, actor: User, milestone: Milestone, reason: str) -> Milestone:
    site = _check(actor, milestone.referral)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the milestone is cancelled."})
    if milestone.status == Milestone.Status.CANCELLED:
        raise ValidationError({"status": "This milestone is already cancelled."})
    with transaction.atomic():
        milestone.status = Milestone.Status.CANCELLED
        milestone.save(update_fields=["status", "updated_at"])
        _record(actor, site, milestone, f"{milestone_label(milestone.kind)} cancelled", reason.strip())
    return milestone


def _infusion_date(referral: Referral) -> dt.date | None:
    infusion = Milestone.objects.filter(referral=referral, kind=MilestoneKind.INFUSION).first()
    if infusion is None:
        return None
    return infusion.actual_on or infusion.planned_on
