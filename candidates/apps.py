from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    """Refer early: the treatment history a practice records, the labelled indications of each
    product as data, and the advisory prompts saying which patients are, or are about to be,
    CAR-T candidates."""

    name = "candidates"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared)."""
        from carecoord.patient_data import register

        register("candidates.TherapyLine", patient="patient", name="therapy line")
        register("candidates.TransplantCandidacy", patient="patient", name="transplant candidacy")
