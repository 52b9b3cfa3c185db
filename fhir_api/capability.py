"""The CapabilityStatement at /fhir/metadata: what this server answers, for clients to discover."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from fhir_api.codes import FHIR_JSON, FHIR_VERSION
from fhir_api.export import RESOURCE_TYPES

# When the statement last changed (the referral intake).
PUBLISHED = dt.date(2026, 12, 4)


def _resource(name: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {
                "name": "patient",
                "type": "reference",
                "documentation": "Required: the patient (id or Patient/id) whose resources are listed.",
            }
        ],
    }
    if name == "Patient":
        resource["searchParam"].append({"name": "_id", "type": "token", "documentation": "Same as patient."})
        resource["operation"] = [
            {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
        ]
    return resource


def capability_statement(base_url: str) -> CapabilityStatement:
    """What the server offers; no patient data, so it is served to anyone (as FHIR asks)."""
    return CapabilityStatement.model_validate(
        {
            "status": "active",
            "date": PUBLISHED,
            "publisher": "carecoord",
            "kind": "instance",
            "software": {"name": "carecoord"},
            "implementation": {"description": "carecoord FHIR export and referral intake", "url": base_url},
            "fhirVersion": FHIR_VERSION,
            "format": [FHIR_JSON, "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Reads a patient's record; takes referrals as transaction Bundles posted to Bundle "
                        "(a Patient, a ServiceRequest, its Condition and DocumentReferences with inline "
                        "PDFs; the lines of therapy as MedicationStatements and Procedures). A searchset "
                        "is paged with _count and _offset (at most 500 entries a page; "
                        "next, previous, first and last links), whole without _count. "
                        "Authenticate with an API token (Authorization: Token …) or a signed-in "
                        "session. A patient outside your care-team sites answers 404."
                    ),
                    "security": {
                        "description": "API tokens from the account page; the same access rules as the web pages."
                    },
                    "resource": [_resource(name) for name in RESOURCE_TYPES],
                    "interaction": [
                        {
                            "code": "transaction",
                            "documentation": (
                                "POST Bundle: a referral from a community practice becomes a draft referral "
                                "(201), or finds the one the same ServiceRequest identifier made (200)."
                            ),
                        }
                    ],
                }
            ],
        }
    )
