"""What may be done to a milestone from the shared timeline, and the empty form of each action.

The page lists the actions of each planned milestone as links; a form is built only when one
is opened (`milestone_views.milestone_form`), or shown again with its errors after a failed
post. Which actions a milestone offers is decided here, once, for both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms

from referrals.milestones.forms import (
    MilestoneCancelForm,
    MilestoneCompleteForm,
    MilestoneConfirmForm,
    MilestoneCorrectForm,
    MilestoneMoveForm,
    form_auto_id,
)
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.workflow import State

# A closed referral's timeline cannot change (referrals.milestones._check).
UNCHANGEABLE_STATES = frozenset({State.DECLINED, State.WITHDRAWN})


@dataclass(frozen=True)
class MilestoneAction:
    name: str  # as in the URL names: milestone-<name>, milestone-<name>-form
    opens: str  # the text of the link that opens its form
    first_field: str  # the field that takes the focus when the form opens

    @property
    def url_name(self) -> str:
        return f"milestone-{self.name}"

    @property
    def form_url_name(self) -> str:
        return f"milestone-{self.name}-form"


# In the order the page offers them.
CONFIRM = MilestoneAction("confirm", "Keep this date…", "reason")
COMPLETE = MilestoneAction("complete", "Mark done…", "actual_on")
MOVE = MilestoneAction("move", "Move…", "planned_on")
CANCEL = MilestoneAction("cancel", "Cancel this step…", "reason")  # the step, not the form
CORRECT = MilestoneAction("correct", "Correct the done date…", "actual_on")  # a done step's only action
ACTIONS = {action.name: action for action in (CONFIRM, COMPLETE, MOVE, CANCEL, CORRECT)}


def changeable(referral: Referral) -> bool:
    return referral.state not in UNCHANGEABLE_STATES


def actions_of(milestone: Milestone) -> list[MilestoneAction]:
    """The actions a milestone offers now: a planned one is done, moved or cancelled (the
    infusion moves with its own action, which recomputes the plan; a date is kept only while it
    conflicts); a done one has its done date corrected; a cancelled one stays."""
    if milestone.status == Milestone.Status.DONE:
        return [CORRECT]
    if milestone.status != Milestone.Status.PLANNED:
        return []
    return [
        action
        for action in ACTIONS.values()
        if action is not CORRECT
        and not (action is MOVE and milestone.kind == MilestoneKind.INFUSION)
        and not (action is CONFIRM and not milestone.has_open_conflict)
    ]


def moves_day_zero(milestone: Milestone) -> bool:
    """Whether cancelling the milestone or correcting its done date moves day 0 (the
    infusion's): the referral's center's act (`DAY_ZERO_ACTIONS`)."""
    return milestone.kind == MilestoneKind.INFUSION


# What only the referral's center does to the infusion: both move day 0. (Marking it done is
# either site's, on its planned day for the practice: `milestone_complete` says so on the date.)
DAY_ZERO_ACTIONS = frozenset({CANCEL, CORRECT})


def blank_form(action: MilestoneAction, milestone: Milestone, today: dt.date) -> forms.Form:
    """The form of `action` for `milestone`, as it opens: done today, moved from its date."""
    auto_id = form_auto_id(action.name, milestone.pk)
    if action is COMPLETE:
        return MilestoneCompleteForm(auto_id=auto_id, initial={"actual_on": today})
    if action is MOVE:
        return MilestoneMoveForm(auto_id=auto_id, initial={"planned_on": milestone.planned_on})
    if action is CANCEL:
        return MilestoneCancelForm(auto_id=auto_id)
    if action is CORRECT:
        return MilestoneCorrectForm(auto_id=auto_id, initial={"actual_on": milestone.actual_on})
    return MilestoneConfirmForm(auto_id=auto_id)
