"""ASTCT consensus grading of CRS and ICANS (Lee et al., Biol Blood Marrow Transplant 2019;25:625),
and the EHA/EBMT ICAHT grade of neutropenia after infusion (Rejeski et al., Blood 2023;142:865;
``grade_icaht``, at the end).

ICANS in children 12 years and under is graded with the Cornell Assessment of Pediatric Delirium
(CAPD) in place of the ICE score (``assess_icans_capd``), the other domains as for adults.

Pure functions, no database and no Django: the caller records what was observed, these functions
say what grade it is and why. ``assess_crs`` / ``assess_icans`` are the single implementation;
``grade_crs`` / ``grade_icans`` return just the number.

What the caller decides before calling (clinical judgement the engine cannot make):

- every finding passed in is *not attributable to another cause* (the consensus grades only what
  is due to CRS / ICANS); fever from a line infection or hypotension from bleeding stays out;
- depressed consciousness is not from sedating drugs (sedation does not count for ICANS).

Deliberately not inputs, so a caller cannot make them change a grade:

- organ toxicities during CRS are graded by CTCAE and do not change the CRS grade;
- tremor and myoclonus are recorded but do not change the ICANS grade;
- intracranial hemorrhage, with or without edema, is excluded from ICANS grading and graded by
  CTCAE instead.

Inputs outside their domain raise ``InvalidInput``, a ``ValueError`` naming the argument, with a
plain sentence for the person entering it (``exc.plain``): a wrong grade shown to a clinician is
worse than a form error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CAPD_MAX",
    "CONSCIOUSNESS_LEVELS",
    "EDEMA_FINDINGS",
    "MOTOR_FINDINGS",
    "OXYGEN_SUPPORT",
    "SEIZURE_TYPES",
    "Grade",
    "InvalidInput",
    "assess_crs",
    "assess_icans",
    "assess_icans_capd",
    "grade_crs",
    "grade_icaht",
    "grade_icans",
    "grade_icans_capd",
    "ice_score",
]

FEVER_C = 38.0
TEMPERATURE_RANGE_C = (25.0, 45.0)
LOW_FLOW_MAX_L_MIN = 6.0
ICE_MAX = 10
CAPD_MAX = 32  # 8 items scored 0-4; higher is worse
CAPD_MILD_MAX = 8  # 1-8: grade 1 (grade 2 comes from awakening only to voice); 9 or more: grade 3

# Oxygen support -> (grade, wording). nasal_cannula is graded by its flow, see _hypoxia.
OXYGEN_SUPPORT: dict[str, tuple[int, str]] = {
    "room_air": (0, "room air"),
    "blow_by": (2, "blow-by oxygen"),
    "nasal_cannula": (2, "nasal cannula"),
    "high_flow_nasal_cannula": (3, "high-flow nasal cannula"),
    "facemask": (3, "facemask"),
    "nonrebreather": (3, "non-rebreather mask"),
    "venturi": (3, "Venturi mask"),
    "cpap": (4, "CPAP"),
    "bipap": (4, "BiPAP"),
    "mechanical_ventilation": (4, "intubation and mechanical ventilation"),
}

CONSCIOUSNESS_LEVELS: dict[str, tuple[int, str]] = {
    "alert": (0, "alert"),
    "awakens_spontaneously": (1, "depressed consciousness, awakens spontaneously"),
    "awakens_to_voice": (2, "depressed consciousness, awakens to voice"),
    "awakens_to_tactile": (3, "depressed consciousness, awakens only to tactile stimulus"),
    "unarousable": (4, "unarousable (stupor or coma)"),
}

SEIZURE_TYPES: dict[str, tuple[int, str]] = {
    "none": (0, "no seizure"),
    "rapidly_resolving": (3, "clinical seizure that resolved rapidly"),
    "nonconvulsive_resolved_with_intervention": (3, "non-convulsive EEG seizure resolving with intervention"),
    "prolonged": (4, "life-threatening prolonged seizure (> 5 min)"),
    "repetitive_without_baseline": (4, "repetitive seizures without return to baseline"),
}

MOTOR_FINDINGS: dict[str, tuple[int, str]] = {
    "none": (0, "no motor findings"),
    "deep_focal_weakness": (4, "deep focal motor weakness"),
}

EDEMA_FINDINGS: dict[str, tuple[int, str]] = {
    "none": (0, "no raised ICP or cerebral edema"),
    "focal_edema": (3, "focal/local cerebral edema on imaging"),
    "diffuse_edema": (4, "diffuse cerebral edema on imaging"),
    "posturing": (4, "decerebrate or decorticate posturing"),
    "cranial_nerve_vi_palsy": (4, "cranial nerve VI palsy"),
    "papilledema": (4, "papilledema"),
    "cushings_triad": (4, "Cushing's triad"),
}


@dataclass(frozen=True)
class Grade:
    """A grade 0-4 (0: ASTCT criteria not met), the plain-English reason, and the deciding domains."""

    grade: int
    reason: str
    domains: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.grade, bool) or not isinstance(self.grade, int) or not 0 <= self.grade <= 4:
            raise ValueError(f"grade: must be an int 0-4, got {self.grade!r}")


@dataclass(frozen=True)
class _Finding:
    domain: str
    grade: int
    text: str


# --- validation -------------------------------------------------------------------------------

# What to tell the person entering a value the engine cannot grade, argument by argument.
PLAIN: dict[str, str] = {
    "temperature_c": "Enter the highest temperature between 25 and 45 °C, or leave it empty if not measured.",
    "fever_masked": "Say whether antipyretic or anti-cytokine therapy was given.",
    "hypotension": "Say whether there is hypotension.",
    "vasopressors": "Enter how many vasopressors other than vasopressin: 0 or more.",
    "vasopressin": "Say whether vasopressin is given.",
    "oxygen": "Choose the oxygen support from the list.",
    "oxygen_flow_l_min": "Enter the oxygen flow in L/min: 0 or more.",
    "ice_score": "Enter the ICE score from 0 to 10, or say it could not be assessed.",
    "orientation": "Choose how many of year, month, city and hospital were right: 0 to 4.",
    "naming": "Choose how many of the three objects were named: 0 to 3.",
    "follows_commands": "Say whether simple commands are followed.",
    "writes_sentence": "Say whether a standard sentence is written.",
    "counts_backwards": "Say whether counting back from 100 by 10 is done.",
    "capd_score": "Enter the CAPD score from 0 to 32, or say the CAPD could not be done.",
    "consciousness": "Choose the level of consciousness from the list.",
    "seizure": "Choose the seizure finding from the list.",
    "motor": "Choose the motor finding from the list.",
    "cerebral_edema": "Choose the raised intracranial pressure or edema finding from the list.",
}


class InvalidInput(ValueError):
    """An input the engine cannot grade. ``str()`` names the argument ("oxygen: must be one of
    ..."); ``plain`` says what to enter, for the person at the form."""

    def __init__(self, argument: str, detail: str, plain: str = "") -> None:
        super().__init__(f"{argument}: {detail}")
        self.argument = argument
        self.plain = plain or PLAIN.get(argument, f"Check {argument.replace('_', ' ')}.")


def _check_bool(name: str, value: object) -> bool:
    # Strict: a truthy string such as "False" must not silently become True.
    if not isinstance(value, bool):
        raise InvalidInput(name, f"must be True or False, got {value!r}")
    return value


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    # bool is an int subclass; True as a count is a bug in the caller, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(name, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"{low}-{high}" if high is not None else f">= {low}"
        raise InvalidInput(name, f"must be {bound}, got {value}")
    return value


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(name, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(name, f"must be finite, got {value!r}")
    return number


def _check_word(name: str, value: object, allowed: dict[str, tuple[int, str]]) -> tuple[int, str]:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(name, f"must be one of {', '.join(allowed)}; got {value!r}")
    return allowed[value]


def _flow_text(flow: float) -> str:
    return f"{flow:g} L/min"


# --- CRS --------------------------------------------------------------------------------------


def _hypotension(*, hypotension: bool, vasopressors: int, vasopressin: bool) -> _Finding | None:
    # Vasopressors are only given for hypotension, so any vasopressor counts as hypotension
    # even when the hypotension flag was left False: under-grading a patient on pressors is
    # the dangerous mistake.
    extra = " plus vasopressin" if vasopressin else ""
    if vasopressors >= 2:
        return _Finding("hypotension", 4, f"{vasopressors} vasopressors{extra}")
    if vasopressors == 1:
        return _Finding("hypotension", 3, f"one vasopressor{extra}")
    if vasopressin:
        return _Finding("hypotension", 3, "vasopressin as the only vasopressor")
    if hypotension:
        return _Finding("hypotension", 2, "hypotension not requiring vasopressors")
    return None


def _hypoxia(*, oxygen: str, flow: float | None) -> _Finding | None:
    grade, text = OXYGEN_SUPPORT[oxygen]
    if oxygen == "nasal_cannula" and flow is not None:  # the flow is required, see _validate_crs
        if flow > LOW_FLOW_MAX_L_MIN:
            return _Finding("hypoxia", 3, f"high-flow nasal cannula {_flow_text(flow)}")
        return _Finding("hypoxia", 2, f"low-flow nasal cannula {_flow_text(flow)}")
    if grade == 0:
        return None
    if flow is not None:
        text = f"{text} {_flow_text(flow)}"
    return _Finding("hypoxia", grade, text)


def _validate_crs(
    *,
    temperature_c: float | None,
    fever_masked: bool,
    hypotension: bool,
    vasopressors: int,
    vasopressin: bool,
    oxygen: str,
    oxygen_flow_l_min: float | None,
) -> tuple[float | None, float | None]:
    temperature = None
    if temperature_c is not None:
        temperature = _check_number("temperature_c", temperature_c)
        low, high = TEMPERATURE_RANGE_C
        if not low <= temperature <= high:
            raise InvalidInput("temperature_c", f"must be {low:g}-{high:g} °C, got {temperature_c!r}")
    _check_bool("fever_masked", fever_masked)
    _check_bool("hypotension", hypotension)
    _check_int("vasopressors", vasopressors, 0)
    _check_bool("vasopressin", vasopressin)
    _check_word("oxygen", oxygen, OXYGEN_SUPPORT)
    flow = None
    if oxygen_flow_l_min is not None:
        flow = _check_number("oxygen_flow_l_min", oxygen_flow_l_min)
        if flow < 0:
            raise InvalidInput("oxygen_flow_l_min", f"must be >= 0, got {oxygen_flow_l_min!r}")
    if oxygen == "nasal_cannula" and not flow:
        # Low- vs high-flow cannula is grade 2 vs 3: refuse to guess. 0 L/min is no oxygen at all.
        raise InvalidInput(
            "oxygen_flow_l_min",
            f"nasal cannula needs a flow > 0 L/min, got {oxygen_flow_l_min!r}",
            "Enter the flow for a nasal cannula in L/min: up to 6 is low flow, above 6 high flow.",
        )
    if oxygen == "room_air" and flow:
        raise InvalidInput(
            "oxygen_flow_l_min",
            f"room air takes no oxygen flow, got {oxygen_flow_l_min!r}",
            "Room air takes no oxygen flow: clear the flow, or choose the oxygen device.",
        )
    return temperature, flow


def _crs_without_fever(temperature: float | None, findings: list[_Finding]) -> Grade:
    """Not febrile and not masked: grade 0, whatever hypotension or hypoxia there is."""
    measured = "no temperature recorded" if temperature is None else f"temperature {temperature:g} °C"
    reason = f"Grade 0: no fever ({measured}, below {FEVER_C:g} °C) and no antipyretic or anti-cytokine therapy"
    if findings:
        reason += "; " + " and ".join(f.text for f in findings) + " without fever is not graded as CRS"
    return Grade(0, reason, ())


def _crs_without_organ_findings(fever: float | None) -> Grade:
    """Neither hypotension nor hypoxia: grade 1 with a `fever` (°C), grade 0 when masked and afebrile."""
    if fever is not None:
        return Grade(1, f"Grade 1: fever {fever:g} °C without hypotension or hypoxia", ("fever",))
    return Grade(
        0,
        "Grade 0: afebrile after antipyretic or anti-cytokine therapy, without hypotension or hypoxia",
        (),
    )


def assess_crs(
    *,
    temperature_c: float | None,
    fever_masked: bool = False,
    hypotension: bool = False,
    vasopressors: int = 0,
    vasopressin: bool = False,
    oxygen: str = "room_air",
    oxygen_flow_l_min: float | None = None,
) -> Grade:
    """Grade cytokine release syndrome and say why.

    ``temperature_c`` is the highest temperature in the period graded; None means not recorded,
    which cannot establish fever. ``fever_masked``: antipyretic or anti-cytokine therapy
    (tocilizumab, steroids) was given for CRS, so fever is no longer required and the grade is
    driven by hypotension and hypoxia. ``vasopressors`` counts vasopressors other than
    vasopressin; any vasopressor (or vasopressin) implies hypotension whatever ``hypotension``
    says. ``oxygen_flow_l_min`` is required for ``nasal_cannula`` (<= 6 low flow, > 6 high flow)
    and optional, shown but not graded, for the other devices.

    Without fever (and not masked) the result is grade 0 even with hypotension or hypoxia: the
    consensus does not call that CRS. Masked, afebrile and with neither is grade 0 too: grade 1
    is defined by fever.
    """
    temperature, flow = _validate_crs(
        temperature_c=temperature_c,
        fever_masked=fever_masked,
        hypotension=hypotension,
        vasopressors=vasopressors,
        vasopressin=vasopressin,
        oxygen=oxygen,
        oxygen_flow_l_min=oxygen_flow_l_min,
    )
    febrile = temperature is not None and temperature >= FEVER_C
    findings = [
        f
        for f in (
            _hypotension(hypotension=hypotension, vasopressors=vasopressors, vasopressin=vasopressin),
            _hypoxia(oxygen=oxygen, flow=flow),
        )
        if f is not None
    ]
    if not febrile and not fever_masked:
        return _crs_without_fever(temperature, findings)
    if not findings:
        return _crs_without_organ_findings(temperature if febrile else None)

    reason = _reason(findings)
    if not febrile:
        reason += "; fever not required after antipyretic or anti-cytokine therapy"
    grade = max(f.grade for f in findings)
    return Grade(grade, reason, tuple(f.domain for f in findings if f.grade == grade))


def grade_crs(
    *,
    temperature_c: float | None,
    fever_masked: bool = False,
    hypotension: bool = False,
    vasopressors: int = 0,
    vasopressin: bool = False,
    oxygen: str = "room_air",
    oxygen_flow_l_min: float | None = None,
) -> int:
    """ASTCT CRS grade 0-4; see ``assess_crs``."""
    return assess_crs(
        temperature_c=temperature_c,
        fever_masked=fever_masked,
        hypotension=hypotension,
        vasopressors=vasopressors,
        vasopressin=vasopressin,
        oxygen=oxygen,
        oxygen_flow_l_min=oxygen_flow_l_min,
    ).grade


# --- ICANS ------------------------------------------------------------------------------------


def ice_score(
    *,
    orientation: int,
    naming: int,
    follows_commands: bool,
    writes_sentence: bool,
    counts_backwards: bool,
) -> int:
    """Immune effector cell-associated encephalopathy score, 0-10.

    ``orientation``: year, month, city, hospital (0-4); ``naming``: three objects (0-3); one point
    each for following simple commands, writing a standard sentence, counting back from 100 by 10.
    """
    return (
        _check_int("orientation", orientation, 0, 4)
        + _check_int("naming", naming, 0, 3)
        + _check_bool("follows_commands", follows_commands)
        + _check_bool("writes_sentence", writes_sentence)
        + _check_bool("counts_backwards", counts_backwards)
    )


def _ice_finding(score: int | None, consciousness: str) -> _Finding | None:
    if score is None:
        if consciousness == "unarousable":
            return _Finding("ice", 4, "unable to do ICE")
        # Not assessed is not evidence of encephalopathy; other domains still grade.
        return None
    if score == ICE_MAX:
        return None
    if score == 0 and consciousness == "unarousable":
        return _Finding("ice", 4, "ICE score 0/10")
    if score <= 2:
        return _Finding("ice", 3, f"ICE score {score}/10")
    if score <= 6:
        return _Finding("ice", 2, f"ICE score {score}/10")
    return _Finding("ice", 1, f"ICE score {score}/10")


def assess_icans(
    *,
    ice_score: int | None,
    consciousness: str = "alert",
    seizure: str = "none",
    motor: str = "none",
    cerebral_edema: str = "none",
) -> Grade:
    """Grade ICANS (adults and children over 12) as the most severe domain, and say why.

    ``ice_score`` None means it could not be done. Unarousable and unable to do ICE is grade 4;
    ICE None while alert with nothing else is grade 0 (no evidence of ICANS, not "unknown");
    ICE 0 while awake (global aphasia) is grade 3. ICE 10 with nothing else is grade 0.

    Tremor, myoclonus and intracranial hemorrhage are not parameters: the consensus says the first
    two do not change the grade and excludes hemorrhage from ICANS (CTCAE grades it). Findings
    must not be attributable to another cause, and sedation is not depressed consciousness; that
    judgement is the caller's.
    """
    if ice_score is not None:
        _check_int("ice_score", ice_score, 0, ICE_MAX)
    others = _icans_domains(consciousness=consciousness, seizure=seizure, motor=motor, cerebral_edema=cerebral_edema)
    ice = "ICE not assessed" if ice_score is None else f"ICE score {ice_score}/10"
    return _icans_grade([_ice_finding(ice_score, consciousness), *others], ice)


def _icans_domains(*, consciousness: str, seizure: str, motor: str, cerebral_edema: str) -> list[_Finding]:
    """The ICANS domains other than encephalopathy, graded alike at every age."""
    return [
        _Finding(name, *_check_word(name, value, table))
        for name, value, table in (
            ("consciousness", consciousness, CONSCIOUSNESS_LEVELS),
            ("seizure", seizure, SEIZURE_TYPES),
            ("motor", motor, MOTOR_FINDINGS),
            ("cerebral_edema", cerebral_edema, EDEMA_FINDINGS),
        )
    ]


def _icans_grade(candidates: list[_Finding | None], encephalopathy: str) -> Grade:
    """The most severe domain, or grade 0 saying what was found normal."""
    findings = [f for f in candidates if f is not None and f.grade > 0]
    if not findings:
        return Grade(
            0, f"Grade 0: no ICANS ({encephalopathy}, alert, no seizure, motor findings or cerebral edema)", ()
        )
    grade = max(f.grade for f in findings)
    return Grade(grade, _reason(findings), tuple(f.domain for f in findings if f.grade == grade))


def grade_icans(
    *,
    ice_score: int | None,
    consciousness: str = "alert",
    seizure: str = "none",
    motor: str = "none",
    cerebral_edema: str = "none",
) -> int:
    """ASTCT ICANS grade 0-4; see ``assess_icans``."""
    return assess_icans(
        ice_score=ice_score,
        consciousness=consciousness,
        seizure=seizure,
        motor=motor,
        cerebral_edema=cerebral_edema,
    ).grade


# --- ICANS in children 12 years and under (CAPD) -----------------------------------------------


def _capd_finding(score: int | None) -> _Finding | None:
    if score is None:
        return _Finding("capd", 4, "unable to perform the CAPD")
    if score == 0:
        return None
    if score <= CAPD_MILD_MAX:
        return _Finding("capd", 1, f"CAPD score {score}/{CAPD_MAX}")
    return _Finding("capd", 3, f"CAPD score {score}/{CAPD_MAX}")


def assess_icans_capd(
    *,
    capd_score: int | None,
    consciousness: str = "alert",
    seizure: str = "none",
    motor: str = "none",
    cerebral_edema: str = "none",
) -> Grade:
    """Grade ICANS in a child 12 years and under (or who cannot do the ICE test) and say why.

    The Cornell Assessment of Pediatric Delirium replaces the ICE score: ``capd_score`` 0-32
    (8 items scored 0-4, higher is worse), None when the CAPD could not be done. CAPD 1-8 is
    grade 1 by itself (grade 2 comes from awakening only to voice), 9 or more grade 3, unable
    to perform it grade 4; CAPD 0 is no ICANS from this domain. The other domains are graded
    as for adults (``assess_icans``), with the same judgement left to the caller.
    """
    if capd_score is not None:
        _check_int("capd_score", capd_score, 0, CAPD_MAX)
    others = _icans_domains(consciousness=consciousness, seizure=seizure, motor=motor, cerebral_edema=cerebral_edema)
    return _icans_grade([_capd_finding(capd_score), *others], f"CAPD score 0/{CAPD_MAX}")


def grade_icans_capd(
    *,
    capd_score: int | None,
    consciousness: str = "alert",
    seizure: str = "none",
    motor: str = "none",
    cerebral_edema: str = "none",
) -> int:
    """ASTCT ICANS grade 0-4 of a child 12 years and under, from the CAPD; see ``assess_icans_capd``."""
    return assess_icans_capd(
        capd_score=capd_score,
        consciousness=consciousness,
        seizure=seizure,
        motor=motor,
        cerebral_edema=cerebral_edema,
    ).grade


# --- reasons ----------------------------------------------------------------------------------

_DOMAIN_LABEL = {
    "hypotension": "hypotension",
    "hypoxia": "hypoxia",
    "ice": "ICE",
    "capd": "CAPD",
    "consciousness": "consciousness",
    "seizure": "seizure",
    "motor": "motor",
    "cerebral_edema": "cerebral edema",
}


def _reason(findings: list[_Finding]) -> str:
    """Deciding findings with their domain, then the lesser ones, e.g.

    Grade 3: one vasopressor (hypotension); low-flow nasal cannula 4 L/min would alone be grade 2
    """
    grade = max(f.grade for f in findings)
    deciding = [f for f in findings if f.grade == grade]
    lesser = sorted((f for f in findings if f.grade < grade), key=lambda f: -f.grade)
    reason = f"Grade {grade}: " + " and ".join(f"{f.text} ({_DOMAIN_LABEL[f.domain]})" for f in deciding)
    for f in lesser:
        reason += f"; {f.text} would alone be grade {f.grade}"
    return reason


# --- ICAHT: hematotoxicity after CAR-T (Rejeski et al., Blood 2023;142(10):865-877) -----------

EARLY_ICAHT_LAST_DAY = 30  # early ICAHT covers days 0-30; late ICAHT is graded after day +30
# Early ICAHT: (ANC ceiling in cells/µL, cumulative days at or below it, grade), worst first.
EARLY_ICAHT_ROWS: tuple[tuple[float, int, int], ...] = (
    (100, 14, 4),
    (500, 30, 4),
    (100, 7, 3),
    (500, 14, 3),
    (500, 7, 2),
    (500, 1, 1),
)
# Late ICAHT: (ANC ceiling in cells/µL, grade), worst first; non-transient = two measurements.
LATE_ICAHT_LEVELS: tuple[tuple[float, int], ...] = ((100, 4), (500, 3), (1000, 2), (1500, 1))
LATE_ICAHT_MEASUREMENTS = 2

PLAIN["anc_series"] = "Enter each ANC with its day after infusion (day 0 or later) and a count of 0 or more."
PLAIN["day"] = "Enter the day after infusion to grade at: day 0 or later."


def _anc_by_day(anc_series: list[tuple[int, float]]) -> dict[int, float]:
    """The series checked, one value per day: the lowest of a day's measurements (the worse)."""
    if not isinstance(anc_series, list | tuple) or not anc_series:
        raise InvalidInput("anc_series", f"must be a non-empty list of (day, ANC) pairs, got {anc_series!r}")
    by_day: dict[int, float] = {}
    for pair in anc_series:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidInput("anc_series", f"each item must be a (day, ANC) pair, got {pair!r}")
        day, anc = pair
        if isinstance(day, bool) or not isinstance(day, int):
            raise InvalidInput("anc_series", f"days must be integers, got {day!r}")
        if day < 0:
            raise InvalidInput("anc_series", f"days must be day 0 or later (no ICAHT before infusion), got {day}")
        try:
            count = _check_number("anc_series", anc)
        except InvalidInput:
            raise InvalidInput("anc_series", f"counts must be finite numbers, got {anc!r}") from None
        if count < 0:
            raise InvalidInput("anc_series", f"counts cannot be negative, got {anc!r}")
        by_day[day] = min(count, by_day.get(day, math.inf))
    return by_day


def icaht_days_at_or_below(by_day: dict[int, float], ceiling: float, *, through: int) -> int:
    """Cumulative days 0..`through` on which the ANC held was at or below `ceiling`.

    A measurement holds from its day until the day before the next one; the last holds through
    `through`. Days before the first measurement hold no value and are not counted."""
    days = sorted(d for d in by_day if d <= through)
    total = 0
    for this, following in zip(days, [*days[1:], through + 1], strict=True):
        if by_day[this] <= ceiling:
            total += following - this
    return total


def grade_icaht(*, anc_series: list[tuple[int, float]], day: int) -> int:
    """The neutropenia ICAHT grade (EHA/EBMT consensus) known at day +`day`, 0-4.

    `anc_series`: (day +N, ANC in cells/µL) pairs in any order; measurements after `day` are
    not yet known and are left out. Up to day +30 the grade is early ICAHT, from the cumulative
    days at or below 500 and 100/µL between day 0 and `day` (the higher row decides); after
    day +30 it is late ICAHT, from the measurements of days +31 to `day`: the lowest level
    (1500, 1000, 500, 100/µL) at or below which at least two measurements, on two different
    days, lie. Raises `InvalidInput` (a ValueError naming `anc_series` or `day`) for an empty
    series, a negative count, a day before infusion, or anything that is not a number.
    """
    if isinstance(day, bool) or not isinstance(day, int):
        raise InvalidInput("day", f"must be an integer day after infusion, got {day!r}")
    if day < 0:
        raise InvalidInput("day", f"must be day 0 or later (no ICAHT before infusion), got {day}")
    by_day = _anc_by_day(anc_series)
    if day <= EARLY_ICAHT_LAST_DAY:
        for ceiling, days, grade in EARLY_ICAHT_ROWS:
            if icaht_days_at_or_below(by_day, ceiling, through=day) >= days:
                return grade
        return 0
    late = [anc for d, anc in by_day.items() if EARLY_ICAHT_LAST_DAY < d <= day]
    for ceiling, grade in LATE_ICAHT_LEVELS:
        if sum(anc <= ceiling for anc in late) >= LATE_ICAHT_MEASUREMENTS:
            return grade
    return 0
