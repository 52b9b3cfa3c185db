"""`manage.py outbox`: what the outbox holds, and queueing emails again (for operators).

manage.py outbox                     counts by status, then every email not yet sent
manage.py outbox --requeue 12 13     give these another delivery window and queue them
manage.py outbox --requeue-failed    the same for every failed email
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count
from django.utils import timezone

from carecoord.emails import email_requeue
from carecoord.models import OutgoingEmail

SHOWN = 200


class Command(BaseCommand):
    help = "List the outgoing emails not yet sent, and queue them again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requeue", nargs="+", type=int, metavar="ID", help="Queue these emails again.")
        parser.add_argument("--requeue-failed", action="store_true", help="Queue every failed email again.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requeue"] or options["requeue_failed"]:
            count = email_requeue(options["requeue"], failed=options["requeue_failed"])
            self.stdout.write(f"Queued again: {count} email{'s' if count != 1 else ''}.")
            return
        counts = dict(OutgoingEmail.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        self.stdout.write(", ".join(f"{status}: {counts.get(status, 0)}" for status in OutgoingEmail.Status.values))
        waiting = OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).order_by("-urgent", "created_at")
        now = timezone.now()
        for email in waiting[:SHOWN]:
            age = round((now - email.created_at).total_seconds() / 60)
            next_try = f"next {email.next_attempt_at:%H:%M:%S}" if email.next_attempt_at else ""
            self.stdout.write(
                f"#{email.pk} {'ALERT ' if email.urgent else ''}{email.template} to {email.to_address}: "
                f"{email.status}, {email.attempts} attempt{'s' if email.attempts != 1 else ''}, {age} min old"
                f"{', ' + next_try if next_try else ''}{', ' + email.last_error[:120] if email.last_error else ''}"
            )
