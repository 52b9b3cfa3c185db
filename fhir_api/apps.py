from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    """A patient's record as HL7 FHIR R4 resources, read-only, under /fhir/ (docs/operators/fhir.md)."""

    name = "fhir_api"
    verbose_name = "FHIR API"
