"""The planned dates of one patient's CAR-T course, counted from the infusion (day 0).

A pure business rule (docs/architecture.md#house-rules): no database and no models, so it is
tested without either. The monitoring rules come from the patient's product
(docs/clinical-rules.md#monitoring), follow-up visits and CIBMTR form due dates from
docs/clinical-rules.md#milestones. A date someone entered by hand is a fact about this
patient and is never replaced by a computed one: moving the infusion moves everything else.

Six months and years are calendar months from day 0 (CIBMTR): the 6-month visit of an
infusion on 31 August is on the last day of February (28th or 29th), and year N of an
infusion on 29 February falls on 28 February in years without a leap day. Day 100 and the
visits of day 30, 60 and 90 are days.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

DEFAULT_HAND_BACK_DAY = 21  # typically between day +14 and day +30 (docs/clinical-rules.md#milestones)
LONG_TERM_FOLLOW_UP_YEARS = 15  # genetically modified products (docs/clinical-rules.md#milestones)
SIX_MONTHS = 6
MONTHS_PER_YEAR = 12
LYMPHODEPLETION_START_DAY = -5  # fludarabine + cyclophosphamide, about day -5 to -3 (docs/clinical-rules.md#milestones)
LYMPHODEPLETION_END_DAY = -3


class MilestoneKind(StrEnum):
    """One planned event of the course. Each occurs once, so a kind identifies a milestone."""

    LYMPHODEPLETION_START = "lymphodepletion_start"
    LYMPHODEPLETION_END = "lymphodepletion_end"
    INFUSION = "infusion"
    DAILY_MONITORING_END = "daily_monitoring_end"
    MONITORING_END = "monitoring_end"
    STAY_NEAR_CENTER_END = "stay_near_center_end"
    NO_DRIVING_END = "no_driving_end"
    HAND_BACK = "hand_back"
    VISIT_DAY_30 = "visit_day_30"
    VISIT_DAY_60 = "visit_day_60"
    VISIT_DAY_90 = "visit_day_90"
    VISIT_DAY_100 = "visit_day_100"
    VISIT_MONTH_6 = "visit_month_6"
    VISIT_YEAR_1 = "visit_year_1"
    VISIT_YEAR_2 = "visit_year_2"
    VISIT_YEAR_3 = "visit_year_3"
    VISIT_YEAR_4 = "visit_year_4"
    VISIT_YEAR_5 = "visit_year_5"
    VISIT_YEAR_6 = "visit_year_6"
    VISIT_YEAR_7 = "visit_year_7"
    VISIT_YEAR_8 = "visit_year_8"
    VISIT_YEAR_9 = "visit_year_9"
    VISIT_YEAR_10 = "visit_year_10"
    VISIT_YEAR_11 = "visit_year_11"
    VISIT_YEAR_12 = "visit_year_12"
    VISIT_YEAR_13 = "visit_year_13"
    VISIT_YEAR_14 = "visit_year_14"
    VISIT_YEAR_15 = "visit_year_15"
    CIBMTR_DAY_100 = "cibmtr_day_100"
    CIBMTR_MONTH_6 = "cibmtr_month_6"
    CIBMTR_YEAR_1 = "cibmtr_year_1"
    CIBMTR_YEAR_2 = "cibmtr_year_2"
    CIBMTR_YEAR_3 = "cibmtr_year_3"
    CIBMTR_YEAR_4 = "cibmtr_year_4"
    CIBMTR_YEAR_5 = "cibmtr_year_5"
    CIBMTR_YEAR_6 = "cibmtr_year_6"
    CIBMTR_YEAR_7 = "cibmtr_year_7"
    CIBMTR_YEAR_8 = "cibmtr_year_8"
    CIBMTR_YEAR_9 = "cibmtr_year_9"
    CIBMTR_YEAR_10 = "cibmtr_year_10"
    CIBMTR_YEAR_11 = "cibmtr_year_11"
    CIBMTR_YEAR_12 = "cibmtr_year_12"
    CIBMTR_YEAR_13 = "cibmtr_year_13"
    CIBMTR_YEAR_14 = "cibmtr_year_14"
    CIBMTR_YEAR_15 = "cibmtr_year_15"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[MilestoneKind, str] = {
    MilestoneKind.LYMPHODEPLETION_START: "Lymphodepletion starts",
    MilestoneKind.LYMPHODEPLETION_END: "Lymphodepletion ends",
    MilestoneKind.INFUSION: "Infusion",
    MilestoneKind.DAILY_MONITORING_END: "Daily monitoring ends",
    MilestoneKind.MONITORING_END: "Monitoring ends",
    MilestoneKind.STAY_NEAR_CENTER_END: "Stay near the center ends",
    MilestoneKind.NO_DRIVING_END: "Driving restriction ends",
    MilestoneKind.HAND_BACK: "Hand-back to the community",
    MilestoneKind.VISIT_DAY_30: "Follow-up visit, day 30",
    MilestoneKind.VISIT_DAY_60: "Follow-up visit, day 60",
    MilestoneKind.VISIT_DAY_90: "Follow-up visit, day 90",
    MilestoneKind.VISIT_DAY_100: "Follow-up visit, day 100",
    MilestoneKind.VISIT_MONTH_6: "Follow-up visit, 6 months",
    MilestoneKind.CIBMTR_DAY_100: "CIBMTR form due, day 100",
    MilestoneKind.CIBMTR_MONTH_6: "CIBMTR form due, 6 months",
}

# The milestones whose day does not depend on the product or the center, in days from day 0.
_FIXED_DAYS: dict[MilestoneKind, int] = {
    MilestoneKind.LYMPHODEPLETION_START: LYMPHODEPLETION_START_DAY,
    MilestoneKind.LYMPHODEPLETION_END: LYMPHODEPLETION_END_DAY,
    MilestoneKind.INFUSION: 0,
    MilestoneKind.VISIT_DAY_30: 30,
    MilestoneKind.VISIT_DAY_60: 60,
    MilestoneKind.VISIT_DAY_90: 90,
    MilestoneKind.VISIT_DAY_100: 100,
    MilestoneKind.CIBMTR_DAY_100: 100,
}
# ... and those counted in calendar months from day 0.
_MONTHS: dict[MilestoneKind, int] = {
    MilestoneKind.VISIT_MONTH_6: SIX_MONTHS,
    MilestoneKind.CIBMTR_MONTH_6: SIX_MONTHS,
}

_YEARS = range(1, LONG_TERM_FOLLOW_UP_YEARS + 1)
for _prefix, _label in (("visit", "Follow-up visit"), ("cibmtr", "CIBMTR form due")):
    _MONTHS |= {MilestoneKind(f"{_prefix}_year_{year}"): MONTHS_PER_YEAR * year for year in _YEARS}
    _LABELS |= {MilestoneKind(f"{_prefix}_year_{year}"): f"{_label}, year {year}" for year in _YEARS}

# Where a kind stands in the enum breaks ties between milestones on the same date.
_RANK: dict[MilestoneKind, int] = {kind: rank for rank, kind in enumerate(MilestoneKind)}


class HasMonitoringRules(Protocol):
    """Anything carrying the four rules, such as `carecoord.models.Product`."""

    @property
    def monitoring_days(self) -> int: ...
    @property
    def daily_monitoring_days(self) -> int: ...
    @property
    def stay_near_center_days(self) -> int: ...
    @property
    def no_driving_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class MonitoringRules:
    """How long each restriction lasts after infusion, in days; defaults are the label since June 2025."""

    monitoring_days: int = 14
    daily_monitoring_days: int = 7
    stay_near_center_days: int = 14
    no_driving_days: int = 14

    def __post_init__(self) -> None:
        for name in ("monitoring_days", "daily_monitoring_days", "stay_near_center_days", "no_driving_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day, not {getattr(self, name)}")
        if self.daily_monitoring_days > self.monitoring_days:
            raise ValueError("daily_monitoring_days cannot exceed monitoring_days")

    @classmethod
    def from_product(cls, product: HasMonitoringRules) -> MonitoringRules:
        return cls(
            monitoring_days=product.monitoring_days,
            daily_monitoring_days=product.daily_monitoring_days,
            stay_near_center_days=product.stay_near_center_days,
            no_driving_days=product.no_driving_days,
        )


@dataclass(frozen=True, slots=True)
class PlannedMilestone:
    """One milestone on the timeline; `manual` when its date was entered by hand."""

    kind: MilestoneKind
    planned_on: dt.date
    day_offset: int
    manual: bool = False

    @property
    def day_label(self) -> str:
        return _format_day(self.day_offset)


def add_months(start: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, or the month's last day when it has no such day
    (31 August + 6 months is 28 or 29 February; 29 February + 12 months is 28 February)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def day_label(infusion_date: dt.date, on_date: dt.date) -> str:
    """Where `on_date` falls relative to the infusion: "day -5", "day 0", "day +14"."""
    return _format_day((on_date - infusion_date).days)


def _format_day(offset: int) -> str:
    return f"day {offset:+d}" if offset else "day 0"


def plan_milestones(
    infusion_date: dt.date,
    *,
    rules: MonitoringRules | None = None,
    hand_back_day: int = DEFAULT_HAND_BACK_DAY,
    manual_dates: Mapping[MilestoneKind, dt.date] | None = None,
) -> tuple[PlannedMilestone, ...]:
    """Every milestone of the course, in date order, keeping the dates entered by hand.

    The hand-back day is not checked against the rules: a center may plan it before the stay
    near the center ends, and the timeline is where such a plan should be questioned.
    """
    rules = rules or MonitoringRules()
    manual_dates = manual_dates or {}
    if hand_back_day < 1:
        raise ValueError(f"hand_back_day must be after the infusion, not {hand_back_day}")
    if manual_dates.get(MilestoneKind.INFUSION, infusion_date) != infusion_date:
        raise ValueError("the infusion date is the anchor of the plan: pass it as infusion_date")

    days = {
        **_FIXED_DAYS,
        MilestoneKind.DAILY_MONITORING_END: rules.daily_monitoring_days,
        MilestoneKind.MONITORING_END: rules.monitoring_days,
        MilestoneKind.STAY_NEAR_CENTER_END: rules.stay_near_center_days,
        MilestoneKind.NO_DRIVING_END: rules.no_driving_days,
        MilestoneKind.HAND_BACK: hand_back_day,
    }
    dates = {kind: infusion_date + dt.timedelta(days=day) for kind, day in days.items()}
    dates |= {kind: add_months(infusion_date, months) for kind, months in _MONTHS.items()}
    milestones: list[PlannedMilestone] = []
    for kind in MilestoneKind:
        on, manual = (manual_dates[kind], True) if kind in manual_dates else (dates[kind], False)
        milestones.append(PlannedMilestone(kind, on, (on - infusion_date).days, manual=manual))
    milestones.sort(key=lambda milestone: (milestone.planned_on, _RANK[milestone.kind]))
    return tuple(milestones)
