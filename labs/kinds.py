"""The eight laboratory values followed after CAR-T, each stored in one canonical unit."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class LabKind(models.TextChoices):
    ANC = "anc", "ANC"
    PLATELETS = "platelets", "Platelets"
    HEMOGLOBIN = "hemoglobin", "Hemoglobin"
    LYMPHOCYTES = "lymphocytes", "Lymphocytes"
    CD4 = "cd4", "CD4"
    IGG = "igg", "IgG"
    FERRITIN = "ferritin", "Ferritin"
    CRP = "crp", "CRP"


@dataclass(frozen=True)
class KindInfo:
    """How a kind is named, stored and shown: its canonical unit and the decimals shown."""

    long_name: str
    unit: str
    decimals: int


KINDS: dict[str, KindInfo] = {
    LabKind.ANC: KindInfo("Absolute neutrophil count", "cells/µL", 0),
    LabKind.PLATELETS: KindInfo("Platelets", "/µL", 0),
    LabKind.HEMOGLOBIN: KindInfo("Hemoglobin", "g/dL", 1),
    LabKind.LYMPHOCYTES: KindInfo("Absolute lymphocyte count", "cells/µL", 0),
    LabKind.CD4: KindInfo("CD4 count", "cells/µL", 0),
    LabKind.IGG: KindInfo("IgG", "mg/dL", 0),
    LabKind.FERRITIN: KindInfo("Ferritin", "ng/mL", 0),
    LabKind.CRP: KindInfo("C-reactive protein", "mg/L", 1),
}


def canonical_unit(kind: str) -> str:
    return KINDS[kind].unit


def value_text(kind: str, value: float) -> str:
    """The value in its canonical unit as pages and emails show it: "400 cells/µL", "6.8 g/dL"."""
    info = KINDS[kind]
    return f"{value:,.{info.decimals}f} {info.unit}"
