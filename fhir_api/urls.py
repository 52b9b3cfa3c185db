"""The FHIR endpoints, under /fhir/: one named route per resource type and interaction, so the
permission matrices walk each (tests/route_rules.py). A type or id no route matches answers a
404 OperationOutcome (`fhir_api.errors.not_found`)."""

from django.urls import path

from fhir_api import views

# Type -> the id part of its read route. The URL kwarg is named as the object it reads.
READ_PATHS: dict[str, str] = {
    "Patient": "<uuid:patient_id>",
    "Organization": "<int:site_id>",
    "PractitionerRole": "<int:point_person_id>",
    "CareTeam": "<uuid:patient_id>",
    "Condition": "<uuid:patient_id>",
    "ServiceRequest": "<int:referral_id>",
    "Task": "<int:referral_id>",
    "CarePlan": "<int:referral_id>",
    "AdverseEvent": "<int:event_id>",
    "MedicationAdministration": "<int:treatment_id>",
    "Communication": "<int:comment_id>",
    "Provenance": "<int:entry_id>",
}

urlpatterns = [
    path("metadata", views.metadata, name="fhir-metadata"),
    # The referral intake: a transaction Bundle posted by a practice's system.
    path("Bundle", views.bundle, name="fhir-bundle"),
    path("Patient/<uuid:patient_id>/$everything", views.everything, name="fhir-everything"),
    *[
        path(f"{name}/{id_path}", views.read, {"resource_type": name}, name=f"fhir-{name.lower()}")
        for name, id_path in READ_PATHS.items()
    ],
    # A DocumentReference is a referral's document or a hand-off: its id says which.
    path(
        "DocumentReference/referral-document-<int:document_id>",
        views.read,
        {"resource_type": "DocumentReference", "id_prefix": "referral-document-"},
        name="fhir-documentreference",
    ),
    path(
        "DocumentReference/handoff-<int:handoff_id>",
        views.read,
        {"resource_type": "DocumentReference", "id_prefix": "handoff-"},
        name="fhir-documentreference-handoff",
    ),
    *[
        path(name, views.search, {"resource_type": name}, name=f"fhir-{name.lower()}-search")
        for name in [*READ_PATHS, "DocumentReference"]
    ],
]
