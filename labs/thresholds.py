"""Which values are flagged the same day to the patient's point persons (docs/clinical-rules.md#lab-results).

The consensus defaults (Rejeski et al., Blood 2023; Hayden et al., Ann Oncol 2022) hold for every
patient whose treating center has not set its own: a center whose policy differs sets its values
in the admin (`labs.models.LabFlagThresholds`), and they hold for its patients at every site of
their care team. Each result keeps the value it was compared with, so a later change of policy
never rewrites why an earlier result was flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from labs.kinds import LabKind, value_text

# kind -> the value (canonical unit) below which a result is flagged, by default.
DEFAULT_FLAG_BELOW: dict[str, float] = {
    LabKind.ANC: 500,
    LabKind.PLATELETS: 20_000,
    LabKind.HEMOGLOBIN: 7,
    LabKind.IGG: 400,
}

# kind -> what a flagged value asks the clinician to consider.
CONSIDER: dict[str, str] = {
    LabKind.ANC: "neutropenia: a fever now needs same-day assessment",
    LabKind.PLATELETS: "thrombocytopenia: consider transfusion (irradiated products)",
    LabKind.HEMOGLOBIN: "anemia: consider transfusion (irradiated products)",
    LabKind.IGG: "hypogammaglobulinemia: consider IVIG",
}


@dataclass(frozen=True)
class FlagThresholds:
    """The values below which a patient's results are flagged, and whose policy they are."""

    below: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FLAG_BELOW))
    set_by: str = ""  # the treating center that set them; "" for the consensus defaults

    def of(self, kind: str) -> float | None:
        return self.below.get(kind)

    def is_flagged(self, kind: str, value: float) -> bool:
        below = self.of(kind)
        return below is not None and value < below

    def lines(self) -> list[str]:
        """What is flagged, for a page: "ANC below 500 cells/µL", and so on."""
        return [flag_line(kind, below) for kind, below in self.below.items()]


DEFAULTS = FlagThresholds()


def is_flagged(kind: str, value: float, thresholds: FlagThresholds = DEFAULTS) -> bool:
    return thresholds.is_flagged(kind, value)


def flag_reason(kind: str, below: float) -> str:
    """Why a value of `kind` was flagged against `below`: "below 500 cells/µL (neutropenia: ...)"."""
    return f"below {value_text(kind, below)} ({CONSIDER[kind]})"


def flag_line(kind: str, below: float) -> str:
    """The flag alone, for an email: "ANC below 500 cells/µL"."""
    return f"{dict(LabKind.choices)[kind]} below {value_text(kind, below)}"
