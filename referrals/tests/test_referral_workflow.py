"""The referral state machine and business-day deadlines, without a database."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from referrals.workflow import (
    CLOSED_STATES,
    Move,
    MoveNotAllowed,
    Side,
    State,
    add_business_days,
    moves_available,
    next_state,
)

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def test_the_practice_submits_and_the_center_acknowledges() -> None:
    assert next_state(Move.SUBMIT, State.DRAFT, Side.PRACTICE) == State.SUBMITTED
    assert next_state(Move.ACKNOWLEDGE, State.SUBMITTED, Side.CENTER) == State.RECEIVED


def test_the_center_cannot_submit_and_the_practice_cannot_decide() -> None:
    with pytest.raises(MoveNotAllowed, match="referring practice"):
        next_state(Move.SUBMIT, State.DRAFT, Side.CENTER)
    for move in (Move.ACKNOWLEDGE, Move.ACCEPT, Move.DECLINE, Move.SCHEDULE_CONSULT):
        with pytest.raises(MoveNotAllowed, match="receiving center"):
            next_state(move, State.UNDER_REVIEW, Side.PRACTICE)


def test_closed_referrals_accept_no_move() -> None:
    for state in CLOSED_STATES:
        assert moves_available(state, Side.PRACTICE) == []
        assert moves_available(state, Side.CENTER) == []


def test_a_draft_cannot_be_accepted_before_it_is_reviewed() -> None:
    with pytest.raises(MoveNotAllowed, match="cannot be moved"):
        next_state(Move.ACCEPT, State.SUBMITTED, Side.CENTER)


def test_the_practice_may_withdraw_any_open_referral() -> None:
    for state in (State.DRAFT, State.SUBMITTED, State.UNDER_REVIEW, State.CONSULT_SCHEDULED):
        assert next_state(Move.WITHDRAW, state, Side.PRACTICE) == State.WITHDRAWN


def test_the_full_path_to_acceptance() -> None:
    state = State.DRAFT
    path = [
        (Move.SUBMIT, Side.PRACTICE),
        (Move.ACKNOWLEDGE, Side.CENTER),
        (Move.START_REVIEW, Side.CENTER),
        (Move.SCHEDULE_CONSULT, Side.CENTER),
        (Move.ACCEPT, Side.CENTER),
    ]
    for move, side in path:
        state = next_state(move, state, side)
    assert state == State.ACCEPTED


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (dt.datetime(2026, 11, 16, 9, 30, tzinfo=CHICAGO), dt.datetime(2026, 11, 17, 9, 30, tzinfo=CHICAGO)),  # Mon
        (dt.datetime(2026, 11, 20, 16, 0, tzinfo=CHICAGO), dt.datetime(2026, 11, 23, 16, 0, tzinfo=CHICAGO)),  # Fri
        (dt.datetime(2026, 11, 21, 10, 0, tzinfo=CHICAGO), dt.datetime(2026, 11, 24, 10, 0, tzinfo=CHICAGO)),  # Sat
        (dt.datetime(2026, 11, 22, 23, 0, tzinfo=CHICAGO), dt.datetime(2026, 11, 24, 23, 0, tzinfo=CHICAGO)),  # Sun
    ],
)
def test_one_business_day_skips_the_weekend(start: dt.datetime, expected: dt.datetime) -> None:
    assert add_business_days(start, 1) == expected


def test_zero_business_days_is_now_on_a_weekday() -> None:
    monday = dt.datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)
    assert add_business_days(monday, 0) == monday
