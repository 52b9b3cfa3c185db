from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    """A patient's record as HL7 FHIR R4 resources under /fhir/, and referrals that come in as
    FHIR transaction Bundles (docs/operators/fhir.md)."""

    name = "fhir_api"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        """Registers the intake's rows as patient data (audited: who sent which referral)."""
        from carecoord.patient_data import register

        register("fhir_api.ReferralIntake", patient="referral__patient", name="FHIR referral intake")
