from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    """The core domain every app shares: sites, people, patients, care teams and access."""

    name = "carecoord"
    verbose_name = "carecoord core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from carecoord.access.scope import forget_permission_ids
        from carecoord.accounts import signals  # noqa: F401 - connects the receivers
        from carecoord.contributions import register_core_contributions
        from carecoord.models import CareTeamLink, PointPerson, SiteMembership
        from carecoord.patient_data import register_core_patient_data
        from carecoord.web.choice_cache import choices_changed

        register_core_patient_data()
        register_core_contributions()
        post_migrate.connect(forget_permission_ids, dispatch_uid="carecoord.forget_permission_ids")
        # Who is on a care team, named at a site or a member of one: the lists' filter choices.
        for model in (CareTeamLink, PointPerson, SiteMembership):
            post_save.connect(choices_changed, sender=model, dispatch_uid=f"choices.saved.{model.__name__}")
            post_delete.connect(choices_changed, sender=model, dispatch_uid=f"choices.deleted.{model.__name__}")
