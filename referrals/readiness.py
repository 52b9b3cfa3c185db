"""Referral readiness: which items of the checklist the center will need for the referral's
disease, and which are already on file (docs/clinical-rules.md#referrals).

A constant table, like the checklist it marks (`ReferralDocument.Kind`): for each disease area
the documents a CAR-T center asks for before it can evaluate the patient (pathology, imaging,
labs, the prior lines of therapy), each with what the center looks for in it. An item is on file
when a document of its kind is attached to the referral, or when an app holds it for the patient
(`carecoord.records_on_file`: the prior lines, from the treatment history).

Advisory only: a missing item never stops a draft from being saved or submitted; it tells the
practice what the center will ask for, so the evaluation does not wait for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from carecoord.models.patients import DiseaseArea
from referrals.models import ReferralDocument

Kind = ReferralDocument.Kind

LYMPHOMA_LABS = "CBC with differential, comprehensive metabolic panel and LDH, within the last 4 weeks"
# Each checklist item as the document it asks for: the kinds' own labels ("Prior therapies")
# read like the typed fields of the same name, which a "missing" beside them seemed to mean.
DOCUMENT_LABELS: dict[str, str] = {
    Kind.PATHOLOGY: "Pathology report",
    Kind.IMAGING: "Imaging report",
    Kind.LABS: "Recent lab results",
    Kind.HISTORY: "History and physical",
    Kind.PRIOR_THERAPIES: "Prior therapies summary",
    Kind.INSURANCE: "Insurance documents",
}


def document_choices() -> list[tuple[str, str]]:
    """The checklist's kinds, in checklist order, each named as its document."""
    return [(kind, DOCUMENT_LABELS[kind]) for kind in Kind.values]


PRIOR_LINES = "each line of therapy with its regimen, dates and best response; refractoriness and relapse dates"

# What the center needs, by disease area, in checklist order.
NEEDS: dict[str, dict[str, str]] = {
    DiseaseArea.LBCL: {
        Kind.PATHOLOGY: "biopsy report confirming the histology (CD19 status if tested; a new biopsy at relapse)",
        Kind.IMAGING: "the latest PET-CT, with its date and Deauville score",
        Kind.LABS: LYMPHOMA_LABS,
        Kind.PRIOR_THERAPIES: PRIOR_LINES,
    },
    DiseaseArea.FL: {
        Kind.PATHOLOGY: "biopsy report with the grade (a new biopsy if transformation is suspected)",
        Kind.IMAGING: "the latest PET-CT or CT, with its date",
        Kind.LABS: LYMPHOMA_LABS,
        Kind.PRIOR_THERAPIES: PRIOR_LINES,
    },
    DiseaseArea.MCL: {
        Kind.PATHOLOGY: "biopsy report with Ki-67 (and TP53 if tested)",
        Kind.IMAGING: "the latest PET-CT or CT, with its date",
        Kind.LABS: LYMPHOMA_LABS,
        Kind.PRIOR_THERAPIES: PRIOR_LINES + " (name the BTK inhibitor)",
    },
    DiseaseArea.MZL: {
        Kind.PATHOLOGY: "biopsy report confirming the histology",
        Kind.IMAGING: "the latest PET-CT or CT, with its date",
        Kind.LABS: LYMPHOMA_LABS,
        Kind.PRIOR_THERAPIES: PRIOR_LINES,
    },
    DiseaseArea.CLL_SLL: {
        Kind.PATHOLOGY: "flow cytometry and FISH (del(17p), TP53) results",
        Kind.IMAGING: "the latest CT, with its date",
        Kind.LABS: "CBC with differential, comprehensive metabolic panel, LDH and immunoglobulins",
        Kind.PRIOR_THERAPIES: PRIOR_LINES + " (name the BTK and BCL-2 inhibitors)",
    },
    # Leukemia: the marrow and the blood say where the disease stands; no imaging unless extramedullary.
    DiseaseArea.B_ALL: {
        Kind.PATHOLOGY: "bone marrow aspirate and biopsy with flow cytometry (CD19, minimal residual disease)",
        Kind.LABS: "CBC with differential and blasts, comprehensive metabolic panel, the latest spinal fluid results",
        Kind.PRIOR_THERAPIES: PRIOR_LINES + " (including any blinatumomab or inotuzumab)",
    },
    DiseaseArea.MULTIPLE_MYELOMA: {
        Kind.PATHOLOGY: "bone marrow biopsy with the plasma-cell percentage and cytogenetics or FISH",
        Kind.IMAGING: "the latest PET-CT, whole-body low-dose CT or MRI (extramedullary disease)",
        Kind.LABS: "SPEP with immunofixation, serum free light chains, CBC and comprehensive metabolic panel",
        Kind.PRIOR_THERAPIES: PRIOR_LINES + " (name any BCMA-directed therapy, with its dates)",
    },
    DiseaseArea.OTHER: {
        Kind.PATHOLOGY: "the diagnostic pathology report",
        Kind.IMAGING: "the latest staging imaging, with its date",
        Kind.LABS: "CBC with differential and comprehensive metabolic panel",
        Kind.PRIOR_THERAPIES: PRIOR_LINES,
    },
}


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a referral's checklist: whether the center needs it for the disease (and
    what it looks for in it), and what is on file for it."""

    kind: str
    label: str
    needed: bool
    what: str  # what the center looks for, when needed
    documents: int  # documents of this kind attached to the referral
    records: tuple[str, ...]  # what the apps hold for it, in words (the treatment history)

    @property
    def on_file(self) -> bool:
        return bool(self.documents or self.records)


def checklist(
    disease_area: str, document_kinds: Iterable[str], records: Mapping[str, Sequence[str]]
) -> list[ChecklistItem]:
    """Every checklist item, in checklist order, for a referral of `disease_area` with
    documents of `document_kinds` attached and `records` held for the patient (by kind)."""
    needs = NEEDS.get(disease_area, NEEDS[DiseaseArea.OTHER])
    kinds = list(document_kinds)
    return [
        ChecklistItem(
            kind=kind,
            label=DOCUMENT_LABELS[kind],
            needed=kind in needs,
            what=needs.get(kind, ""),
            documents=kinds.count(kind),
            records=tuple(records.get(kind, ())),
        )
        for kind in Kind.values
    ]


def needed(items: Iterable[ChecklistItem]) -> list[ChecklistItem]:
    """The items the center needs for the disease, on file or not."""
    return [item for item in items if item.needed]


def needs_by_disease() -> dict[str, list[tuple[str, str, str]]]:
    """By checklist kind, each disease area that needs it: (disease, its label, what the center
    looks for); for the referral form, which shows those of the disease chosen."""
    labels = dict(DiseaseArea.choices)
    by_kind: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in Kind.values}
    for disease, needs in NEEDS.items():
        for kind, what in needs.items():
            by_kind[kind].append((disease, labels[disease], what))
    return by_kind
