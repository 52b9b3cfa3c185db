"""The rules of infections, prophylaxis and revaccination, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from infections.rules import (
    DUE_DAYS,
    Due,
    PlanDefaults,
    alert_reason,
    due_state,
    live_vaccine_too_early,
    standard_prophylaxis,
    standard_vaccinations,
)

TODAY = dt.date(2026, 12, 4)
DAY_ZERO = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("on", "done", "expected"),
    [
        (TODAY - dt.timedelta(days=1), False, Due.OVERDUE),
        (TODAY, False, Due.DUE),
        (TODAY + dt.timedelta(days=DUE_DAYS), False, Due.DUE),
        (TODAY + dt.timedelta(days=DUE_DAYS + 1), False, None),
        (TODAY - dt.timedelta(days=30), True, None),
        (None, False, None),
    ],
)
def test_an_item_is_due_two_weeks_ahead_and_overdue_once_its_date_passed(
    on: dt.date | None, done: bool, expected: Due | None
) -> None:
    assert due_state(on, TODAY, done=done) == expected


def test_a_severe_icu_or_neutropenic_infection_alerts_and_a_mild_one_does_not() -> None:
    assert alert_reason(grade=2, setting="outpatient", neutropenic_fever=False) == ""
    assert alert_reason(grade=3, setting="ward", neutropenic_fever=False) == "grade 3"
    assert alert_reason(grade=2, setting="icu", neutropenic_fever=False) == "treated in the ICU"
    assert alert_reason(grade=1, setting="ed", neutropenic_fever=True) == "fever while neutropenic"


def test_the_standard_plan_runs_antiviral_from_lymphodepletion_for_a_year_and_pjp_from_day_30_for_6_months() -> None:
    plan = {item.kind: item for item in standard_prophylaxis(DAY_ZERO, dt.date(2026, 5, 27))}
    assert plan["antiviral"].start_on == dt.date(2026, 5, 27)
    assert plan["antiviral"].planned_stop_on == dt.date(2027, 6, 1)
    assert plan["pjp"].start_on == dt.date(2026, 7, 1)
    assert plan["pjp"].planned_stop_on == dt.date(2027, 1, 1)
    assert "CD4 > 200" in plan["pjp"].stop_condition
    # Proposed ticked: the two every patient gets; the conditional ones are offered unticked.
    assert {kind for kind, item in plan.items() if item.include} == {"antiviral", "pjp"}
    assert {"antifungal", "hepatitis_b", "ivig"} <= set(plan)


def test_without_a_lymphodepletion_date_the_antiviral_starts_five_days_before_day_0() -> None:
    plan = {item.kind: item for item in standard_prophylaxis(DAY_ZERO, None)}
    assert plan["antiviral"].start_on == dt.date(2026, 5, 27)


def test_inactivated_vaccines_come_from_day_180_and_live_ones_not_before_a_year() -> None:
    vaccines = standard_vaccinations(DAY_ZERO)
    assert {v.due_on for v in vaccines if not v.live} == {DAY_ZERO + dt.timedelta(days=180)}
    assert all(v.due_on == DAY_ZERO + dt.timedelta(days=365) and not v.include for v in vaccines if v.live)
    assert live_vaccine_too_early(DAY_ZERO, DAY_ZERO + dt.timedelta(days=364))
    assert not live_vaccine_too_early(DAY_ZERO, DAY_ZERO + dt.timedelta(days=365))
    assert not live_vaccine_too_early(None, DAY_ZERO)


def test_a_centers_own_defaults_shape_the_proposed_plan_but_never_a_live_vaccine_before_a_year() -> None:
    own = PlanDefaults(
        antiviral_agent="Valacyclovir 500 mg twice daily",
        antiviral_months=18,
        pjp_from_day=21,
        pjp_months=9,
        inactivated_vaccines_from_day=270,
        live_vaccines_from_day=200,  # refused by the setting's validation; here, ignored
    )
    plan = {item.kind: item for item in standard_prophylaxis(DAY_ZERO, None, own)}
    assert plan["antiviral"].agent == "Valacyclovir 500 mg twice daily"
    assert plan["antiviral"].planned_stop_on == dt.date(2027, 12, 1)
    assert plan["antiviral"].stop_condition.startswith("At least 18 months")
    assert plan["hepatitis_b"].planned_stop_on == dt.date(2027, 12, 1)
    assert plan["pjp"].start_on == dt.date(2026, 6, 22)
    assert plan["pjp"].planned_stop_on == dt.date(2027, 3, 22)
    vaccines = standard_vaccinations(DAY_ZERO, own)
    assert {v.due_on for v in vaccines if not v.live} == {DAY_ZERO + dt.timedelta(days=270)}
    assert {v.due_on for v in vaccines if v.live} == {DAY_ZERO + dt.timedelta(days=365)}
