from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """Program metrics: how fast patients move, how safe they are, how well the sites answer
    each other, computed in SQL over the patients the viewer sees."""

    name = "metrics"
    verbose_name = "Program metrics"
    default_auto_field = "django.db.models.BigAutoField"
