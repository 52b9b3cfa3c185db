"""From what the clinician entered to a grade with its reason: ASTCT for CRS and ICANS, CTCAE
for the rest. Plain functions; the services turn an InputError into a field error.

What the record adds to the inputs (`Circumstances`): a child 12 or under has ICANS graded
with the CAPD instead of the ICE score (ASTCT pediatric table), and a CRS treated with tocilizumab,
siltuximab, anakinra or corticosteroids is no longer required to be febrile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from toxicity.grading import InvalidInput, assess_crs, assess_icans, assess_icans_capd, ice_score
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
# Children 12 and under: the CAPD in place of the ICE test.
ICANS_CAPD_INPUTS = ("capd_score", "consciousness", "seizure", "motor", "cerebral_edema")
ICE_ITEMS = ("orientation", "naming", "follows_commands", "writes_sentence", "counts_backwards")
CAPD_MAX_AGE = 12  # ASTCT (Lee et al. 2019): the CAPD grades encephalopathy at 12 years and under


@dataclass(frozen=True)
class Graded:
    grade: int
    reason: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Circumstances:
    """What the record says about an assessment beyond what was entered."""

    pediatric: bool = False  # 12 or under on the day assessed: ICANS by the CAPD
    fever_masked_by: str = ""  # e.g. "tocilizumab given 3 Dec 2026, 14:05": fever no longer required


ADULT = Circumstances()  # nothing added: an adult, no fever-masking treatment


class InputError(ValueError):
    """A bad assessment input, with the name of the field it concerns and what to enter."""

    def __init__(self, field: str, message: str, plain: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.plain = plain or message


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (a birthday on 29 February is reached on 1 March)."""
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def is_pediatric(date_of_birth: dt.date, day: dt.date) -> bool:
    return age_on(date_of_birth, day) <= CAPD_MAX_AGE


def input_names(kind: str, circumstances: Circumstances = ADULT) -> tuple[str, ...]:
    if kind == ToxicityKind.CRS:
        return CRS_INPUTS
    if kind == ToxicityKind.ICANS:
        return ICANS_CAPD_INPUTS if circumstances.pediatric else ICANS_INPUTS
    return ()


def grade_assessment(
    kind: str, inputs: dict[str, Any], ctcae_grade: int | None = None, circumstances: Circumstances = ADULT
) -> Graded:
    """The grade of one assessment; CRS and ICANS from `inputs`, other kinds from `ctcae_grade`."""
    if kind not in (ToxicityKind.CRS, ToxicityKind.ICANS):
        if ctcae_grade is None or isinstance(ctcae_grade, bool) or not 1 <= ctcae_grade <= 5:
            raise InputError("grade", "grade: choose a CTCAE grade from 1 to 5.", "Choose the CTCAE grade, 1 to 5.")
        return Graded(ctcae_grade, f"CTCAE grade {ctcae_grade}, as assessed.", {})
    names = input_names(kind, circumstances)
    unknown = set(inputs) - set(names)
    if unknown:
        name = sorted(unknown)[0]
        if {name, *unknown} & {"ice_score", "ice_items", "capd_score"}:
            instrument = "the CAPD (12 years and under)" if circumstances.pediatric else "the ICE score (over 12)"
            plain = f"On that day the patient is graded with {instrument}."
            raise InputError(name, f"{name}: {plain}", plain)
        raise InputError(name, f"{name}: not part of a {kind.upper()} assessment.")
    if kind == ToxicityKind.CRS and circumstances.fever_masked_by:
        inputs = {**inputs, "fever_masked": True}
    if "ice_items" in inputs:
        inputs = _with_score_of_items(inputs)
    assess = assess_crs if kind == ToxicityKind.CRS else assess_icans_capd if circumstances.pediatric else assess_icans
    try:
        result = assess(**{name: value for name, value in inputs.items() if name != "ice_items"})
    except TypeError as exc:  # a required input is missing
        first = names[0]
        plain = f"Enter {first.replace('_', ' ')} (or leave it empty when not measured)."
        raise InputError(first, f"{first}: enter it (or leave it empty when not measured).", plain) from exc
    except InvalidInput as exc:
        field = exc.argument if exc.argument in names else names[0]
        raise InputError(field, str(exc), exc.plain) from exc
    reason = result.reason
    if kind == ToxicityKind.CRS and circumstances.fever_masked_by:
        reason += f" ({circumstances.fever_masked_by})"
    return Graded(result.grade, reason, dict(inputs))


def _with_score_of_items(inputs: dict[str, Any]) -> dict[str, Any]:
    """ICANS inputs with the ICE score the items add up to; a score given as well must agree."""
    items = inputs["ice_items"]
    if not isinstance(items, dict) or set(items) != set(ICE_ITEMS):
        message = f"ice_items: give each of {', '.join(ICE_ITEMS)}."
        raise InputError("ice_items", message, "Score each of the ICE items.")
    try:
        score = ice_score(**items)
    except InvalidInput as exc:
        raise InputError("ice_items", f"ice_items: {exc}", exc.plain) from exc
    given = inputs.get("ice_score")
    if given is not None and given != score:
        plain = f"The ICE score {given} is not what the items add up to ({score})."
        raise InputError("ice_score", f"ice_score: {given} is not what the items add up to ({score}).", plain)
    return {**inputs, "ice_score": score, "ice_items": {name: items[name] for name in ICE_ITEMS}}
