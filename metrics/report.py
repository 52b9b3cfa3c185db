"""The quarterly report of one site: the metrics page's tables and charts for a calendar
quarter, as a PDF for quality meetings (WeasyPrint through `carecoord.pdf`)."""

from __future__ import annotations

import datetime as dt
import re

from django.template.loader import render_to_string
from django.utils import timezone

from carecoord.access.scope import AnyUser
from carecoord.models import Site
from carecoord.pdf import html_to_pdf
from metrics.scope import Cohort, Period
from metrics.tables import Block, every_block

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


def report_blocks(site: Site, quarter: str, now: dt.datetime, *, user: AnyUser | None = None) -> list[Block]:
    """Every block of the quarter: what the site's staff see of it, or, for a `user` working
    there, what they see through that site (the same patients)."""
    period = quarter_period(quarter, site)
    cohort = Cohort.for_site(site, period, now) if user is None else Cohort.for_user(user, period, now, site_id=site.pk)
    return every_block(cohort)


def report_html(
    site: Site,
    quarter: str,
    now: dt.datetime | None = None,
    *,
    user: AnyUser | None = None,
    blocks: list[Block] | None = None,
) -> str:
    """The report's page, every block (`blocks`, when already computed by `report_blocks`)."""
    now = now or timezone.now()
    context = {
        "site": site,
        "quarter": quarter.strip().upper(),
        "period": quarter_period(quarter, site),
        "blocks": blocks if blocks is not None else report_blocks(site, quarter, now, user=user),
        "made_at": site.time_of(now),
    }
    return render_to_string("metrics/report.html", context)


def report_pdf(
    site: Site,
    quarter: str,
    now: dt.datetime | None = None,
    *,
    user: AnyUser | None = None,
    blocks: list[Block] | None = None,
) -> bytes:
    return html_to_pdf(report_html(site, quarter, now, user=user, blocks=blocks))


def recent_quarters(today: dt.date, count: int = 4) -> list[str]:
    """The last `count` complete quarters before `today`, latest first: "2026Q3"..."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(count):
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        quarters.append(f"{year}Q{quarter}")
    return quarters
