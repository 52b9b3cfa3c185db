from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    """Referrals from community practices to CAR-T centers and the shared treatment timeline."""

    name = "referrals"
