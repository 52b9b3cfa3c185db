"""Every kind of milestone: the preparation steps entered by hand, then the planned course."""

from __future__ import annotations

from enum import StrEnum

from referrals.schedule import MilestoneKind


class PreparationKind(StrEnum):
    """Steps before lymphodepletion; their dates are always entered by hand."""

    CONSULT = "consult"
    INSURANCE_AUTHORIZATION = "insurance_authorization"
    APHERESIS = "apheresis"
    MANUFACTURING_RELEASE = "manufacturing_release"
    BRIDGING_THERAPY = "bridging_therapy"


PREPARATION_LABELS: dict[str, str] = {
    PreparationKind.CONSULT: "Consult at the center",
    PreparationKind.INSURANCE_AUTHORIZATION: "Insurance authorization",
    PreparationKind.APHERESIS: "Apheresis (T-cell collection)",
    PreparationKind.MANUFACTURING_RELEASE: "Manufacturing: expected release",
    PreparationKind.BRIDGING_THERAPY: "Bridging therapy",
}

ALL_KINDS: tuple[str, ...] = (*PreparationKind, *MilestoneKind)


def milestone_label(kind: str) -> str:
    if kind in PREPARATION_LABELS:
        return PREPARATION_LABELS[kind]
    return MilestoneKind(kind).label


def milestone_label_or_kind(kind: str) -> str:
    """`milestone_label`, or the kind itself made readable when it is none of the known kinds:
    a list of work shows the row rather than fail on it."""
    try:
        return milestone_label(kind)
    except ValueError:
        return kind.replace("_", " ").capitalize()
