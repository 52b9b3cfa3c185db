"""The drug classes a line of therapy is described by, as the labelled indications name them.

A plain module (no database): the matching rules (`candidates.matching`) and the models both
read it.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from carecoord.models.products import validate_choice_list


class DrugClass(models.TextChoices):
    PI = "pi", "Proteasome inhibitor (PI)"
    IMID = "imid", "Immunomodulatory drug (IMiD)"
    ANTI_CD38 = "anti_cd38", "Anti-CD38 antibody"
    BTK_INHIBITOR = "btk_inhibitor", "BTK inhibitor"
    BCL2_INHIBITOR = "bcl2_inhibitor", "BCL-2 inhibitor"
    BCMA_BISPECIFIC = "bcma_bispecific", "BCMA-directed bispecific antibody"
    BCMA_CONJUGATE = "bcma_conjugate", "BCMA-directed antibody-drug conjugate"
    CD20XCD3_BISPECIFIC = "cd20xcd3_bispecific", "CD20xCD3 bispecific antibody"
    CHEMOIMMUNOTHERAPY = "chemoimmunotherapy", "Chemoimmunotherapy"
    AUTOLOGOUS_TRANSPLANT = "autologous_transplant", "Autologous stem-cell transplant"
    OTHER = "other", "Other"


# Prior BCMA-directed therapy may lower the benefit of a BCMA CAR-T: shown to the center with its dates.
BCMA_DIRECTED = frozenset({DrugClass.BCMA_BISPECIFIC.value, DrugClass.BCMA_CONJUGATE.value})


def validate_drug_classes(value: Any) -> None:
    """A list of distinct `DrugClass` values (stored as JSON, like a product's disease areas)."""
    validate_choice_list(value, choices=DrugClass.values, noun="drug class", plural="drug classes")


# Read once: the enum builds its choices anew on each access, and the matching names classes
# in every reason it gives (thousands of times for the metrics' first-met days).
_LABELS: dict[str, str] = dict(DrugClass.choices)


def class_names(values: list[str] | frozenset[str]) -> str:
    return ", ".join(label for value, label in _LABELS.items() if value in values)
