"""The kinds of toxicity after CAR-T, and which grading system each is graded by."""

from __future__ import annotations

from django.db import models

from carecoord.models.deaths import DeathCause


class ToxicityKind(models.TextChoices):
    CRS = "crs", "Cytokine release syndrome (CRS)"
    ICANS = "icans", "Immune effector cell-associated neurotoxicity (ICANS)"
    INFECTION = "infection", "Infection"
    CYTOPENIA = "cytopenia", "Cytopenia"
    HYPOGAMMAGLOBULINEMIA = "hypogammaglobulinemia", "Hypogammaglobulinemia"
    IEC_HS = "iec_hs", "IEC-associated HLH-like syndrome (IEC-HS)"
    TUMOR_LYSIS = "tumor_lysis", "Tumor lysis syndrome"
    CARDIAC = "cardiac", "Cardiac event"
    OTHER_NEUROTOXICITY = "other_neurotoxicity", "Other neurotoxicity (parkinsonism, GBS, cranial nerve palsy)"
    SECONDARY_MALIGNANCY = "secondary_malignancy", "Secondary malignancy"
    OTHER = "other", "Other"


# CRS and ICANS are graded by the ASTCT consensus from a structured assessment; the rest by CTCAE.
ASTCT_KINDS = frozenset({ToxicityKind.CRS, ToxicityKind.ICANS})


# The primary cause of death a fatal toxicity of each kind is (`carecoord.models.DeathCause`);
# the kinds not named are other toxicities of the treatment.
DEATH_CAUSES: dict[str, DeathCause] = {
    ToxicityKind.CRS: DeathCause.CRS,
    ToxicityKind.ICANS: DeathCause.ICANS,
    ToxicityKind.IEC_HS: DeathCause.IEC_HS,
    ToxicityKind.INFECTION: DeathCause.INFECTION,
    ToxicityKind.SECONDARY_MALIGNANCY: DeathCause.SECOND_MALIGNANCY,
}


def death_cause_of(kind: str) -> DeathCause:
    """The cause of death a fatal toxicity of `kind` is."""
    return DEATH_CAUSES.get(kind, DeathCause.OTHER_TOXICITY)
