"""`manage.py wait_for_workers`: wait until a worker has taken a heartbeat from each queue
/health/ reads (`bin/run`, before it says where carecoord is), for at most `--timeout` seconds."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carecoord.health import workers_reported


class Command(BaseCommand):
    help = "Wait until the Celery workers have reported on each queue (exit 1 after --timeout seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait at most (60).")
        parser.add_argument(
            "--since", type=float, required=True, help="Only heartbeats from this moment count (Unix seconds)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = dt.datetime.fromtimestamp(options["since"], tz=dt.UTC)
        deadline = time.monotonic() + options["timeout"]
        while not workers_reported(since):
            if time.monotonic() >= deadline:
                raise CommandError(f"the Celery workers did not report within {options['timeout']:g} seconds")
            time.sleep(0.5)
