"""`manage.py send_digests`: send the weekly digests now, or print one with --dry-run.

Sending goes through the same claim as the beat task: a person already sent this week's
digest is skipped.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from carecoord.emails import render_email
from carecoord.models import User
from carecoord.zones import zone_of
from workspace.digests.schedule import week_start_of
from workspace.digests.services import digest_for, email_content, point_persons, send_due_digests


class Command(BaseCommand):
    help = "Send this week's digest to point persons now (once per week each), or print it with --dry-run."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print the digest text; write and send nothing.")
        parser.add_argument("--for", dest="email", metavar="EMAIL", help="Only this person.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["email"]:
            user = User.objects.filter(email__iexact=options["email"]).first()
            if user is None:
                raise CommandError(f"No user with email {options['email']}.")
            people = [user]
        else:
            people = point_persons()
        if not options["dry_run"]:
            sent = send_due_digests(timezone.now(), users=people, ignore_schedule=True)
            self.stdout.write(f"Queued {sent} digest(s).")
            return
        for user in people:
            zone = zone_of(user)
            week_start = week_start_of(timezone.now(), zone)
            content = digest_for(user, week_start).to_content()
            context = {"digest": email_content(content), "link": reverse("my-digest")}
            subject, text, _html = render_email("weekly-digest", context, zone)
            self.stdout.write(f"To: {user.email}\nSubject: {subject}\n\n{text}")
