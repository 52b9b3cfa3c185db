from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    """Standardized hand-off documents at every transfer of care."""

    name = "handoffs"
