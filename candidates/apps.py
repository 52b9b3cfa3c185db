from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    """Refer early: the treatment history a practice records, the labelled indications of each
    product as data, and the advisory prompts saying which patients are, or are about to be,
    CAR-T candidates."""

    name = "candidates"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared), the referral prefill,
        the prior lines it puts on the referral checklist and what rewrites the cached candidate
        standings."""
        from candidates.prefill import prefill_from_history, prior_lines_on_file
        from candidates.standing_triggers import connect_standing_triggers
        from carecoord.patient_data import register
        from carecoord.records_on_file import register_record_on_file
        from carecoord.referral_prefill import register_referral_prefill
        from referrals.models import ReferralDocument

        register("candidates.TherapyLine", patient="patient", name="therapy line")
        register("candidates.TransplantCandidacy", patient="patient", name="transplant candidacy")
        register_referral_prefill("candidates", prefill_from_history)
        register_record_on_file(ReferralDocument.Kind.PRIOR_THERAPIES, "candidates", prior_lines_on_file)
        connect_standing_triggers()
