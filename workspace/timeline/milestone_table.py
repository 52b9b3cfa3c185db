"""The milestone tables of the shared timeline: what matters now on the page, every row on demand.

A course has about 45 milestones, most of them years ahead or long done; rendering them all was
about 40 % of the page. So each referral's table shows the rows that matter now: every planned
milestone overdue, in conflict, without a date or due in the next `SOON_DAYS` days, at least the
next `NEXT_PLANNED` (what "What comes next" links to), those done or cancelled in the last
`RECENT_DAYS` days, the row a link names (`?milestone=`, `workspace.timeline.links`) and the row
whose form failed. "Show all milestones" loads the whole section in its place (htmx); without
JavaScript it leads to a page of it. Nothing overdue is ever folded away.

Rows are prepared here, their forms' URLs included (each route reversed once), so the template
only prints them; no form is built until opened (`milestone_views`), but one that failed; the
section is read in a fixed number of queries whatever its rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access import acting_capabilities, get_patient_for_user
from carecoord.models import Patient
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.shortcuts import HtmxHttpRequest, viewer_zone
from carecoord.web.url_for_id import UrlForId
from referrals.milestones.kinds import milestone_label_or_kind as label_of
from referrals.milestones.services import day_zero_site, day_zero_stays
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.selectors import PatientTimeline, patient_timeline
from referrals.workflow import STATE_LABELS, State
from workspace.timeline.failure import Failure, failed_form
from workspace.timeline.history import day_of
from workspace.timeline.milestone_actions import (
    ACTIONS,
    DAY_ZERO_ACTIONS,
    MilestoneAction,
    actions_of,
    changeable,
    moves_day_zero,
)

SOON_DAYS = 30  # planned this many days ahead: on the page
RECENT_DAYS = 30  # done or cancelled this many days ago: on the page
NEXT_PLANNED = 5  # the next planned ones, however far: as many as "What comes next" lists
WEEKEND_FROM = 5  # date.weekday() of Saturday; Sunday is 6
LATER_AFTER = dt.timedelta(days=365)  # in the whole table, planned further ahead: folded away


@dataclass(frozen=True)
class RowAction:
    action: MilestoneAction
    form_url: str  # where its form loads from (htmx) or opens as a page
    failed: forms.Form | None  # the form that did not go through, shown at once with its errors


@dataclass(frozen=True)
class MilestoneRow:
    milestone: Milestone
    label: str
    planned_day: str
    actual_day: str
    is_overdue: bool
    actions: list[RowAction]  # each opens its form when asked, but the one that failed
    open_action: str  # the action whose form failed, shown open

    @property
    def planned_on_weekend(self) -> bool:
        """A date computed from day 0 (not set by hand), still planned, on a Saturday or Sunday:
        hinted, never moved. A planned date is a day of the sites' calendars, in no time zone."""
        m = self.milestone
        weekend = m.planned_on is not None and m.planned_on.weekday() >= WEEKEND_FROM
        return weekend and not m.manual and m.status == Milestone.Status.PLANNED


@dataclass(frozen=True)
class ReferralBlock:
    referral: Referral
    state_label: str
    rows: list[MilestoneRow]
    later_rows: list[MilestoneRow]  # the whole table: planned more than a year ahead, folded away
    folded: int  # the page's table: how many milestones wait behind "Show all milestones"
    changeable: bool
    infusion: Milestone | None
    offers_infusion: bool  # day 0 may be set or moved: by the center, accepted, not yet infused
    offers_plan: bool  # a preparation step may be planned
    infusion_url: str  # where each form loads from (htmx) or opens as a page
    plan_url: str
    infusion_form: forms.Form | None  # the form that did not go through, shown at once with its errors
    plan_form: forms.Form | None
    open_action: str

    @property
    def later_open(self) -> bool:
        return any(row.open_action for row in self.later_rows)


@dataclass(frozen=True)
class MilestoneSection:
    blocks: list[ReferralBlock]
    everything: bool  # every milestone, or only those that matter now
    soon_days: int = SOON_DAYS
    recent_days: int = RECENT_DAYS

    @property
    def folded(self) -> int:
        return sum(block.folded for block in self.blocks)


class _FormUrls:
    """The URL of each action's form, per milestone: each route reversed once per page."""

    def __init__(self) -> None:
        self._urls = {name: UrlForId(action.form_url_name, "milestone_id") for name, action in ACTIONS.items()}

    def __call__(self, action: MilestoneAction, milestone_id: int) -> str:
        return self._urls[action.name](milestone_id)


def matters_now(milestone: Milestone, today: dt.date, next_planned: set[int]) -> bool:
    """Whether the page's table shows `milestone`: planned and overdue, in conflict, undated,
    due soon or among the next ones; done or cancelled lately."""
    if milestone.status == Milestone.Status.PLANNED:
        return (
            milestone.planned_on is None
            or milestone.planned_on <= today + dt.timedelta(days=SOON_DAYS)
            or milestone.pk in next_planned
            or milestone.has_open_conflict
        )
    since = today - dt.timedelta(days=RECENT_DAYS)
    if milestone.status == Milestone.Status.DONE:
        return milestone.actual_on is not None and milestone.actual_on >= since
    return milestone.updated_at.date() >= since


def _row(
    milestone: Milestone,
    infusion_on: dt.date | None,
    overdue: set[int],
    failure: Failure | None,
    form_urls: _FormUrls | None,
    *,
    day_zero_site: bool = False,
) -> MilestoneRow:
    """One row; `form_urls` when the viewer may change the milestones (day 0 too at the
    referral's center: `day_zero_site`)."""
    actions: list[RowAction] = []
    if form_urls is not None:
        actions = [
            RowAction(action, form_urls(action, milestone.pk), failed_form(failure, action.name, milestone.pk))
            for action in actions_of(milestone)
            if day_zero_site or not (action in DAY_ZERO_ACTIONS and moves_day_zero(milestone))
        ]
    return MilestoneRow(
        milestone=milestone,
        label=label_of(milestone.kind),
        planned_day=day_of(infusion_on, milestone.planned_on),
        actual_day=day_of(infusion_on, milestone.actual_on),
        is_overdue=milestone.pk in overdue,
        actions=actions,
        open_action=next((row.action.name for row in actions if row.failed), ""),
    )


def _by_date(milestones: list[Milestone]) -> list[Milestone]:
    """In the order they happened or will: a done step on the day it was done, the others on
    their planned day (undated last)."""

    def on(m: Milestone) -> dt.date:
        if m.status == Milestone.Status.DONE and m.actual_on is not None:
            return m.actual_on
        return m.planned_on or m.actual_on or dt.date.max

    return sorted(milestones, key=lambda m: (on(m), m.pk))


def milestone_section(
    timeline: PatientTimeline,
    *,
    today: dt.date,
    recording_sites: Collection[int],
    failure: Failure | None = None,
    everything: bool = False,
    asked: int | None = None,
) -> MilestoneSection:
    """One milestones table per referral, with the action forms for those who may record care
    (at a site of `recording_sites`; day 0's only at the referral's center): the rows that
    matter now (and `asked`, and a failed form's), or `everything`."""
    can_record = bool(recording_sites)
    overdue = {m.pk for m in timeline.overdue(today)}
    next_planned = {m.pk for m in timeline.upcoming(today, NEXT_PLANNED)}
    horizon = today + LATER_AFTER
    by_referral: dict[int, list[Milestone]] = {}
    for milestone in timeline.milestones:
        by_referral.setdefault(milestone.referral_id, []).append(milestone)
    form_urls = _FormUrls() if can_record else None
    blocks = []
    for referral in timeline.referrals:
        milestones = _by_date(by_referral.get(referral.pk, []))
        may_change = can_record and changeable(referral)
        if not milestones and not may_change:
            continue
        shown_now = milestones
        if not everything:
            failed_id = failure.target_id if failure and failure.action in ACTIONS else None
            shown_now = [m for m in milestones if m.pk in (asked, failed_id) or matters_now(m, today, next_planned)]
        rows: list[MilestoneRow] = []
        later_rows: list[MilestoneRow] = []
        center = day_zero_site(referral).pk in recording_sites
        for milestone in shown_now:
            urls = form_urls if may_change else None
            row = _row(milestone, timeline.infusion_on, overdue, failure, urls, day_zero_site=center)
            planned_later = milestone.status == Milestone.Status.PLANNED and (milestone.planned_on or today) > horizon
            (later_rows if everything and planned_later else rows).append(row)
        infusion = next(
            (m for m in milestones if m.kind == MilestoneKind.INFUSION and m.status != Milestone.Status.CANCELLED),
            None,
        )
        blocks.append(
            ReferralBlock(
                referral=referral,
                state_label=STATE_LABELS[State(referral.state)],
                rows=rows,
                later_rows=later_rows,
                folded=len(milestones) - len(shown_now),
                changeable=may_change,
                infusion=infusion,
                offers_infusion=may_change
                and referral.state == State.ACCEPTED
                and center
                and not day_zero_stays(infusion),
                offers_plan=may_change,
                infusion_url=reverse("referral-infusion-form", kwargs={"referral_id": referral.pk}),
                plan_url=reverse("milestone-plan-form", kwargs={"referral_id": referral.pk}),
                infusion_form=failed_form(failure, "infusion", referral.pk),
                plan_form=failed_form(failure, "plan", referral.pk),
                open_action=next((a for a in ("infusion", "plan") if failed_form(failure, a, referral.pk)), ""),
            )
        )
    return MilestoneSection(blocks=blocks, everything=everything)


@vary_on_headers("HX-Request")
@login_required
@require_safe
def patient_timeline_milestones(request: HtmxHttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Every milestone of the patient: htmx gets the section to put in place of the page's
    folded one, others a page of it. 404 unless a site where the viewer works is on the care team."""
    patient = get_patient_for_user(request.user, patient_id)
    shown(patient, what="viewed timeline")
    context = milestones_context(request, patient)
    template = "carecoord/_timeline_milestones.html" if request.htmx else "carecoord/timeline_milestones.html"
    return render(request, template, context | {"focus": request.htmx})


def milestones_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """What the section of every milestone needs, without the rest of the page."""
    memberships = active_memberships_of(request.user)
    today = timezone.localdate(timezone=viewer_zone(memberships))
    capabilities = acting_capabilities(request.user, [patient.pk])[patient.pk]
    recording = {site_id for site_id, can in capabilities.items() if Capability.RECORD_CARE in can}
    can_record = bool(recording)
    section = milestone_section(patient_timeline(patient), today=today, recording_sites=recording, everything=True)
    return {"memberships": memberships, "patient": patient, "section": section, "can_record": can_record}
