"""Building referrals through the services for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.models import Patient, Site, User
from referrals.models import Referral
from referrals.services import referral_create, referral_move
from referrals.workflow import Move
from tests.conftest import World

REFERRAL_FIELDS: dict[str, Any] = {
    "disease_area": "lbcl",
    "prior_lines_of_therapy": 2,
    "prior_therapies": "R-CHOP x6; R-ICE x2",
    "transplant_eligibility": "ineligible",
    "performance_status": 1,
    "urgency": "urgent",
    "reason": "Primary refractory LBCL, candidate for CAR-T.",
}


def draft_referral(world: World, patient: Patient | None = None, to_center: Site | None = None) -> Referral:
    return referral_create(
        actor=world.community_coordinator,
        patient=patient or world.shared_patient,
        from_site=world.practice,
        to_center=to_center or world.center,
        referring_physician=world.community_oncologist,
        **REFERRAL_FIELDS,
    )


def advance(referral: Referral, moves: list[tuple[Move, User]], **kwargs: Any) -> Referral:
    for move, actor in moves:
        extra = dict(kwargs) if move in (Move.SCHEDULE_CONSULT, Move.DECLINE) else {}
        referral = referral_move(actor=actor, referral=referral, move=move, **extra)
    return referral


def accept(world: World, referral: Referral) -> Referral:
    """Take a draft referral from the practice to accepted at the center, the consult on 1 Dec 2026."""
    return advance(
        referral,
        [
            (Move.SUBMIT, world.community_coordinator),
            (Move.ACKNOWLEDGE, world.center_coordinator),
            (Move.START_REVIEW, world.center_coordinator),
            (Move.SCHEDULE_CONSULT, world.center_coordinator),
            (Move.ACCEPT, world.center_coordinator),
        ],
        consult_on=dt.date(2026, 12, 1),
    )


def accepted_referral(world: World, patient: Patient | None = None) -> Referral:
    return accept(world, draft_referral(world, patient=patient))
