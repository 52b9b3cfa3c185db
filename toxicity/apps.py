from django.apps import AppConfig


class ToxicityConfig(AppConfig):
    """Toxicity events graded by the ASTCT consensus, with same-day alerts."""

    name = "toxicity"
