"""Common drugs of the lines of therapy that matter for CAR-T, by name and code, and the drug
class each counts for: how a regimen sent by an EHR (FHIR MedicationStatements) becomes the
classes of a line. A plain module (no database).

A drug is recognised by its RxNorm ingredient code, its ATC code (the 2022 codes and those
before), or its generic or brand name in the coding's display or the concept's text (an EHR
often codes the clinical drug, e.g. "lenalidomide 25 MG Oral Capsule", whose display names the
ingredient). Chemoimmunotherapy is a regimen, not a drug: an anti-CD20 antibody with a
cytotoxic drug in the same line. Steroids count for no class. A drug not listed here is
"Other", and whoever sent it is told.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from candidates.drug_classes import DrugClass

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"

# Parts of a regimen that are not a drug class on their own (chemoimmunotherapy is their sum).
ANTI_CD20 = "anti_cd20"
CYTOTOXIC = "cytotoxic"
STEROID = "steroid"


@dataclass(frozen=True)
class Drug:
    name: str
    kind: str  # a DrugClass value, or ANTI_CD20, CYTOTOXIC, STEROID
    names: tuple[str, ...] = ()  # brand and other names beside `name`
    rxnorm: tuple[str, ...] = ()
    atc: tuple[str, ...] = ()


DRUGS: tuple[Drug, ...] = (
    # Proteasome inhibitors.
    Drug("bortezomib", DrugClass.PI, ("velcade",), ("358258",), ("L01XG01", "L01XX32")),
    Drug("carfilzomib", DrugClass.PI, ("kyprolis",), atc=("L01XG02", "L01XX45")),
    Drug("ixazomib", DrugClass.PI, ("ninlaro",), atc=("L01XG03", "L01XX50")),
    # Immunomodulatory drugs.
    Drug("lenalidomide", DrugClass.IMID, ("revlimid",), ("342369",), ("L04AX04",)),
    Drug("pomalidomide", DrugClass.IMID, ("pomalyst", "imnovid"), ("1369713",), ("L04AX06",)),
    Drug("thalidomide", DrugClass.IMID, ("thalomid",), ("10432",), ("L04AX02",)),
    # Anti-CD38 antibodies.
    Drug("daratumumab", DrugClass.ANTI_CD38, ("darzalex",), atc=("L01FC01", "L01XC24")),
    Drug("isatuximab", DrugClass.ANTI_CD38, ("sarclisa",), atc=("L01FC02", "L01XC38")),
    # BTK inhibitors.
    Drug("ibrutinib", DrugClass.BTK_INHIBITOR, ("imbruvica",), atc=("L01EL01", "L01XE27")),
    Drug("acalabrutinib", DrugClass.BTK_INHIBITOR, ("calquence",), atc=("L01EL02",)),
    Drug("zanubrutinib", DrugClass.BTK_INHIBITOR, ("brukinsa",), atc=("L01EL03",)),
    Drug("pirtobrutinib", DrugClass.BTK_INHIBITOR, ("jaypirca",)),
    # BCL-2 inhibitor.
    Drug("venetoclax", DrugClass.BCL2_INHIBITOR, ("venclexta", "venclyxto"), atc=("L01XX52",)),
    # BCMA-directed bispecific antibodies and antibody-drug conjugate.
    Drug("teclistamab", DrugClass.BCMA_BISPECIFIC, ("tecvayli",)),
    Drug("elranatamab", DrugClass.BCMA_BISPECIFIC, ("elrexfio",)),
    Drug("linvoseltamab", DrugClass.BCMA_BISPECIFIC, ("lynozyfic",)),
    Drug("belantamab mafodotin", DrugClass.BCMA_CONJUGATE, ("belantamab", "blenrep")),
    # CD20xCD3 bispecific antibodies.
    Drug("mosunetuzumab", DrugClass.CD20XCD3_BISPECIFIC, ("lunsumio",)),
    Drug("glofitamab", DrugClass.CD20XCD3_BISPECIFIC, ("columvi",)),
    Drug("epcoritamab", DrugClass.CD20XCD3_BISPECIFIC, ("epkinly", "tepkinly")),
    # Anti-CD20 antibodies and cytotoxic drugs: chemoimmunotherapy together.
    Drug("rituximab", ANTI_CD20, ("rituxan", "mabthera", "truxima", "ruxience", "riabni"), ("121191",), ("L01FA01",)),
    Drug("obinutuzumab", ANTI_CD20, ("gazyva", "gazyvaro"), atc=("L01FA03",)),
    Drug("cyclophosphamide", CYTOTOXIC, rxnorm=("3002",), atc=("L01AA01",)),
    Drug("doxorubicin", CYTOTOXIC, rxnorm=("3639",), atc=("L01DB01",)),
    Drug("vincristine", CYTOTOXIC, rxnorm=("11202",), atc=("L01CA02",)),
    Drug("bendamustine", CYTOTOXIC, ("bendeka", "treanda"), atc=("L01AA09",)),
    Drug("gemcitabine", CYTOTOXIC, atc=("L01BC05",)),
    Drug("oxaliplatin", CYTOTOXIC, atc=("L01XA03",)),
    Drug("cisplatin", CYTOTOXIC, atc=("L01XA01",)),
    Drug("carboplatin", CYTOTOXIC, atc=("L01XA02",)),
    Drug("ifosfamide", CYTOTOXIC, atc=("L01AA06",)),
    Drug("etoposide", CYTOTOXIC, atc=("L01CB01",)),
    Drug("cytarabine", CYTOTOXIC, atc=("L01BC01",)),
    Drug("fludarabine", CYTOTOXIC, atc=("L01BB05",)),
    Drug("chlorambucil", CYTOTOXIC, atc=("L01AA02",)),
    Drug("methotrexate", CYTOTOXIC, atc=("L01BA01",)),
    Drug("polatuzumab vedotin", CYTOTOXIC, ("polatuzumab", "polivy")),
    Drug("melphalan", CYTOTOXIC, ("alkeran", "evomela"), atc=("L01AA03",)),
    # Steroids: part of many regimens, a class of none.
    Drug("dexamethasone", STEROID, rxnorm=("3264",), atc=("H02AB02",)),
    Drug("prednisone", STEROID, rxnorm=("8640",), atc=("H02AB07",)),
    Drug("prednisolone", STEROID, atc=("H02AB06",)),
    Drug("methylprednisolone", STEROID, atc=("H02AB04",)),
)

_BY_RXNORM = {code: drug for drug in DRUGS for code in drug.rxnorm}
_BY_ATC = {code: drug for drug in DRUGS for code in drug.atc}
_BY_NAME = sorted(((name, drug) for drug in DRUGS for name in (drug.name, *drug.names)), key=lambda p: -len(p[0]))


def drug_of_code(system: str, code: str) -> Drug | None:
    if system == RXNORM:
        return _BY_RXNORM.get(code.strip())
    if system == ATC:
        return _BY_ATC.get(code.strip().upper())
    return None


def drug_of_name(text: str) -> Drug | None:
    """The drug a name or a clinical drug's description names ("Revlimid 25 mg", "R-CHOP" names none)."""
    words = text.lower()
    for name, drug in _BY_NAME:
        if re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", words):
            return drug
    return None


def classes_of(drugs: Iterable[Drug], *, also: Iterable[str] = (), unknown: bool = False) -> list[str]:
    """The drug classes of a line of these drugs (and of the classes `also`, e.g. a transplant),
    in `DrugClass` order: chemoimmunotherapy for an anti-CD20 antibody with a cytotoxic drug;
    `Other` for a drug not recognised (`unknown`), and when nothing else fits (steroids alone,
    an anti-CD20 antibody or a cytotoxic drug alone)."""
    kinds = {drug.kind for drug in drugs}
    found = (kinds & set(DrugClass.values)) | set(also)
    if {ANTI_CD20, CYTOTOXIC} <= kinds:
        found.add(DrugClass.CHEMOIMMUNOTHERAPY)
    if unknown or not found:
        found.add(DrugClass.OTHER)
    return [value for value in DrugClass.values if value in found]
