"""Reading a laboratory value as people write it: the kind's names, the units, the conversions.

Pure functions, no database (docs/clinical-rules.md#lab-results). Every value is stored in its
kind's canonical unit (`labs.kinds.KINDS`); the common alternates are converted. A value
written without a unit is read only where one reading is safe (`bare_unit`): otherwise the
person is asked for the unit, as a count of 40 could be 40 cells/µL or 40 x 10^9/L.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labs.kinds import LabKind

# Names people and laboratory reports use for each kind, compared without case, spaces or dots.
KIND_NAMES: dict[str, str] = {
    **dict.fromkeys(["anc", "neut", "neuts", "neutrophils", "absneut", "absoluteneutrophils"], LabKind.ANC),
    **dict.fromkeys(["plt", "plts", "platelets", "platelet", "thrombocytes"], LabKind.PLATELETS),
    **dict.fromkeys(["hb", "hgb", "haemoglobin", "hemoglobin"], LabKind.HEMOGLOBIN),
    **dict.fromkeys(["alc", "lymph", "lymphs", "lymphocytes", "lymphocyte", "abslymph"], LabKind.LYMPHOCYTES),
    **dict.fromkeys(["cd4", "cd4count", "cd4+", "cd4cells"], LabKind.CD4),
    **dict.fromkeys(["igg", "immunoglobuling"], LabKind.IGG),
    **dict.fromkeys(["ferritin", "ferr"], LabKind.FERRITIN),
    **dict.fromkeys(["crp", "creactiveprotein"], LabKind.CRP),
}

_PER_MICROLITRE = ["/µl", "/ul", "cells/µl", "cells/ul", "/mm3", "cells/mm3", "/mm³", "cells/mm³"]
_THOUSANDS_PER_MICROLITRE = [
    "x10^9/l", "10^9/l", "x10e9/l", "x109/l", "g/l", "k/µl", "k/ul",
    "10^3/µl", "x10^3/µl", "10^3/ul", "x10^3/ul", "thou/µl", "thou/ul",
]  # fmt: skip
_COUNT_UNITS = dict.fromkeys(_PER_MICROLITRE, 1.0) | dict.fromkeys(_THOUSANDS_PER_MICROLITRE, 1000.0)

# For each kind: unit as written (lower case, no spaces) -> factor to its canonical unit.
UNITS: dict[str, dict[str, float]] = {
    LabKind.ANC: _COUNT_UNITS,
    LabKind.PLATELETS: _COUNT_UNITS,
    LabKind.LYMPHOCYTES: _COUNT_UNITS,
    LabKind.CD4: _COUNT_UNITS,
    # Hemoglobin: 1 g/dL = 10 g/L; 1 mmol/L (as the monomer) = 1.611 g/dL.
    LabKind.HEMOGLOBIN: {"g/dl": 1.0, "g/l": 0.1, "mmol/l": 1.611},
    LabKind.IGG: {"mg/dl": 1.0, "g/l": 100.0},
    LabKind.FERRITIN: {"ng/ml": 1.0, "µg/l": 1.0, "ug/l": 1.0, "mcg/l": 1.0},
    LabKind.CRP: {"mg/l": 1.0, "mg/dl": 10.0},
}
# How each kind's units are offered on forms and named in messages: (key in UNITS, label).
UNIT_CHOICES: dict[str, list[tuple[str, str]]] = {
    LabKind.ANC: [("/µl", "cells/µL"), ("x10^9/l", "x 10^9/L (= 10^3/µL)")],
    LabKind.PLATELETS: [("/µl", "/µL"), ("x10^9/l", "x 10^9/L (= 10^3/µL)")],
    LabKind.LYMPHOCYTES: [("/µl", "cells/µL"), ("x10^9/l", "x 10^9/L (= 10^3/µL)")],
    LabKind.CD4: [("/µl", "cells/µL"), ("x10^9/l", "x 10^9/L")],
    LabKind.HEMOGLOBIN: [("g/dl", "g/dL"), ("g/l", "g/L"), ("mmol/l", "mmol/L")],
    LabKind.IGG: [("mg/dl", "mg/dL"), ("g/l", "g/L")],
    LabKind.FERRITIN: [("ng/ml", "ng/mL (= µg/L)")],
    LabKind.CRP: [("mg/l", "mg/L"), ("mg/dl", "mg/dL")],
}
# A value beyond these (canonical units) is surely a slip or a wrong unit: refused.
PLAUSIBLE_MAX: dict[str, float] = {
    LabKind.ANC: 200_000,
    LabKind.PLATELETS: 3_000_000,
    LabKind.LYMPHOCYTES: 500_000,
    LabKind.CD4: 10_000,
    LabKind.HEMOGLOBIN: 25,
    LabKind.IGG: 10_000,
    LabKind.FERRITIN: 200_000,
    LabKind.CRP: 1_000,
}


class UnreadableValue(ValueError):
    """What was written cannot be read safely; the message says what to write instead."""


def _key(text: str) -> str:
    # The multiplication sign, superscripts and the Greek mu are written as on a keyboard.
    key = re.sub(r"[\s.]", "", text.lower()).replace("\u00d7", "x").replace("\u2079", "^9").replace("\u00b3", "^3")
    return key.replace("\u03bc", "\u00b5").replace("mcl", "\u00b5l")


def kind_named(name: str) -> str | None:
    """The kind a name stands for ("ANC", "Hgb", "abs. neut"), None if unknown."""
    key = _key(name).replace("-", "").replace("_", "")
    return KIND_NAMES.get(key) or (key if key in LabKind.values else None)


def unit_factor(kind: str, unit: str) -> float | None:
    """The factor from `unit` to the kind's canonical unit, None if the kind is not written in it."""
    return UNITS[kind].get(_key(unit))


def unit_names(kind: str) -> str:
    return ", ".join(label for _, label in UNIT_CHOICES[kind])


def bare_unit(kind: str, value: float, *, has_decimals: bool) -> str:
    """The unit a value written without one is read in, or `UnreadableValue` when unsafe.

    ANC and lymphocytes: a decimal value is x 10^9/L ("0.4"), an integer of 100 or more (or 0)
    cells/µL; 1-99 could be either. Platelets: under 1000 x 10^9/L, from 1000 /µL. CD4: cells/µL.
    Hemoglobin: up to 25 g/dL, above g/L. IgG: under 25 g/L, from 100 mg/dL; 25-99 could be
    either. Ferritin: ng/mL. CRP: mg/L.
    """
    thousands, per_microlitre = "x10^9/l", "/µl"
    match kind:
        case LabKind.ANC | LabKind.LYMPHOCYTES:
            if has_decimals and value != 0:
                return thousands
            if value == 0 or value >= 100:
                return per_microlitre
        case LabKind.PLATELETS:
            return thousands if value < 1000 else per_microlitre
        case LabKind.CD4:
            return per_microlitre
        case LabKind.HEMOGLOBIN:
            return "g/dl" if value <= 25 else "g/l"
        case LabKind.IGG:
            if value < 25:
                return "g/l"
            if value >= 100:
                return "mg/dl"
        case LabKind.FERRITIN:
            return "ng/ml"
        case LabKind.CRP:
            return "mg/l"
    raise UnreadableValue(f"{value:g} could be in {unit_names(kind)}: write the unit after the value.")


@dataclass(frozen=True)
class Reading:
    """A value read: in the canonical unit, and as it was written (value and unit)."""

    value: float
    entered_value: float
    entered_unit: str


def read_value(kind: str, value_text: str, unit_text: str = "") -> Reading:
    """Read `value_text` (in `unit_text`, or bare) as a value of `kind` in its canonical unit."""
    text = value_text.strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", text):  # 12,000: thousands separated
        text = text.replace(",", "")
    elif re.fullmatch(r"\d+,\d+", text):  # 0,4: a decimal comma
        text = text.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise UnreadableValue(f"{value_text.strip() or 'Nothing'} is not a number: write the value, e.g. 0.4.")
    entered = float(text)
    if unit_text.strip():
        factor = unit_factor(kind, unit_text)
        if factor is None:
            raise UnreadableValue(
                f"{unit_text.strip()} is not a unit of {LabKind(kind).label}: use {unit_names(kind)}."
            )
        unit = unit_text.strip()
    else:
        unit_key = bare_unit(kind, entered, has_decimals="." in text)
        factor = UNITS[kind][unit_key]
        unit = dict(UNIT_CHOICES[kind])[unit_key].split(" (")[0]  # "x 10^9/L", without its gloss
    value = round(entered * factor, 3)
    if value > PLAUSIBLE_MAX[kind]:
        raise UnreadableValue(f"{text} {unit} is not a plausible {LabKind(kind).label}: check the value and its unit.")
    return Reading(value=value, entered_value=entered, entered_unit=unit)
