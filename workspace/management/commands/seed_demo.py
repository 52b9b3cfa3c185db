"""`manage.py seed_demo`: fictional sites, staff and synthetic patients for trying carecoord.

Safe to run again: rows are found by stable keys and a second run creates nothing. The demo
accounts share one published password, so the command refuses to run with DEBUG off unless
`--allow-production` is given.
"""

from __future__ import annotations

import os
import shlex
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from candidates import demo as candidates_demo
from candidates.standings import refresh_every_standing
from carecoord import demo
from carecoord.roles import Role
from education import demo as education_demo
from handoffs import demo as handoffs_demo
from infections import demo as infections_demo
from labs import demo as labs_demo
from metrics import demo as metrics_demo
from metrics import demo_courses
from referrals import demo as referrals_demo
from toxicity import demo as toxicity_demo


def manage_command_line(*arguments: str) -> str:
    """`manage.py` with `arguments` as a line that works as pasted in a fresh shell: from the
    project directory, with this interpreter and the environment settings cannot do without
    (DEBUG, which gives a development SECRET_KEY, and the DATABASE_URL in use unless it is the
    default). A password in the URL is not printed: the line says where it goes."""
    environment = ["DEBUG=1"] if settings.DEBUG else []
    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urlsplit(url)
        if parts.password:
            url = url.replace(f":{parts.password}@", ":PASSWORD@", 1)
        environment.append(f"DATABASE_URL={shlex.quote(url)}")
    python = Path(sys.executable)
    if python.is_relative_to(settings.BASE_DIR):
        python = python.relative_to(settings.BASE_DIR)
    return " ".join(
        [
            f"cd {shlex.quote(str(settings.BASE_DIR))} &&",
            *environment,
            shlex.quote(str(python)),
            "manage.py",
            *(shlex.quote(argument) for argument in arguments),
        ]
    )


def banner(logins: list[tuple[str, str, str]]) -> list[str]:
    """What to do next, printed after seeding (and by bin/run): where to sign in and how to get
    a demo account's code, as a command to paste."""
    example = next((email for email, role, _site in logins if role == Role.COORDINATOR.label), "EMAIL")
    command = manage_command_line("demo_code", example)
    lines = [
        "",
        f"Open {settings.SITE_URL}/ and sign in with password: {demo.DEMO_PASSWORD}",
        f"Django admin: {settings.SITE_URL}/admin/",
        "Second factor: every demo account uses one published authenticator key, "
        f"{demo.DEMO_TOTP_KEY_BASE32} (add it to any authenticator app),",
        "or print an account's current code (any email below) with:",
        f"  {command}",
    ]
    needs = [] if settings.DEBUG else ["the server's SECRET_KEY in the environment"]
    if ":PASSWORD@" in command:
        needs.append("the database password in place of PASSWORD")
    if needs:
        lines.append(f"  (with {' and '.join(needs)})")
    return [*lines, ""]


class Command(BaseCommand):
    help = "Create demonstration sites, staff (one known password) and synthetic patients. Idempotent."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off. The demo accounts have a published password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: refusing to create demo accounts with a published password. "
                "Use --allow-production if this really is a demonstration server."
            )
        with transaction.atomic():
            result = demo.seed()
            referrals = referrals_demo.seed_all(result.holders)
            # Whoever records a toxicity at each site: its nurse.
            nurses = {site.pk: result.holders[(key, Role.NURSE)] for key, site in demo.sites_by_key().items()}
            toxicities = toxicity_demo.seed_toxicities(nurses)
            # Before the hand-offs: the transition hand-off is prefilled with the prevention plan.
            prevention = infections_demo.seed_infections(nurses)
            # Before the hand-offs, which are prefilled with the counts.
            lab_results = labs_demo.seed_labs(nurses)
            coordinators = {
                site.pk: result.holders[(key, Role.COORDINATOR)] for key, site in demo.sites_by_key().items()
            }
            handoffs = handoffs_demo.seed_handoffs(coordinators)
            education = education_demo.seed_education(coordinators)
            therapy_lines = candidates_demo.seed_candidates(coordinators, nurses, demo.sites_by_key())
            # The referred patients' histories, for the time from meeting a criterion to referral.
            therapy_lines += candidates_demo.seed_referred_histories(coordinators)
            # The program's past year, for the metrics; after the stories above, so that the
            # patient they show off is still the first in follow-up.
            past_courses = demo_courses.seed_past_courses(result.holders)
            # Last: dates back the moments the stories above leave at the time of seeding.
            metrics_demo.seed_program_history()
            # The candidate standings, as the hourly pass writes them: some stories above date
            # their referrals and lines directly.
            refresh_every_standing()
        if referrals:
            result.created["referrals"] = referrals
        if toxicities:
            result.created["toxicity events"] = toxicities
        if prevention:
            result.created["infection and prevention records"] = prevention
        if lab_results:
            result.created["lab results"] = lab_results
        if handoffs:
            result.created["hand-offs"] = handoffs
        if education:
            result.created["education records"] = education
        if therapy_lines:
            result.created["lines of therapy"] = therapy_lines
        if past_courses:
            result.created["past courses"] = past_courses
        if result.created:
            summary = ", ".join(f"{count} {what}" for what, count in result.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")

        for line in banner(result.logins):
            self.stdout.write(line)
        rows = [("EMAIL", "ROLE", "SITE"), *result.logins]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
