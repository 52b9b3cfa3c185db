"""Which values are flagged the same day to the patient's point persons (docs/clinical-rules.md#lab-results).

Constants, the defaults of the consensus recommendations, for every site alike: a per-site
setting is left for when a center asks for other values.
"""

from __future__ import annotations

from labs.kinds import LabKind, value_text

# kind -> the value (canonical unit) below which a result is flagged, and what to consider.
FLAG_BELOW: dict[str, tuple[float, str]] = {
    LabKind.ANC: (500, "neutropenia: a fever now needs same-day assessment"),
    LabKind.PLATELETS: (20_000, "thrombocytopenia: consider transfusion (irradiated products)"),
    LabKind.HEMOGLOBIN: (7, "anemia: consider transfusion (irradiated products)"),
    LabKind.IGG: (400, "hypogammaglobulinemia: consider IVIG"),
}


def is_flagged(kind: str, value: float) -> bool:
    rule = FLAG_BELOW.get(kind)
    return rule is not None and value < rule[0]


def flag_reason(kind: str) -> str:
    """Why a value of `kind` is flagged: "below 500 cells/µL (neutropenia: ...)"."""
    below, consider = FLAG_BELOW[kind]
    return f"below {value_text(kind, below)} ({consider})"


def flag_line(kind: str) -> str:
    """The flag alone, for an email: "ANC below 500 cells/µL"."""
    return f"{dict(LabKind.choices)[kind]} below {value_text(kind, FLAG_BELOW[kind][0])}"
