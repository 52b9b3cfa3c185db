"""Short dates say their year when the date is months away: "Sat 23 May 2026", read in December."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import time_machine
from django.template import Context, Template
from django.utils import timezone

from carecoord.templatetags.near_dates import NEAR_DAYS, near, with_year

TODAY = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)


def test_the_year_follows_the_month() -> None:
    assert with_year("D j M") == "D j M Y"
    assert with_year("D j M, H:i T") == "D j M Y, H:i T"
    assert with_year("j M") == "j M Y"
    assert with_year("j M Y") == "j M Y"


@time_machine.travel(TODAY, tick=False)
def test_a_date_within_four_months_is_short_and_one_further_says_its_year() -> None:
    assert near(dt.date(2026, 12, 1), "D j M") == "Tue 1 Dec"
    assert near(dt.date(2027, 1, 9), "D j M") == "Sat 9 Jan"  # next month, another year: still near
    far = timezone.localdate() - dt.timedelta(days=NEAR_DAYS + 1)
    assert near(far, "D j M").endswith(f" {far.year}")
    assert near(dt.date(2026, 5, 23), "D j M") == "Sat 23 May 2026"
    assert near(dt.date(2026, 5, 23), "j M") == "23 May 2026"
    assert near(None, "D j M") == ""


@time_machine.travel(TODAY, tick=False)
def test_a_moment_is_written_in_the_time_zone_in_force() -> None:
    moment = dt.datetime(2026, 3, 5, 20, 11, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/Chicago")):
        html = Template('{% load near_dates %}{{ moment|near:"D j M, H:i T" }}').render(Context({"moment": moment}))
    assert html == "Thu 5 Mar 2026, 14:11 CST"
    recent = dt.datetime(2026, 12, 5, 2, 30, tzinfo=dt.UTC)  # 4 Dec in Chicago
    with timezone.override(zoneinfo.ZoneInfo("America/Chicago")):
        html = Template('{% load near_dates %}{{ moment|near:"D j M, H:i T" }}').render(Context({"moment": recent}))
    assert html == "Fri 4 Dec, 20:30 CST"
