"""Reading a referral sent as a FHIR transaction Bundle (`POST /fhir/Bundle`): plain functions,
no database. What the bundle must hold, and each problem named with the element it is in
(a FHIRPath such as `Bundle.entry[2].resource.content[0].attachment.data`), all at once.

A bundle holds one Patient, one ServiceRequest, the Condition the referral is for, the
referral's documents as DocumentReferences with their PDFs inline, and the patient's lines of
therapy as MedicationStatements and Procedures (`fhir_api.intake_lines`); the codes and systems are
those the export writes (`fhir_api.codes`, docs/operators/fhir.md). Whether the poster may
refer, which patient the MRN finds and whether the center and physician are right is the
service's to say (`fhir_api.services`): this module only reads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pydantic
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from carecoord.models.patients import DiseaseArea
from carecoord.text_limits import PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH
from fhir_api import codes
from fhir_api.intake_lines import LINE_TYPES, IncomingLine, read_lines
from referrals.documents import NAME_MAX_LENGTH, validate_upload
from referrals.models import Referral, ReferralDocument

# What a bundle may hold; anything else is refused rather than silently dropped.
TYPES = ("Patient", "ServiceRequest", "Condition", "DocumentReference", *LINE_TYPES)
METHODS = ("POST", "PUT")
GENDERS = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
PDF = "application/pdf"

# FHIR's answers: 400 for a bundle that is not what FHIR or this server reads, 422 for one
# that is but breaks a rule of the referral (FHIR's "business rule", e.g. a center unknown).
MALFORMED, UNPROCESSABLE = 400, 422


@dataclass(frozen=True)
class Issue:
    """One problem of a bundle: FHIR's issue type, the element (FHIRPath), and what is wrong.
    The diagnostics name no patient data (no value sent is echoed back)."""

    expression: str
    diagnostics: str
    code: str = "invalid"
    status: int = MALFORMED


class BundleRefused(Exception):
    """A bundle refused whole: its issues, answered as one OperationOutcome."""

    def __init__(self, issues: list[Issue], status: int | None = None) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in issues))
        self.issues = issues
        # A bundle that is not well formed is 400 whatever else is wrong with it.
        self.status = status or (MALFORMED if any(i.status == MALFORMED for i in issues) else UNPROCESSABLE)


@dataclass(frozen=True)
class IncomingDocument:
    entry: int  # its place in the bundle
    kind: str
    name: str
    content: bytes

    def upload(self) -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.content, content_type=PDF)


@dataclass
class IncomingReferral:
    """What a valid bundle asks for, as the referral services take it."""

    identifier: tuple[str, str]  # the ServiceRequest's (system, value): the key of idempotency
    mrns: dict[int, str]  # site id -> MRN, from the Patient's identifiers in carecoord MRN systems
    patient_fields: dict[str, Any]
    referral_fields: dict[str, Any]
    center: int | None  # the performer's site id
    requester: int | None  # the referring physician's user id, when named
    documents: list[IncomingDocument]
    lines: list[IncomingLine] = field(default_factory=list)
    # What was read with a doubt (a drug not recognised), by entry: answered as warnings.
    warnings: list[tuple[int, Issue]] = field(default_factory=list)
    # Each entry's resource type, in the bundle's order (the answer lists them in that order),
    # and where the Patient, the ServiceRequest and the Condition read are.
    entry_types: list[str] = field(default_factory=list)
    patient_entry: int = 0
    request_entry: int = 0
    condition_entry: int = 0


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _pydantic_issues(error: pydantic.ValidationError, prefix: str) -> list[Issue]:
    issues = []
    for detail in error.errors(include_url=False, include_input=False):
        loc = tuple(part for part in detail["loc"] if not (isinstance(part, str) and "[" in part))
        message = detail["msg"].removeprefix("Value error, ")
        issues.append(Issue(f"{prefix}{_path(loc)}", message, "structure" if not loc else "value"))
    return issues


def read_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BundleRefused([Issue("Bundle", "The body is not JSON.", "structure")]) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise BundleRefused([Issue("Bundle", "Send a Bundle resource (resourceType Bundle).", "structure")])
    return data


def parse_resources(data: dict[str, Any]) -> list[Resource]:
    """Each entry's resource parsed with its R4B model; the bundle itself (without its
    resources) checked as a transaction Bundle. Every problem at once."""
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise BundleRefused([Issue("Bundle.entry", "A referral bundle has entries.", "required")])
    issues: list[Issue] = []
    shell = {key: value for key, value in data.items() if key != "entry"}
    shell["entry"] = [
        {key: value for key, value in entry.items() if key != "resource"} if isinstance(entry, dict) else entry
        for entry in entries
    ]
    try:
        bundle = Bundle.model_validate(shell)
    except pydantic.ValidationError as exc:
        issues += _pydantic_issues(exc, "Bundle")
    else:
        if bundle.type != "transaction":
            issues.append(Issue("Bundle.type", "Send a transaction Bundle (type transaction).", "value"))
        for index, entry in enumerate(bundle.entry or []):
            if entry.request is None:
                issues.append(Issue(f"Bundle.entry[{index}].request", "Each entry says its request.", "required"))
            elif entry.request.method not in METHODS:
                issues.append(
                    Issue(
                        f"Bundle.entry[{index}].request.method",
                        "Only POST (or PUT) entries make a referral.",
                        "not-supported",
                        UNPROCESSABLE,
                    )
                )
    resources: list[Resource] = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}].resource"
        raw = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(raw, dict) or not isinstance(raw.get("resourceType"), str):
            issues.append(Issue(where, "Each entry holds a resource.", "required"))
            continue
        kind = raw["resourceType"]
        if kind not in TYPES:
            message = f"A referral bundle holds {', '.join(TYPES)}; not {kind[:40]}."
            issues.append(Issue(where, message, "not-supported", UNPROCESSABLE))
            continue
        try:
            resource = get_fhir_model_class(kind).model_validate(raw)
        except pydantic.ValidationError as exc:
            issues += _pydantic_issues(exc, where)
        except (ValueError, TypeError, KeyError, AttributeError):
            # The library refuses some shapes (an unknown contained type) outside pydantic's errors.
            issues.append(Issue(where, f"Not a valid {kind} resource.", "structure"))
        else:
            resources.append(cast(Resource, resource))
    if issues:
        raise BundleRefused(issues)
    return resources


def read_bundle(body: bytes) -> IncomingReferral:
    """The referral a bundle asks for, or `BundleRefused` naming each problem."""
    data = read_json(body)
    resources = parse_resources(data)
    return _Reader(data, resources).referral()


class _Reader:
    """Reads the parsed resources into a referral, collecting every problem."""

    def __init__(self, data: dict[str, Any], resources: list[Resource]) -> None:
        self.full_urls = [entry.get("fullUrl") for entry in data["entry"]]
        self.resources = resources
        self.issues: list[Issue] = []
        self.warnings: list[tuple[int, Issue]] = []

    def problem(self, expression: str, message: str, code: str = "invalid", status: int = MALFORMED) -> None:
        self.issues.append(Issue(expression, message, code, status))

    def warn(self, entry: int, expression: str, message: str) -> None:
        self.warnings.append((entry, Issue(expression, message, "informational")))

    def of_type(self, kind: str) -> list[tuple[int, Any]]:
        return [(i, r) for i, r in enumerate(self.resources) if r.get_resource_type() == kind]

    def one(self, kind: str) -> tuple[int, Any] | None:
        found = self.of_type(kind)
        if len(found) != 1:
            self.problem("Bundle.entry", f"A referral bundle holds exactly one {kind} ({len(found)} sent).", "required")
            return None
        return found[0]

    def names(self, index: int, kind: str, reference: str | None) -> bool:
        """Whether `reference` points at the entry `index` (its fullUrl, or Type/id)."""
        if not reference:
            return False
        resource = self.resources[index]
        return reference == self.full_urls[index] or (resource.id is not None and reference == f"{kind}/{resource.id}")

    def referral(self) -> IncomingReferral:
        patient = self.one("Patient")
        request = self.one("ServiceRequest")
        if patient is None or request is None:
            raise BundleRefused(self.issues)
        mrns, patient_fields = self.patient(*patient)
        identifier, fields, center, requester = self.service_request(*request, patient_index=patient[0])
        fields["disease_area"], condition_entry = self.condition(request, patient[0])
        documents = [self.document(i, resource, patient[0]) for i, resource in self.of_type("DocumentReference")]
        lines = read_lines(self, patient[0])
        if self.issues:
            raise BundleRefused(self.issues)
        return IncomingReferral(
            identifier=identifier,
            mrns=mrns,
            patient_fields=patient_fields | {"disease_area": fields["disease_area"]},
            referral_fields=fields,
            center=center,
            requester=requester,
            documents=[d for d in documents if d is not None],
            lines=lines,
            warnings=self.warnings,
            entry_types=[r.get_resource_type() for r in self.resources],
            patient_entry=patient[0],
            request_entry=request[0],
            condition_entry=condition_entry,
        )

    def patient(self, index: int, patient: Patient) -> tuple[dict[int, str], dict[str, Any]]:
        where = f"Bundle.entry[{index}].resource"
        mrns: dict[int, str] = {}
        for number, identifier in enumerate(patient.identifier or []):
            site = codes.site_of_mrn_system(identifier.system or "")
            mrn = (identifier.value or "").strip()
            if site is not None and mrn:
                if site in mrns:
                    self.problem(f"{where}.identifier[{number}]", "One MRN per site.", "value")
                mrns[site] = mrn[:64]
        fields: dict[str, Any] = {}
        names = patient.name or []
        official = next((n for n in names if n.use == "official"), names[0] if names else None)
        family = (official.family or "").strip() if official else ""
        given = " ".join(g.strip() for g in (official.given or []) if g and g.strip()) if official else ""
        if not family or not given:
            self.problem(f"{where}.name", "Give the patient's family and given names.", "required")
        fields |= {"family_name": family[:100], "given_name": given[:100]}
        birth = patient.birthDate
        if not isinstance(birth, dt.date):
            self.problem(f"{where}.birthDate", "Give the patient's full date of birth (YYYY-MM-DD).", "required")
        fields["date_of_birth"] = birth
        if patient.gender not in GENDERS:
            self.problem(f"{where}.gender", "Give the patient's gender: female, male, other or unknown.", "required")
        fields["sex"] = GENDERS.get(patient.gender or "", "unknown")
        if patient.contact:
            contact = patient.contact[0]
            if contact.name is not None and (name := contact.name.text or _joined(contact.name)):
                fields["caregiver_name"] = name[:200]
                relationship = contact.relationship[0].text if contact.relationship else ""
                if relationship:
                    fields["caregiver_relationship"] = relationship[:100]
                phone = next((t.value for t in contact.telecom or [] if t.system == "phone" and t.value), "")
                if phone:
                    fields["caregiver_phone"] = phone[:32]
        return mrns, fields

    def service_request(
        self, index: int, request: ServiceRequest, *, patient_index: int
    ) -> tuple[tuple[str, str], dict[str, Any], int | None, int | None]:
        where = f"Bundle.entry[{index}].resource"
        identifier = next(((i.system, i.value) for i in request.identifier or [] if i.system and i.value), ("", ""))
        if not identifier[0]:
            self.problem(
                f"{where}.identifier",
                "Give the ServiceRequest an identifier (system and value): a bundle sent again with it "
                "finds the same referral.",
                "required",
            )
        if request.subject is None or not self.names(patient_index, "Patient", request.subject.reference):
            self.problem(f"{where}.subject", "The ServiceRequest's subject is the bundle's Patient.", "invalid")
        extensions: dict[str, Any] = {e.url: e for e in request.extension or [] if e.url}
        fields: dict[str, Any] = {}
        fields["prior_lines_of_therapy"] = self.integer(extensions, codes.PRIOR_LINES, where, 0, 20)
        fields["performance_status"] = self.integer(extensions, codes.ECOG, where, 0, 4)
        transplant = extensions.get(codes.TRANSPLANT)
        eligibility = transplant.valueCode if transplant is not None else Referral.TransplantEligibility.UNKNOWN
        if eligibility not in Referral.TransplantEligibility.values:
            self.problem(
                f"{where}.extension('{codes.TRANSPLANT}')",
                "Transplant eligibility is eligible, ineligible or unknown.",
                "value",
            )
        fields["transplant_eligibility"] = eligibility
        therapies = extensions.get(codes.PRIOR_THERAPIES)
        fields["prior_therapies"] = (therapies.valueString or "") if therapies is not None else ""
        if len(fields["prior_therapies"]) > PRIOR_THERAPIES_MAX_LENGTH:
            self.problem(
                f"{where}.extension('{codes.PRIOR_THERAPIES}')",
                f"At most {PRIOR_THERAPIES_MAX_LENGTH} characters.",
                "too-long",
            )
        reason = "\n\n".join(note.text.strip() for note in request.note or [] if note.text and note.text.strip())
        if not reason:
            self.problem(f"{where}.note", "Give the reason for referral as a note.", "required")
        elif len(reason) > REASON_MAX_LENGTH:
            self.problem(f"{where}.note", f"At most {REASON_MAX_LENGTH} characters.", "too-long")
        fields["reason"] = reason
        fields["urgency"] = codes.URGENCY_OF_PRIORITY.get(request.priority or "routine", "routine")
        center = self.site_reference(request, where)
        requester = None
        if request.requester is not None:
            requester = _user_id(request.requester)
            if requester is None:
                self.problem(
                    f"{where}.requester",
                    f"Name the referring physician by identifier (system {codes.USER_ID_SYSTEM}).",
                    "value",
                    UNPROCESSABLE,
                )
        return identifier, fields, center, requester

    def integer(self, extensions: dict[str, Any], url: str, where: str, low: int, high: int) -> int:
        extension = extensions.get(url)
        value = extension.valueInteger if extension is not None else None
        if not isinstance(value, int) or not low <= value <= high:
            self.problem(f"{where}.extension('{url}')", f"Give {url} as valueInteger, {low} to {high}.", "required")
            return low
        return value

    def site_reference(self, request: ServiceRequest, where: str) -> int | None:
        """The center: `Organization/{id}` as the export writes it, or its identifier."""
        performers = request.performer or []
        if len(performers) != 1:
            self.problem(f"{where}.performer", "Name one treating center as the performer.", "required")
            return None
        performer = performers[0]
        site = None
        if performer.reference and performer.reference.startswith("Organization/"):
            number = performer.reference.removeprefix("Organization/")
            site = int(number) if number.isdigit() else None
        elif performer.identifier is not None and performer.identifier.system == codes.SITE_ID_SYSTEM:
            value = performer.identifier.value or ""
            site = int(value) if value.isdigit() else None
        if site is None:
            self.problem(
                f"{where}.performer[0]",
                f"Name the center as Organization/{{id}} or by identifier (system {codes.SITE_ID_SYSTEM}).",
                "value",
                UNPROCESSABLE,
            )
        return site

    def condition(self, request: tuple[int, ServiceRequest], patient_index: int) -> tuple[str, int]:
        """The disease area of the Condition the referral is for: the one its reasonReference
        names, else the bundle's only Condition."""
        index, service_request = request
        conditions = self.of_type("Condition")
        named = [r.reference for r in service_request.reasonReference or [] if r.reference]
        chosen = [(i, c) for i, c in conditions if any(self.names(i, "Condition", n) for n in named)]
        if not chosen and not named and len(conditions) == 1:
            chosen = conditions
        if len(chosen) != 1:
            self.problem(
                f"Bundle.entry[{index}].resource.reasonReference",
                "Send the Condition the referral is for, named by the ServiceRequest's reasonReference "
                "(or as the bundle's only Condition).",
                "required",
            )
            return DiseaseArea.OTHER, index
        condition_index, condition = chosen[0]
        where = f"Bundle.entry[{condition_index}].resource"
        if condition.subject is None or not self.names(patient_index, "Patient", condition.subject.reference):
            self.problem(f"{where}.subject", "The Condition's subject is the bundle's Patient.")
        area = _disease_area(condition)
        if area is None:
            self.problem(
                f"{where}.code",
                f"Code the diagnosis in {codes.DISEASE_AREA} ({', '.join(DiseaseArea.values)}) or ICD-10 "
                f"({', '.join(codes.DISEASE_AREA_OF_ICD_10)}).",
                "code-invalid",
                UNPROCESSABLE,
            )
            return DiseaseArea.OTHER, condition_index
        return area, condition_index

    def document(self, index: int, document: DocumentReference, patient_index: int) -> IncomingDocument | None:
        where = f"Bundle.entry[{index}].resource"
        before = len(self.issues)
        if document.subject is not None and not self.names(patient_index, "Patient", document.subject.reference):
            self.problem(f"{where}.subject", "A document's subject is the bundle's Patient.")
        kind = _document_kind(document)
        if kind is None:
            self.problem(
                f"{where}.type",
                f"Code the document's checklist item in {codes.DOCUMENT_KIND} "
                f"({', '.join(ReferralDocument.Kind.values)}) or LOINC ({', '.join(codes.DOCUMENT_KIND_OF_LOINC)}).",
                "code-invalid",
                UNPROCESSABLE,
            )
        if len(document.content) != 1:
            self.problem(f"{where}.content", "One attachment per DocumentReference.", "invalid")
            return None
        attachment = document.content[0].attachment
        at = f"{where}.content[0].attachment"
        if attachment.contentType != PDF:
            self.problem(f"{at}.contentType", "Documents are PDFs (contentType application/pdf).", "not-supported", 422)
        if not attachment.data:
            message = "Send the PDF inline, base64 in attachment.data (a URL is not fetched)."
            self.problem(f"{at}.data", message, "required")
            return None
        name = (attachment.title or document.description or "").strip()[:NAME_MAX_LENGTH] or f"document-{index}.pdf"
        incoming = IncomingDocument(entry=index, kind=kind or "", name=name, content=bytes(attachment.data))
        try:
            content_type = validate_upload(incoming.upload())
        except ValidationError as exc:
            self.problem(f"{at}.data", " ".join(exc.messages), "value", UNPROCESSABLE)
        else:
            if content_type != PDF:
                self.problem(f"{at}.data", "The attachment is not a PDF.", "not-supported", UNPROCESSABLE)
        return incoming if len(self.issues) == before else None


def _joined(name: Any) -> str:
    return " ".join([*(name.given or []), name.family or ""]).strip()


def _user_id(reference: Any) -> int | None:
    identifier = reference.identifier
    if identifier is None or identifier.system != codes.USER_ID_SYSTEM or not (identifier.value or "").isdigit():
        return None
    return int(identifier.value)


def _first_code(concept: Any, systems: dict[str, Callable[[str], str | None]]) -> str | None:
    for coding in (concept.coding or []) if concept is not None else []:
        read = systems.get(coding.system or "")
        if read is not None and coding.code and (found := read(coding.code)) is not None:
            return found
    return None


def _disease_area(condition: Condition) -> str | None:
    own: Callable[[str], str | None] = lambda code: code if code in DiseaseArea.values else None  # noqa: E731
    icd_10 = codes.disease_area_of_icd_10
    return _first_code(condition.code, {codes.DISEASE_AREA: own, codes.ICD_10_CM: icd_10, codes.ICD_10: icd_10})


def _document_kind(document: DocumentReference) -> str | None:
    own: Callable[[str], str | None] = lambda code: code if code in ReferralDocument.Kind.values else None  # noqa: E731
    return _first_code(document.type, {codes.DOCUMENT_KIND: own, codes.LOINC: codes.DOCUMENT_KIND_OF_LOINC.get})
