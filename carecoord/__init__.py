"""carecoord: shared CAR-T care between an academic center and community practices."""

from carecoord.celery import app as celery_app

__all__ = ["celery_app"]
