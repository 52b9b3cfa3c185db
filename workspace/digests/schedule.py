"""When a weekly digest is due. Pure: no database, tested without one."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def week_start_of(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    """The Monday of the week containing `now`, in site time (`zone`)."""
    today = now.astimezone(zone).date()
    return today - dt.timedelta(days=today.weekday())


def due_week(now: dt.datetime, zone: zoneinfo.ZoneInfo, weekday: int, hour: int) -> dt.date | None:
    """The week whose send time (`weekday` at `hour`, site time) has passed at `now`, else None.

    Only the current week in site time is considered, so a missed run catches up at any later time
    in the same week, and a week never reached is skipped rather than sent late next week.
    """
    if not 0 <= weekday <= 6 or not 0 <= hour <= 23:
        raise ValueError(f"weekday must be 0-6 and hour 0-23, not {weekday} and {hour}")
    week_start = week_start_of(now, zone)
    send_at = dt.datetime.combine(week_start + dt.timedelta(days=weekday), dt.time(hour), tzinfo=zone)
    return week_start if now >= send_at else None
