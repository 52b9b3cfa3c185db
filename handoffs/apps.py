from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Standardized hand-off documents at every transfer of care."""

    name = "handoffs"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared) and what it contributes
        to the digest."""
        from carecoord.patient_data import register
        from handoffs.contributions import register_handoffs_contributions

        register(
            "handoffs.Handoff",
            patient="patient",
            name="hand-off",
            ignore={"updated_at", "reminder_sent_at", "last_word_site", "last_word_at", "waiting_since"},
        )
        register("handoffs.HandoffQuestion", patient="handoff__patient", name="hand-off question")
        register_handoffs_contributions()
