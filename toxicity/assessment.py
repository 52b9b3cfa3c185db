"""From what the clinician entered to a grade with its reason: ASTCT for CRS and ICANS, CTCAE
for the rest. Plain functions; the services turn a ValueError into a field error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from toxicity.grading import assess_crs, assess_icans, ice_score
from toxicity.models import ToxicityKind

CRS_INPUTS = (
    "temperature_c",
    "fever_masked",
    "hypotension",
    "vasopressors",
    "vasopressin",
    "oxygen",
    "oxygen_flow_l_min",
)
# `ice_items`, when the ICE test was entered item by item, is kept with the score it adds up to.
ICANS_INPUTS = ("ice_score", "consciousness", "seizure", "motor", "cerebral_edema", "ice_items")
ICE_ITEMS = ("orientation", "naming", "follows_commands", "writes_sentence", "counts_backwards")
CRS_NEW_ONSET_LIMIT_DAY = 14


@dataclass(frozen=True)
class Graded:
    grade: int
    reason: str
    inputs: dict[str, Any]


class InputError(ValueError):
    """A bad assessment input, with the name of the field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def grade_assessment(kind: str, inputs: dict[str, Any], ctcae_grade: int | None = None) -> Graded:
    """The grade of one assessment; CRS and ICANS from `inputs`, other kinds from `ctcae_grade`."""
    if kind in (ToxicityKind.CRS, ToxicityKind.ICANS):
        names = CRS_INPUTS if kind == ToxicityKind.CRS else ICANS_INPUTS
        unknown = set(inputs) - set(names)
        if unknown:
            name = sorted(unknown)[0]
            raise InputError(name, f"{name}: not part of a {kind.upper()} assessment.")
        if "ice_items" in inputs:
            inputs = _with_score_of_items(inputs)
        assess = assess_crs if kind == ToxicityKind.CRS else assess_icans
        try:
            result = assess(**{name: value for name, value in inputs.items() if name != "ice_items"})
        except TypeError as exc:  # a required input is missing
            raise InputError(names[0], f"{names[0]}: enter it (or leave it empty when not measured).") from exc
        except ValueError as exc:
            field = str(exc).split(":", 1)[0].strip()
            raise InputError(field if field in names else names[0], str(exc)) from exc
        return Graded(result.grade, result.reason, dict(inputs))
    if ctcae_grade is None or isinstance(ctcae_grade, bool) or not 1 <= ctcae_grade <= 5:
        raise InputError("grade", "grade: choose a CTCAE grade from 1 to 5.")
    return Graded(ctcae_grade, f"CTCAE grade {ctcae_grade}, as assessed.", {})


def _with_score_of_items(inputs: dict[str, Any]) -> dict[str, Any]:
    """ICANS inputs with the ICE score the items add up to; a score given as well must agree."""
    items = inputs["ice_items"]
    if not isinstance(items, dict) or set(items) != set(ICE_ITEMS):
        raise InputError("ice_items", f"ice_items: give each of {', '.join(ICE_ITEMS)}.")
    try:
        score = ice_score(**items)
    except ValueError as exc:
        raise InputError("ice_items", f"ice_items: {exc}") from exc
    given = inputs.get("ice_score")
    if given is not None and given != score:
        raise InputError("ice_score", f"ice_score: {given} is not what the items add up to ({score}).")
    return {**inputs, "ice_score": score, "ice_items": {name: items[name] for name in ICE_ITEMS}}


def onset_day(infusion_on: dt.date | None, onset: dt.date) -> int | None:
    return (onset - infusion_on).days if infusion_on else None


def atypical_reason(kind: str, day: int | None) -> str:
    """Why an event is unusual for its timing, or "" (DOMAIN.md section 4, Ahmed et al. 2024)."""
    if kind == ToxicityKind.CRS and day is not None and day > CRS_NEW_ONSET_LIMIT_DAY:
        return (
            f"CRS first reported on day +{day}: new-onset CRS after day +{CRS_NEW_ONSET_LIMIT_DAY} is not expected "
            "after CAR-T. Consider infection."
        )
    return ""
