from django.apps import AppConfig


class ToxicityConfig(AppConfig):
    """Toxicity events graded by the ASTCT consensus, with same-day alerts."""

    name = "toxicity"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared) and what it contributes
        to the digest and the work queue."""
        from carecoord.happened import register_happened
        from carecoord.patient_data import register
        from toxicity.contributions import register_toxicity_contributions

        register("toxicity.ToxicityEvent", patient="patient", name="toxicity event", ignore={"updated_at"})
        register("toxicity.ToxicityAssessment", patient="event__patient", name="toxicity assessment")
        register("toxicity.ToxicityTreatment", patient="event__patient", name="toxicity treatment")
        register("toxicity.Alert", patient="event__patient", name="toxicity alert", ignore={"email", "patient"})
        register("toxicity.ManufacturerReport", patient="event__patient", name="manufacturer report")
        register_happened("A toxicity's onset", "toxicity.ToxicityEvent", "onset_at")
        register_toxicity_contributions()
