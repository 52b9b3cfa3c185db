"""The quarterly report of one site: the metrics page's tables and charts for a calendar
quarter, as a PDF for quality meetings (WeasyPrint through `carecoord.pdf`)."""

from __future__ import annotations

import datetime as dt
import re

from django.template.loader import render_to_string
from django.utils import timezone

from carecoord.models import Site
from carecoord.pdf import html_to_pdf
from metrics.scope import Cohort, Period
from metrics.tables import every_block

QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def quarter_period(text: str, site: Site) -> Period:
    """ "2026Q3" as the days of that quarter in the site's time zone; ValueError otherwise."""
    found = QUARTER.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a quarter such as 2026Q3.")
    year, quarter = int(found[1]), int(found[2])
    start = dt.date(year, 3 * quarter - 2, 1)
    after = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return Period(start, after - dt.timedelta(days=1), site.zone)


def report_html(site: Site, quarter: str, now: dt.datetime | None = None) -> str:
    """The report's page: what the site's staff see of the quarter, every block."""
    period = quarter_period(quarter, site)
    now = now or timezone.now()
    context = {
        "site": site,
        "quarter": quarter.upper(),
        "period": period,
        "blocks": every_block(Cohort.for_site(site, period, now)),
        "made_at": site.time_of(now),
    }
    return render_to_string("metrics/report.html", context)


def report_pdf(site: Site, quarter: str, now: dt.datetime | None = None) -> bytes:
    return html_to_pdf(report_html(site, quarter, now))
