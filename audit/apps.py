"""The audit trail: an append-only record of every change to patient data and every read of it."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only audit trail of changes to and reads of patient data."""

    name = "audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import signals

        signals.connect()
