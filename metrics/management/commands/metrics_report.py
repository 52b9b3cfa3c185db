"""Write one site's quarterly metrics report as a PDF: `manage.py metrics_report --site 3
--quarter 2026Q3` (the site by id or by name; `--output` names the file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carecoord.models import Site
from metrics.report import quarter_period, report_pdf


def site_named(text: str) -> Site:
    """The site with id `text`, or whose name is `text` (case aside)."""
    site = Site.objects.filter(pk=int(text)).first() if text.isdigit() else None
    site = site or Site.objects.filter(name__iexact=text.strip()).first()
    if site is None:
        raise CommandError(f"No site has the id or name {text!r}.")
    return site


class Command(BaseCommand):
    help = "Write a site's quarterly metrics report (PDF)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="The site's id or name.")
        parser.add_argument("--quarter", required=True, help="The quarter, e.g. 2026Q3.")
        parser.add_argument("--output", help="The file to write (default: metrics-<site id>-<quarter>.pdf).")

    def handle(self, *args: Any, **options: Any) -> None:
        site = site_named(options["site"])
        quarter = options["quarter"].strip().upper()
        try:
            quarter_period(quarter, site)
        except ValueError as error:
            raise CommandError(str(error)) from None
        output = Path(options["output"] or f"metrics-{site.pk}-{quarter}.pdf")
        output.write_bytes(report_pdf(site, quarter))
        self.stdout.write(f"Wrote {output} ({site.name}, {quarter}).")
