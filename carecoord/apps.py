from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    """The core domain every app shares: sites, people, patients, care teams and access."""

    name = "carecoord"
    verbose_name = "carecoord core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from carecoord.access.scope import forget_permission_ids
        from carecoord.accounts import signals  # noqa: F401 - connects the receivers
        from carecoord.contributions import register_core_contributions
        from carecoord.patient_data import register_core_patient_data

        register_core_patient_data()
        register_core_contributions()
        post_migrate.connect(forget_permission_ids, dispatch_uid="carecoord.forget_permission_ids")
