"""The project's configuration: settings, URLs, the Celery app, WSGI/ASGI and the API router."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
