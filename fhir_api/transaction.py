"""The answer to a referral bundle: a transaction-response Bundle with one entry per entry
sent, in the same order, each naming the resource it made or found."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from fhir_api.build_referrals import referral_document_id
from fhir_api.intake import IncomingReferral
from fhir_api.services import IntakeResult

CREATED, FOUND = "201 Created", "200 OK"


def transaction_response(result: IntakeResult, incoming: IncomingReferral, base: str) -> Bundle:
    """Patient and ServiceRequest: made (201) or found (200). Each Condition's diagnosis is read
    into the referral and the patient's Condition (`Condition/{patient id}`) holds it. Each
    DocumentReference is the referral document made from it, in the order sent."""
    referral = result.referral
    patient_id = referral.patient_id
    made = CREATED if result.created else FOUND
    documents = iter(result.documents)
    entries: list[dict[str, Any]] = []
    for kind in incoming.entry_types:
        if kind == "Patient":
            response = {"status": CREATED if result.patient_created else FOUND, "location": f"Patient/{patient_id}"}
        elif kind == "ServiceRequest":
            response = {"status": made, "location": f"ServiceRequest/{referral.pk}"}
        elif kind == "Condition":
            response = {"status": FOUND, "location": f"Condition/{patient_id}"}
        else:
            document = next(documents, None)
            response = {"status": made}
            if document is not None:
                response["location"] = f"DocumentReference/{referral_document_id(document)}"
        if "location" in response:
            response["location"] = base + response["location"]
        entries.append({"response": response})
    return Bundle.model_validate({"type": "transaction-response", "timestamp": timezone.now(), "entry": entries})
