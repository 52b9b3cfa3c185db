from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    """Refer early: the treatment history a practice records, the labelled indications of each
    product as data, and the advisory prompts saying which patients are, or are about to be,
    CAR-T candidates."""

    name = "candidates"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared), the referral prefill and
        what rewrites the cached candidate standings."""
        from candidates.prefill import prefill_from_history
        from candidates.standing_triggers import connect_standing_triggers
        from carecoord.patient_data import register
        from carecoord.referral_prefill import register_referral_prefill

        register("candidates.TherapyLine", patient="patient", name="therapy line")
        register("candidates.TransplantCandidacy", patient="patient", name="transplant candidacy")
        register_referral_prefill("candidates", prefill_from_history)
        connect_standing_triggers()
