from django.apps import AppConfig
from django.db.models.signals import post_save

from carecoord.web.choice_cache import choices_changed


def _referral_saved(*, created: bool, **_signal: object) -> None:
    if created:
        choices_changed()


class ReferralsConfig(AppConfig):
    """Referrals from community practices to CAR-T centers and the shared treatment timeline."""

    name = "referrals"

    def ready(self) -> None:
        """Registers this app's patient data (audited and read-declared) and what it contributes
        to the digest and the work queue."""
        from carecoord.happened import register_happened
        from carecoord.patient_data import register
        from referrals.contributions import register_referrals_contributions

        # The reminder timestamps only stop a second reminder email: bookkeeping of the outbox.
        register("referrals.Referral", patient="patient", name="referral", ignore={"reminder_sent_at"})
        register("referrals.ReferralDocument", patient="referral__patient", name="referral document")
        register("referrals.ReferralMove", patient="referral__patient", name="referral move")
        # A conflict is derived from the dates (referrals.conflicts); confirming one is recorded.
        register(
            "referrals.Milestone",
            patient="referral__patient",
            name="milestone",
            ignore={"updated_at", "conflict", "conflict_key"},
        )
        # Only a step done has its actual date.
        register_happened("A step done", "referrals.Milestone", "actual_on", patient="referral__patient")
        register_referrals_contributions()
        # A new referral may bring a new site into the referral list's filter.
        post_save.connect(_referral_saved, sender="referrals.Referral", dispatch_uid="choices.saved.Referral")
