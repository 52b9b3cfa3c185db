from django.apps import AppConfig


class InfectionsConfig(AppConfig):
    """Infections after CAR-T, the prophylaxis plan and the revaccination plan, shared by both sites."""

    name = "infections"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared) and what it contributes
        to the digest and the work queue."""
        from carecoord.happened import register_happened
        from carecoord.patient_data import register
        from infections.contributions import register_infections_contributions

        register("infections.InfectionEvent", patient="patient", name="infection", ignore={"updated_at"})
        register("infections.ProphylaxisItem", patient="patient", name="prophylaxis item", ignore={"updated_at"})
        register("infections.VaccinationItem", patient="patient", name="vaccination", ignore={"updated_at"})
        register_happened("An infection's onset", "infections.InfectionEvent", "onset_on")
        register_infections_contributions()
