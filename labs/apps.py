from django.apps import AppConfig


class LabsConfig(AppConfig):
    """Laboratory results after CAR-T (counts, IgG, CD4, inflammation), flagged the same day."""

    name = "labs"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared) and its work-queue list."""
        from carecoord.happened import register_happened
        from carecoord.patient_data import register
        from labs.contributions import register_labs_contributions

        register("labs.LabResult", patient="patient", name="lab result")
        register("labs.LabFlagNotice", patient="result__patient", name="lab flag notice", ignore={"email"})
        register_happened("A lab sample", "labs.LabResult", "taken_on")
        register_labs_contributions()
