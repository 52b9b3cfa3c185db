"""The kinds of toxicity after CAR-T, and which grading system each is graded by."""

from __future__ import annotations

from django.db import models


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
