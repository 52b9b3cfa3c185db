"""Reading the lines of therapy a referral bundle sends: plain functions, no database.

Each drug of a regimen is a MedicationStatement and a stem-cell transplant a Procedure, each
with the `line-of-therapy` extension (valueInteger) naming the line it was part of: the
statements of one number make one line. Its dates are the earliest start and, once every
statement has ended, the latest end; its drug classes come from the drugs (`candidates.drugs`:
RxNorm, ATC or the drug's name), an autologous transplant being one of them; its regimen, best
response, refractoriness and progression date from extensions on any of its statements
(repeated, they agree). A drug not recognised makes the line "Other", and the answer warns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from candidates.drug_classes import DrugClass
from candidates.drugs import Drug, classes_of, drug_of_code, drug_of_name
from candidates.models import MAX_LINES, BestResponse
from candidates.services import REGIMEN_MAX_LENGTH
from fhir_api import codes

LINE_TYPES = ("MedicationStatement", "Procedure")
# Statements of therapy the patient did not receive (or not yet) make no line.
NOT_RECEIVED = frozenset({"entered-in-error", "not-taken", "intended", "not-done", "preparation"})
# The extensions read off any statement of a line: (url, the line's field, FHIR's value element).
LINE_EXTENSIONS = (
    (codes.REGIMEN, "regimen", "valueString"),
    (codes.BEST_RESPONSE, "best_response", "valueCode"),
    (codes.REFRACTORY, "refractory", "valueBoolean"),
    (codes.PROGRESSION_DATE, "progressed_on", "valueDate"),
)


class Reader(Protocol):
    """What `fhir_api.intake`'s reader offers: the resources, and somewhere to put problems."""

    resources: list[Any]

    def problem(self, expression: str, message: str, code: str = ..., status: int = ...) -> None: ...

    def warn(self, entry: int, expression: str, message: str) -> None: ...

    def names(self, index: int, kind: str, reference: str | None) -> bool: ...


@dataclass
class IncomingLine:
    """One line of therapy as `candidates.services.therapy_line_record` takes it, with the
    entries it was read from and, per field, the element a refusal of it is about."""

    number: int
    entries: list[int]
    values: dict[str, Any]
    where: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    entry: int
    where: str
    start_at: str  # the elements of its start and end
    end_at: str
    start: dt.date | None
    end: dt.date | None
    name: str
    drug: Drug | None = None
    transplant: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)


def read_lines(reader: Reader, patient_index: int) -> list[IncomingLine]:
    """The lines the bundle's MedicationStatements and Procedures make, first line first."""
    parts: dict[int, list[_Part]] = defaultdict(list)
    for index, resource in enumerate(reader.resources):
        kind = resource.get_resource_type()
        if kind not in LINE_TYPES:
            continue
        where = f"Bundle.entry[{index}].resource"
        if resource.subject is None or not reader.names(patient_index, "Patient", resource.subject.reference):
            reader.problem(f"{where}.subject", f"A {kind}'s subject is the bundle's Patient.")
        if resource.status in NOT_RECEIVED:
            reader.problem(
                f"{where}.status",
                f"Send only therapy the patient received (not {resource.status}).",
                "not-supported",
                422,
            )
        extensions = {e.url: e for e in resource.extension or [] if e.url}
        number = _line_number(reader, extensions, where)
        part = (
            _medication(reader, index, resource)
            if kind == "MedicationStatement"
            else _procedure(reader, index, resource)
        )
        if number is not None and part is not None:
            part.extensions = extensions
            parts[number].append(part)
    return [_line(reader, number, parts[number]) for number in sorted(parts)]


def _line_number(reader: Reader, extensions: dict[str, Any], where: str) -> int | None:
    extension = extensions.get(codes.LINE_OF_THERAPY)
    value = extension.valueInteger if extension is not None else None
    if not isinstance(value, int) or not 1 <= value <= MAX_LINES:
        reader.problem(
            f"{where}.extension('{codes.LINE_OF_THERAPY}')",
            f"Say which line of therapy this was part of: valueInteger, 1 to {MAX_LINES}.",
            "required",
        )
        return None
    return value


def _day(reader: Reader, value: Any, expression: str, *, required: bool) -> dt.date | None:
    """A full date (a moment's date as written); a partial one (a year, a month) is refused."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is not None or required:
        reader.problem(expression, "Give a full date (YYYY-MM-DD).", "required" if value is None else "value")
    return None


def _medication(reader: Reader, index: int, statement: Any) -> _Part | None:
    where = f"Bundle.entry[{index}].resource"
    concept = statement.medicationCodeableConcept
    if concept is None:
        reader.problem(
            f"{where}.medicationCodeableConcept",
            "Name the drug as medicationCodeableConcept (RxNorm, ATC or its name in text); a "
            "medicationReference is not read.",
            "required",
        )
        return None
    if statement.effectivePeriod is not None:
        start_at, end_at = f"{where}.effectivePeriod.start", f"{where}.effectivePeriod.end"
        start = _day(reader, statement.effectivePeriod.start, start_at, required=True)
        end = _day(reader, statement.effectivePeriod.end, end_at, required=False)
    else:
        start_at = end_at = f"{where}.effectiveDateTime"
        start, end = _day(reader, statement.effectiveDateTime, start_at, required=True), None
    if start is not None and end is not None and end < start:
        reader.problem(end_at, "The period cannot end before it starts.", "value")
    codings = concept.coding or []
    drug = next((d for c in codings if c.code and (d := drug_of_code(c.system or "", c.code)) is not None), None)
    names = [text for text in (concept.text, *(c.display for c in codings)) if text and text.strip()]
    if drug is None:
        drug = next((d for text in names if (d := drug_of_name(text)) is not None), None)
    if drug is None and not names:
        reader.problem(f"{where}.medicationCodeableConcept", "Give the drug's name in text or display.", "required")
        return None
    if drug is None:
        reader.warn(
            index,
            f"{where}.medicationCodeableConcept",
            "Not a drug carecoord maps to a drug class: its line is recorded with the class Other; "
            "tick the right class on the patient's treatment history page.",
        )
    name = drug.name if drug is not None else names[0].strip()
    return _Part(index, where, start_at, end_at, start, end, name, drug=drug)


def _procedure(reader: Reader, index: int, procedure: Any) -> _Part | None:
    where = f"Bundle.entry[{index}].resource"
    concept = procedure.code
    codings = (concept.coding or []) if concept is not None else []
    kind = next((k for c in codings if (k := codes.TRANSPLANT_OF_CODE.get((c.system or "", c.code or "")))), None)
    if kind is None and concept is not None:
        # Uncoded, the words say it: "Autologous stem cell transplant".
        words = " ".join(text for text in (concept.text, *(c.display for c in codings)) if text).lower()
        kind = next((k for k in ("autologous", "allogeneic") if k in words and "transplant" in words), None)
    if kind is None:
        reader.problem(
            f"{where}.code",
            f"A Procedure of a line is a stem-cell transplant: code it in {codes.TRANSPLANT_KIND} "
            "(autologous, allogeneic) or CPT (38241 autologous, 38240 allogeneic).",
            "code-invalid",
            422,
        )
        return None
    if procedure.performedPeriod is not None:
        start_at, end_at = f"{where}.performedPeriod.start", f"{where}.performedPeriod.end"
        start = _day(reader, procedure.performedPeriod.start, start_at, required=True)
        end = _day(reader, procedure.performedPeriod.end, end_at, required=False) or start
    else:
        start_at = end_at = f"{where}.performedDateTime"
        start = end = _day(reader, procedure.performedDateTime, start_at, required=True)
    if kind == "allogeneic":
        reader.warn(
            index,
            f"{where}.code",
            "An allogeneic transplant is not one of the drug classes the labelled uses name: its "
            "line is recorded with the class Other.",
        )
    return _Part(index, where, start_at, end_at, start, end, f"{kind} stem-cell transplant", transplant=kind)


def _line(reader: Reader, number: int, parts: list[_Part]) -> IncomingLine:
    first = parts[0]
    where = {"number": f"{first.where}.extension('{codes.LINE_OF_THERAPY}')"}
    values: dict[str, Any] = {"number": number}
    starts = [p for p in parts if p.start is not None]
    earliest = min(starts, key=lambda p: p.start or dt.date.max, default=first)
    values["started_on"] = earliest.start
    where["started_on"] = earliest.start_at
    ended = [p for p in parts if p.end is not None]
    latest = max(ended, key=lambda p: p.end or dt.date.min, default=first)
    # Ongoing while any of its drugs goes on.
    values["ended_on"] = latest.end if len(ended) == len(parts) else None
    where["ended_on"] = latest.end_at
    drugs = [p.drug for p in parts if p.drug is not None]
    unknown = any(p.drug is None and not p.transplant for p in parts) or any(
        p.transplant == "allogeneic" for p in parts
    )
    autologous = [DrugClass.AUTOLOGOUS_TRANSPLANT.value] if any(p.transplant == "autologous" for p in parts) else []
    values["drug_classes"] = classes_of(drugs, also=autologous, unknown=unknown)
    values["lenalidomide"] = any(drug.name == "lenalidomide" for drug in drugs)
    names = list(dict.fromkeys(p.name for p in parts))
    values["regimen"] = " + ".join(names)[:REGIMEN_MAX_LENGTH]
    where["regimen"] = where["drug_classes"] = first.where
    for url, name, element in LINE_EXTENSIONS:
        sent = [(p, getattr(p.extensions[url], element)) for p in parts if url in p.extensions]
        if not sent:
            continue
        part, value = sent[0]
        expression = f"{part.where}.extension('{url}')"
        where[name] = expression
        if any(other != value for _, other in sent[1:]):
            reader.problem(expression, f"The statements of line {number} say different things here.", "value")
        if name == "progressed_on":
            value = _day(reader, value, expression, required=True)
        elif value is None:
            reader.problem(expression, f"Give {url} as {element}.", "required")
        if value is not None:
            values[name] = value
    values["regimen"] = values["regimen"].strip()[:REGIMEN_MAX_LENGTH] or " + ".join(names)[:REGIMEN_MAX_LENGTH]
    if "best_response" in values and values["best_response"] not in BestResponse.values:
        reader.problem(
            where["best_response"], f"The best response is one of {', '.join(BestResponse.values)}.", "value"
        )
    return IncomingLine(number=number, entries=[p.entry for p in parts], values=values, where=where)
