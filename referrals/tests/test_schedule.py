"""The planned timeline is a pure function of the infusion date, the rules and the dates entered by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from referrals.schedule import (
    DEFAULT_HAND_BACK_DAY,
    MilestoneKind,
    MonitoringRules,
    PlannedMilestone,
    day_label,
    plan_milestones,
)

INFUSION = dt.date(2025, 9, 1)


def by_kind(milestones: tuple[PlannedMilestone, ...]) -> dict[MilestoneKind, PlannedMilestone]:
    return {milestone.kind: milestone for milestone in milestones}


def offsets(milestones: tuple[PlannedMilestone, ...]) -> dict[MilestoneKind, int]:
    return {milestone.kind: milestone.day_offset for milestone in milestones}


def test_every_kind_is_planned_once_in_date_order() -> None:
    plan = plan_milestones(INFUSION)

    assert sorted(m.kind for m in plan) == sorted(MilestoneKind)
    assert [m.planned_on for m in plan] == sorted(m.planned_on for m in plan)
    assert all((m.planned_on - INFUSION).days == m.day_offset for m in plan)
    assert not any(m.manual for m in plan)


def test_default_rules_follow_the_label_since_june_2025() -> None:
    plan = by_kind(plan_milestones(INFUSION))

    assert plan[MilestoneKind.LYMPHODEPLETION_START].planned_on == dt.date(2025, 8, 27)
    assert plan[MilestoneKind.LYMPHODEPLETION_END].planned_on == dt.date(2025, 8, 29)
    assert plan[MilestoneKind.INFUSION].planned_on == INFUSION
    assert plan[MilestoneKind.DAILY_MONITORING_END].planned_on == dt.date(2025, 9, 8)
    assert plan[MilestoneKind.MONITORING_END].planned_on == dt.date(2025, 9, 15)
    assert plan[MilestoneKind.STAY_NEAR_CENTER_END].planned_on == dt.date(2025, 9, 15)
    assert plan[MilestoneKind.NO_DRIVING_END].planned_on == dt.date(2025, 9, 15)
    assert plan[MilestoneKind.HAND_BACK].day_offset == DEFAULT_HAND_BACK_DAY == 21
    assert plan[MilestoneKind.HAND_BACK].planned_on == dt.date(2025, 9, 22)


def test_follow_up_visits_and_cibmtr_forms_fall_on_their_days() -> None:
    days = offsets(plan_milestones(INFUSION))

    assert days[MilestoneKind.VISIT_DAY_30] == 30
    assert days[MilestoneKind.VISIT_DAY_60] == 60
    assert days[MilestoneKind.VISIT_DAY_90] == 90
    assert days[MilestoneKind.VISIT_DAY_100] == days[MilestoneKind.CIBMTR_DAY_100] == 100
    # Six months and years are calendar months: 1 Sep 2025 gives 1 Mar 2026 (day +181) and 1 Sep 2026.
    assert days[MilestoneKind.VISIT_MONTH_6] == days[MilestoneKind.CIBMTR_MONTH_6] == 181
    assert days[MilestoneKind.VISIT_YEAR_1] == days[MilestoneKind.CIBMTR_YEAR_1] == 365


def test_yearly_follow_up_and_forms_run_through_year_15() -> None:
    plan = plan_milestones(INFUSION)

    visit_dates = [m.planned_on for m in plan if m.kind.startswith("visit_year_")]
    form_dates = [m.planned_on for m in plan if m.kind.startswith("cibmtr_year_")]
    # Each anniversary of day 0, whatever leap days fall in between.
    assert visit_dates == form_dates == [dt.date(2025 + year, 9, 1) for year in range(1, 16)]
    assert plan[-2:] == (
        PlannedMilestone(MilestoneKind.VISIT_YEAR_15, dt.date(2040, 9, 1), 5479),
        PlannedMilestone(MilestoneKind.CIBMTR_YEAR_15, dt.date(2040, 9, 1), 5479),
    )


def test_same_day_milestones_keep_the_path_order() -> None:
    plan = plan_milestones(INFUSION)
    day_14 = [m.kind for m in plan if m.day_offset == 14]
    day_100 = [m.kind for m in plan if m.day_offset == 100]

    assert day_14 == [MilestoneKind.MONITORING_END, MilestoneKind.STAY_NEAR_CENTER_END, MilestoneKind.NO_DRIVING_END]
    assert day_100 == [MilestoneKind.VISIT_DAY_100, MilestoneKind.CIBMTR_DAY_100]


def test_stricter_local_rules_lengthen_the_restrictions() -> None:
    rules = MonitoringRules(monitoring_days=28, daily_monitoring_days=10, stay_near_center_days=28, no_driving_days=56)

    days = offsets(plan_milestones(INFUSION, rules=rules, hand_back_day=30))

    assert days[MilestoneKind.DAILY_MONITORING_END] == 10
    assert days[MilestoneKind.MONITORING_END] == 28
    assert days[MilestoneKind.STAY_NEAR_CENTER_END] == 28
    assert days[MilestoneKind.NO_DRIVING_END] == 56
    assert days[MilestoneKind.HAND_BACK] == 30
    # Rules move only their own milestones.
    assert days[MilestoneKind.VISIT_DAY_30] == 30
    assert days[MilestoneKind.LYMPHODEPLETION_START] == -5


def test_milestones_are_sorted_by_date_when_rules_outlast_later_milestones() -> None:
    rules = MonitoringRules(no_driving_days=56)

    kinds = [m.kind for m in plan_milestones(INFUSION, rules=rules)]

    assert kinds.index(MilestoneKind.VISIT_DAY_30) < kinds.index(MilestoneKind.NO_DRIVING_END)
    assert kinds.index(MilestoneKind.NO_DRIVING_END) < kinds.index(MilestoneKind.VISIT_DAY_60)


def test_moving_the_infusion_recomputes_everything_but_the_dates_entered_by_hand() -> None:
    hand_back_agreed = dt.date(2025, 9, 25)
    first_visit_booked = dt.date(2025, 10, 2)
    manual = {MilestoneKind.HAND_BACK: hand_back_agreed, MilestoneKind.VISIT_DAY_30: first_visit_booked}
    before = by_kind(plan_milestones(INFUSION, manual_dates=manual))
    delayed = INFUSION + dt.timedelta(days=7)

    after = by_kind(plan_milestones(delayed, manual_dates=manual))

    for kind in MilestoneKind:
        if kind in manual:
            assert after[kind].planned_on == before[kind].planned_on == manual[kind]
            assert after[kind].manual
        else:
            assert after[kind].planned_on == before[kind].planned_on + dt.timedelta(days=7)
            assert after[kind].day_offset == before[kind].day_offset
            assert not after[kind].manual
    # A date entered by hand reports where it now falls relative to the new infusion.
    assert before[MilestoneKind.HAND_BACK].day_offset == 24
    assert after[MilestoneKind.HAND_BACK].day_offset == 17
    assert after[MilestoneKind.VISIT_DAY_30].day_offset == 24


def test_a_date_entered_by_hand_is_kept_even_when_rules_change() -> None:
    entered = dt.date(2025, 9, 20)

    plan = by_kind(
        plan_milestones(
            INFUSION,
            rules=MonitoringRules(stay_near_center_days=28, monitoring_days=28),
            manual_dates={MilestoneKind.STAY_NEAR_CENTER_END: entered},
        )
    )

    assert plan[MilestoneKind.STAY_NEAR_CENTER_END] == PlannedMilestone(
        MilestoneKind.STAY_NEAR_CENTER_END, entered, 19, manual=True
    )
    assert plan[MilestoneKind.MONITORING_END].day_offset == 28


def test_a_date_entered_by_hand_is_placed_in_date_order() -> None:
    early_visit = dt.date(2025, 9, 12)

    kinds = [m.kind for m in plan_milestones(INFUSION, manual_dates={MilestoneKind.VISIT_DAY_30: early_visit})]

    assert kinds.index(MilestoneKind.VISIT_DAY_30) < kinds.index(MilestoneKind.MONITORING_END)


def test_the_manual_mapping_passed_in_is_left_untouched() -> None:
    manual = {MilestoneKind.HAND_BACK: dt.date(2025, 9, 25)}

    plan_milestones(INFUSION, manual_dates=manual)

    assert manual == {MilestoneKind.HAND_BACK: dt.date(2025, 9, 25)}


def test_infusion_entered_by_hand_must_match_the_infusion_date() -> None:
    plan = by_kind(plan_milestones(INFUSION, manual_dates={MilestoneKind.INFUSION: INFUSION}))
    assert plan[MilestoneKind.INFUSION] == PlannedMilestone(MilestoneKind.INFUSION, INFUSION, 0, manual=True)

    with pytest.raises(ValueError, match="infusion_date"):
        plan_milestones(INFUSION, manual_dates={MilestoneKind.INFUSION: dt.date(2025, 9, 2)})


@pytest.mark.parametrize("hand_back_day", [0, -1])
def test_hand_back_must_come_after_the_infusion(hand_back_day: int) -> None:
    with pytest.raises(ValueError, match="hand_back_day"):
        plan_milestones(INFUSION, hand_back_day=hand_back_day)


@pytest.mark.parametrize(
    ("on_date", "label"),
    [
        (dt.date(2025, 8, 27), "day -5"),
        (dt.date(2025, 8, 31), "day -1"),
        (INFUSION, "day 0"),
        (dt.date(2025, 9, 2), "day +1"),
        (dt.date(2025, 9, 15), "day +14"),
        (dt.date(2026, 9, 1), "day +365"),
    ],
)
def test_day_label(on_date: dt.date, label: str) -> None:
    assert day_label(INFUSION, on_date) == label


def test_planned_milestones_carry_their_day_label() -> None:
    plan = by_kind(plan_milestones(INFUSION))

    assert plan[MilestoneKind.LYMPHODEPLETION_START].day_label == "day -5"
    assert plan[MilestoneKind.INFUSION].day_label == "day 0"
    assert plan[MilestoneKind.MONITORING_END].day_label == "day +14"


def test_days_are_counted_across_a_leap_day() -> None:
    infusion = dt.date(2024, 2, 25)

    plan = by_kind(plan_milestones(infusion))

    assert plan[MilestoneKind.DAILY_MONITORING_END].planned_on == dt.date(2024, 3, 3)
    assert plan[MilestoneKind.MONITORING_END].planned_on == dt.date(2024, 3, 10)
    assert day_label(infusion, dt.date(2024, 3, 1)) == "day +5"
    # Years are anniversaries: day +366 when the leap day falls in the first year.
    assert plan[MilestoneKind.VISIT_YEAR_1].planned_on == dt.date(2025, 2, 25)
    assert plan[MilestoneKind.VISIT_YEAR_1].day_offset == 366
    assert plan[MilestoneKind.VISIT_YEAR_2].planned_on == dt.date(2026, 2, 25)


def test_an_infusion_on_a_leap_day() -> None:
    infusion = dt.date(2024, 2, 29)

    plan = by_kind(plan_milestones(infusion))

    assert plan[MilestoneKind.LYMPHODEPLETION_START].planned_on == dt.date(2024, 2, 24)
    assert plan[MilestoneKind.MONITORING_END].planned_on == dt.date(2024, 3, 14)
    # 29 February falls on 28 February in the years without one, and on 29 February in leap years.
    assert plan[MilestoneKind.VISIT_YEAR_1].planned_on == dt.date(2025, 2, 28)
    assert plan[MilestoneKind.VISIT_YEAR_4].planned_on == dt.date(2028, 2, 29)
    assert plan[MilestoneKind.VISIT_MONTH_6].planned_on == dt.date(2024, 8, 29)
    assert day_label(infusion, dt.date(2025, 3, 1)) == "day +366"


@pytest.mark.parametrize(
    ("infusion", "six_months"),
    [
        (dt.date(2025, 8, 31), dt.date(2026, 2, 28)),
        (dt.date(2027, 8, 31), dt.date(2028, 2, 29)),
        (dt.date(2025, 3, 31), dt.date(2025, 9, 30)),
        (dt.date(2025, 7, 15), dt.date(2026, 1, 15)),
        (dt.date(2025, 12, 31), dt.date(2026, 6, 30)),
    ],
)
def test_six_months_is_calendar_months_ending_on_the_last_day_of_a_short_month(
    infusion: dt.date, six_months: dt.date
) -> None:
    plan = by_kind(plan_milestones(infusion))

    assert plan[MilestoneKind.VISIT_MONTH_6].planned_on == six_months
    assert plan[MilestoneKind.CIBMTR_MONTH_6].planned_on == six_months


def test_rules_default_to_the_label_since_june_2025() -> None:
    assert MonitoringRules() == MonitoringRules(
        monitoring_days=14, daily_monitoring_days=7, stay_near_center_days=14, no_driving_days=14
    )


@pytest.mark.parametrize(
    "field", ["monitoring_days", "daily_monitoring_days", "stay_near_center_days", "no_driving_days"]
)
@pytest.mark.parametrize("value", [0, -1])
def test_rules_must_be_at_least_one_day(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        MonitoringRules(**{field: value})


def test_daily_monitoring_cannot_outlast_monitoring() -> None:
    with pytest.raises(ValueError, match="daily_monitoring_days"):
        MonitoringRules(monitoring_days=7, daily_monitoring_days=8)


def test_rules_are_read_from_any_object_with_the_four_numbers() -> None:
    @dataclass
    class LocalProduct:
        monitoring_days: int = 21
        daily_monitoring_days: int = 10
        stay_near_center_days: int = 28
        no_driving_days: int = 56

    assert MonitoringRules.from_product(LocalProduct()) == MonitoringRules(21, 10, 28, 56)


def test_every_kind_has_a_label() -> None:
    assert MilestoneKind.HAND_BACK.label == "Hand-back to the community"
    assert MilestoneKind.CIBMTR_YEAR_15.label == "CIBMTR form due, year 15"
    assert all(kind.label for kind in MilestoneKind)
