"""Every Celery task is named by its function's dotted path, so a name in the beat schedule,
a route or a log line leads straight to the code."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_task_names_equal_their_function_paths() -> None:
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert ours
    for name, task in ours.items():
        assert name == f"{task.run.__module__}.{task.run.__name__}"


def test_the_beat_schedule_names_existing_tasks() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
