"""The answer to a referral bundle: a transaction-response Bundle with one entry per entry
sent, in the same order, each naming the resource it made or found."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from fhir_api.build_referrals import referral_document_id
from fhir_api.intake import IncomingReferral, Issue
from fhir_api.intake_lines import LINE_TYPES
from fhir_api.services import IntakeResult

CREATED, FOUND = "201 Created", "200 OK"


def transaction_response(result: IntakeResult, incoming: IncomingReferral, base: str) -> Bundle:
    """Patient and ServiceRequest: made (201) or found (200). Each Condition's diagnosis is read
    into the referral and the patient's Condition (`Condition/{patient id}`) holds it. Each
    DocumentReference is the referral document made from it, in the order sent. Each
    MedicationStatement and Procedure is part of a line of therapy recorded (201) or kept as
    recorded before (200); they have no FHIR location (the line is at /api/therapy-lines/).
    An entry read or recorded with a doubt carries its warnings in `response.outcome`."""
    referral = result.referral
    patient_id = referral.patient_id
    made = CREATED if result.created else FOUND
    documents = iter(result.documents)
    entries: list[dict[str, Any]] = []
    line_of = {entry: line.number for line in incoming.lines for entry in line.entries}
    warnings: dict[int, list[Issue]] = defaultdict(list)
    for entry, issue in [*incoming.warnings, *result.warnings]:
        warnings[entry].append(issue)
    for index, kind in enumerate(incoming.entry_types):
        if kind == "Patient":
            response = {"status": CREATED if result.patient_created else FOUND, "location": f"Patient/{patient_id}"}
        elif kind == "ServiceRequest":
            response = {"status": made, "location": f"ServiceRequest/{referral.pk}"}
        elif kind == "Condition":
            response = {"status": FOUND, "location": f"Condition/{patient_id}"}
        elif kind in LINE_TYPES:
            # A drug or transplant of a line recorded now, or of one kept as recorded before.
            response = {"status": CREATED if line_of.get(index) in result.lines_created else FOUND}
        else:
            document = next(documents, None)
            response = {"status": made}
            if document is not None:
                response["location"] = f"DocumentReference/{referral_document_id(document)}"
        if "location" in response:
            response["location"] = base + response["location"]
        answer: dict[str, Any] = dict(response)
        if warnings[index]:
            answer["outcome"] = _warnings(warnings[index])
        entries.append({"response": answer})
    return Bundle.model_validate({"type": "transaction-response", "timestamp": timezone.now(), "entry": entries})


def _warnings(issues: list[Issue]) -> dict[str, Any]:
    """What an entry was read or recorded with, to check: an OperationOutcome of warnings."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "warning", "code": i.code, "diagnostics": i.diagnostics, "expression": [i.expression]}
            for i in issues
        ],
    }
