from django.apps import AppConfig


class ToxicityConfig(AppConfig):
    """Toxicity events graded by the ASTCT consensus, with same-day alerts."""

    name = "toxicity"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared)."""
        from carecoord.patient_data import register

        register("toxicity.ToxicityEvent", patient="patient", name="toxicity event", ignore={"updated_at"})
        register("toxicity.ToxicityAssessment", patient="event__patient", name="toxicity assessment")
        register("toxicity.ToxicityTreatment", patient="event__patient", name="toxicity treatment")
        register("toxicity.Alert", patient="event__patient", name="toxicity alert", ignore={"email"})
