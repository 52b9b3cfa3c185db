from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The top floor: pages that combine referrals, toxicity and hand-offs."""

    name = "workspace"
    verbose_name = "Workspace"
    default_auto_field = "django.db.models.BigAutoField"
