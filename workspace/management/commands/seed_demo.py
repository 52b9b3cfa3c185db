"""`manage.py seed_demo`: fictional sites, staff and synthetic patients for trying carecoord.

Safe to run again: rows are found by stable keys and a second run creates nothing. The demo
accounts share one published password, so the command refuses to run with DEBUG off unless
`--allow-production` is given.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carecoord import demo
from carecoord.roles import Role
from handoffs import demo as handoffs_demo
from referrals import demo as referrals_demo
from toxicity import demo as toxicity_demo


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
            coordinators = {
                site.pk: result.holders[(key, Role.COORDINATOR)] for key, site in demo.sites_by_key().items()
            }
            handoffs = handoffs_demo.seed_handoffs(coordinators)
        if referrals:
            result.created["referrals"] = referrals
        if toxicities:
            result.created["toxicity events"] = toxicities
        if handoffs:
            result.created["hand-offs"] = handoffs
        if result.created:
            summary = ", ".join(f"{count} {what}" for what, count in result.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")

        self.stdout.write("")
        self.stdout.write(f"Open {settings.SITE_URL}/ and sign in with password: {demo.DEMO_PASSWORD}")
        self.stdout.write(f"Django admin: {settings.SITE_URL}/admin/")
        self.stdout.write(
            "Second factor: every demo account uses one published authenticator key, "
            f"{demo.DEMO_TOTP_KEY_BASE32} (add it to any authenticator app),"
        )
        self.stdout.write("or print the current code with: python manage.py demo_code EMAIL")
        self.stdout.write("")
        rows = [("EMAIL", "ROLE", "SITE"), *result.logins]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
