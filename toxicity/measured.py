"""What an assessment was graded from, and why, as the event page shows them.

`measured` lists the inputs kept with an assessment (`ToxicityAssessment.inputs`) as short
(label, value) pairs in the words of `toxicity.grading`; an input left out by a client had the
value the grading gave it (no oxygen, alert, no seizure...), and is shown so. Which kind the
inputs are is told by their names (CRS and ICANS share none); a CTCAE grade has none.

`reason_statements` says a stored reason once, statement by statement: without the "Grade N:"
it starts with (the page says the grade beside it), without a domain in brackets that only
repeats what the finding says ("hypotension not requiring vasopressors (hypotension)"), each
statement once. Stored reasons are read as they were written, so older ones read alike.
"""

from __future__ import annotations

import re
from typing import Any

from toxicity.grading import (
    CAPD_MAX,
    CONSCIOUSNESS_LEVELS,
    EDEMA_FINDINGS,
    ICE_MAX,
    MOTOR_FINDINGS,
    OXYGEN_SUPPORT,
    SEIZURE_TYPES,
)

_GRADE_PREFIX = re.compile(r"^\s*Grade \d+:\s*")
_BRACKETED = re.compile(r"\s*\(([^()]*)\)")
# The fever-masking treatment a CRS reason ends with, in the recording site's clock: the event
# page shows the treatment with its time in the viewer's zone instead.
_MASKED_BY = re.compile(r"\s*\([a-z ]+ given \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}\)\s*$")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _word(table: dict[str, tuple[int, str]], value: Any, none: str = "none") -> str:
    if value in (None, "none"):
        return none
    entry = table.get(value) if isinstance(value, str) else None
    return entry[1] if entry else str(value)


def _crs(inputs: dict[str, Any], *, masked_by_treatment: bool) -> list[tuple[str, str]]:
    temperature = inputs.get("temperature_c")
    pressors = inputs.get("vasopressors") or 0
    pressor_text = "none" if not pressors else f"{_number(pressors)}"
    if inputs.get("vasopressin"):
        pressor_text = "vasopressin" if not pressors else f"{pressor_text}, plus vasopressin"
    oxygen = _word(OXYGEN_SUPPORT, inputs.get("oxygen") or "room_air")
    flow = inputs.get("oxygen_flow_l_min")
    if flow is not None:
        oxygen += f" {_number(flow)} L/min"
    pairs = [
        ("Temperature", "not measured" if temperature is None else f"{_number(temperature)} °C"),
        ("Hypotension", "yes" if inputs.get("hypotension") else "no"),
        ("Vasopressors", pressor_text),
        ("Oxygen", oxygen),
    ]
    if inputs.get("fever_masked") and not masked_by_treatment:
        pairs.append(("Antipyretic or anti-cytokine therapy", "given"))
    return pairs


def _icans(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    if "capd_score" in inputs:
        score = inputs["capd_score"]
        first = ("CAPD score", "could not be done" if score is None else f"{score}/{CAPD_MAX}")
    else:
        score = inputs.get("ice_score")
        first = ("ICE score", "not assessed" if score is None else f"{score}/{ICE_MAX}")
    return [
        first,
        ("Consciousness", _word(CONSCIOUSNESS_LEVELS, inputs.get("consciousness") or "alert")),
        ("Seizures", _word(SEIZURE_TYPES, inputs.get("seizure"))),
        ("Motor findings", _word(MOTOR_FINDINGS, inputs.get("motor"))),
        ("Raised ICP or cerebral edema", _word(EDEMA_FINDINGS, inputs.get("cerebral_edema"))),
    ]


def measured(inputs: Any, *, masked_by_treatment: bool = False) -> list[tuple[str, str]]:
    """The inputs an assessment was graded from, as (label, value); none for a CTCAE grade.
    `masked_by_treatment`: a treatment recorded for the event set `fever_masked`, and is shown
    in its place (with when it was given), not as though the box had been ticked."""
    if not isinstance(inputs, dict):
        return []
    if "temperature_c" in inputs:
        return _crs(inputs, masked_by_treatment=masked_by_treatment)
    if "ice_score" in inputs or "capd_score" in inputs:
        return _icans(inputs)
    return []


def _without_echo(statement: str) -> str:
    """The statement without a bracketed word that only repeats the finding it follows."""
    kept, start = [], 0
    for match in _BRACKETED.finditer(statement):
        finding = statement[start : match.start()].lower()
        kept.append(statement[start : match.start()])
        if match.group(1).strip().lower() not in finding:
            kept.append(match.group(0))
        start = match.end()
    kept.append(statement[start:])
    return "".join(kept).strip()


def reason_statements(reason: str) -> list[str]:
    """The statements of a stored reason, each once and capitalised, without the grade prefix."""
    text = _MASKED_BY.sub("", _GRADE_PREFIX.sub("", reason or "")).strip().rstrip(".")
    statements: list[str] = []
    for part in text.split("; "):
        statement = _without_echo(part)
        statement = statement[:1].upper() + statement[1:]
        if statement and statement not in statements:
            statements.append(statement)
    return statements
