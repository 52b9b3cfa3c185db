"""The referral state machine: which moves exist and which side of the care team makes each.

Plain data and functions, no database: the services consult it before every move.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    CONSULT_SCHEDULED = "consult_scheduled"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


STATE_LABELS: dict[State, str] = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Submitted",
    State.RECEIVED: "Received by the center",
    State.UNDER_REVIEW: "Under review",
    State.CONSULT_SCHEDULED: "Consult scheduled",
    State.ACCEPTED: "Accepted",
    State.DECLINED: "Declined",
    State.WITHDRAWN: "Withdrawn",
}

CLOSED_STATES = frozenset({State.ACCEPTED, State.DECLINED, State.WITHDRAWN})
OPEN_STATES = frozenset(State) - CLOSED_STATES


class Side(StrEnum):
    """Who makes a move: the referring practice or the receiving center."""

    PRACTICE = "practice"
    CENTER = "center"


class Move(StrEnum):
    SUBMIT = "submit"
    ACKNOWLEDGE = "acknowledge"
    START_REVIEW = "start_review"
    SCHEDULE_CONSULT = "schedule_consult"
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"


# move -> (side that makes it, states it starts from, state it leads to)
MOVES: dict[Move, tuple[Side, frozenset[State], State]] = {
    Move.SUBMIT: (Side.PRACTICE, frozenset({State.DRAFT}), State.SUBMITTED),
    Move.ACKNOWLEDGE: (Side.CENTER, frozenset({State.SUBMITTED}), State.RECEIVED),
    Move.START_REVIEW: (Side.CENTER, frozenset({State.RECEIVED}), State.UNDER_REVIEW),
    Move.SCHEDULE_CONSULT: (
        Side.CENTER,
        frozenset({State.RECEIVED, State.UNDER_REVIEW, State.CONSULT_SCHEDULED}),
        State.CONSULT_SCHEDULED,
    ),
    Move.ACCEPT: (Side.CENTER, frozenset({State.UNDER_REVIEW, State.CONSULT_SCHEDULED}), State.ACCEPTED),
    Move.DECLINE: (
        Side.CENTER,
        frozenset({State.RECEIVED, State.UNDER_REVIEW, State.CONSULT_SCHEDULED}),
        State.DECLINED,
    ),
    Move.WITHDRAW: (Side.PRACTICE, OPEN_STATES, State.WITHDRAWN),
}


def side_making(move: Move) -> Side:
    """The side whose move `move` is."""
    return MOVES[move][0]


def who_makes(move: Move) -> str:
    who = "the receiving center" if side_making(move) == Side.CENTER else "the referring practice"
    return f"Only {who} can {move.value.replace('_', ' ')} a referral."


class MoveNotAllowed(Exception):
    """A move that the referral's state or the actor's side does not allow; says why."""


def next_state(move: Move, current: State, side: Side) -> State:
    """The state `move` leads to from `current` when made by `side`, or MoveNotAllowed."""
    made_by, from_states, to_state = MOVES[move]
    if side != made_by:
        raise MoveNotAllowed(who_makes(move))
    if current not in from_states:
        raise MoveNotAllowed(
            f"A referral that is {STATE_LABELS[current].lower()} cannot be moved to {STATE_LABELS[to_state].lower()}."
        )
    return to_state


def moves_available(current: State, side: Side) -> list[Move]:
    return [move for move, (made_by, from_states, _) in MOVES.items() if made_by == side and current in from_states]


def add_business_days(start: dt.datetime, days: int) -> dt.datetime:
    """`start` plus `days` business days (Monday to Friday), at the same time of day in the same zone.

    A start on a weekend counts from the next Monday's same time. Public holidays are not
    known to carecoord; a site that needs them sets a longer deadline.
    """
    current = start
    while current.weekday() >= 5:
        current += dt.timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
