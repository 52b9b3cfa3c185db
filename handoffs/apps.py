from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Standardized hand-off documents at every transfer of care."""

    name = "handoffs"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared)."""
        from carecoord.patient_data import register

        register("handoffs.Handoff", patient="patient", name="hand-off", ignore={"updated_at", "reminder_sent_at"})
        register("handoffs.HandoffQuestion", patient="handoff__patient", name="hand-off question")
