"""The clinical rules of infections, prophylaxis and revaccination after CAR-T, as plain functions.

Sources (docs/clinical-rules.md, "Infections, prophylaxis and revaccination"): Hayden et al.,
"Management of adults and children receiving CAR T-cell therapy: 2021 best practice
recommendations of EBMT/JACIE and EHA", Ann Oncol 2022;33:259-275; Rejeski et al., "Immune
effector cell-associated hematotoxicity: EHA/EBMT consensus grading and best practice
recommendations", Blood 2023;142(10):865-877.

Nothing here is applied by itself: `standard_prophylaxis` and `standard_vaccinations` propose
a plan that a clinician confirms or edits (`infections.services.plan_confirm`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

# An item is "due" from this many days before its date: a stop or a vaccine two weeks ahead is
# on the work queue, so the visit that decides it can be planned.
DUE_DAYS = 14

# The severity of an infection is its CTCAE v5 grade ("Infections and infestations"): 3 is
# severe (IV antibiotics, antifungals or antivirals, or an intervention), 4 life-threatening,
# 5 death. From grade 3, in the ICU, or with fever while neutropenic, the point persons are
# alerted the same day.
SEVERE_GRADE = 3

# Inactivated vaccines from about 6 months after the infusion; live vaccines not before 1 year,
# and then only with immune recovery (Hayden et al. 2022).
INACTIVATED_FROM_DAY = 180
LIVE_FROM_DAY = 365


class Due(StrEnum):
    DUE = "due"  # within DUE_DAYS from today
    OVERDUE = "overdue"  # its date has passed and nothing was recorded


def due_state(on: dt.date | None, today: dt.date, *, done: bool) -> Due | None:
    """Whether an item dated `on` (a planned stop, a vaccine's due date) is due or overdue on
    `today`; None when it is done, has no date, or is further off than `DUE_DAYS`."""
    if done or on is None:
        return None
    if on < today:
        return Due.OVERDUE
    if on <= today + dt.timedelta(days=DUE_DAYS):
        return Due.DUE
    return None


def alert_reason(*, grade: int, setting: str, neutropenic_fever: bool) -> str:
    """Why an infection is told to every point person the same day, or "" when it is not."""
    if neutropenic_fever:
        return "fever while neutropenic"
    if setting == "icu":
        return "treated in the ICU"
    if grade >= SEVERE_GRADE:
        return f"grade {grade}"
    return ""


def _months_later(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 exists in every month


@dataclass(frozen=True)
class ProposedItem:
    """One line of a proposed prophylaxis plan; `include` is whether it is ticked at first."""

    kind: str
    agent: str
    start_on: dt.date
    planned_stop_on: dt.date | None
    stop_condition: str
    include: bool


@dataclass(frozen=True)
class ProposedVaccination:
    vaccine: str
    due_on: dt.date
    live: bool
    include: bool


@dataclass(frozen=True)
class PlanDefaults:
    """What the proposed plan holds: the consensus defaults (Hayden et al. 2022), or a treating
    center's own policy (`infections.models.ProphylaxisDefaults`) where it differs."""

    antiviral_agent: str = "Acyclovir 800 mg twice daily (or valacyclovir 500 mg twice daily)"
    antiviral_months: int = 12  # after the infusion, from lymphodepletion
    pjp_agent: str = "Trimethoprim-sulfamethoxazole 480 mg daily (or 960 mg three times a week)"
    pjp_from_day: int = 30
    pjp_months: int = 6
    antifungal_agent: str = "Posaconazole or fluconazole (by risk)"
    hepatitis_b_agent: str = "Entecavir 0.5 mg daily"
    ivig_agent: str = "IVIG 0.4 g/kg every 4 weeks"
    inactivated_vaccines_from_day: int = INACTIVATED_FROM_DAY
    live_vaccines_from_day: int = LIVE_FROM_DAY
    set_by: str = ""  # the treating center whose policy this is; "" for the consensus defaults


DEFAULT_PLAN = PlanDefaults()


def standard_prophylaxis(
    day_zero: dt.date, lymphodepletion_on: dt.date | None, defaults: PlanDefaults = DEFAULT_PLAN
) -> list[ProposedItem]:
    """The standard plan from day 0 (and the start of lymphodepletion, when it is known), by
    `defaults` (the consensus figures below unless the treating center set its own):

    - antiviral (HSV/VZV) from lymphodepletion for at least 12 months after the infusion;
    - PJP from about day +30 for at least 6 months, and until CD4 > 200/µL;
    - antifungal, hepatitis B and IVIG as conditional lines, not ticked: they depend on
      prolonged neutropenia or steroids, serology, and IgG with infections.
    """
    antiviral_from = lymphodepletion_on or day_zero - dt.timedelta(days=5)
    antiviral_until = _months_later(day_zero, defaults.antiviral_months)
    pjp_from = day_zero + dt.timedelta(days=defaults.pjp_from_day)
    return [
        ProposedItem(
            kind="antiviral",
            agent=defaults.antiviral_agent,
            start_on=antiviral_from,
            planned_stop_on=antiviral_until,
            stop_condition=f"At least {defaults.antiviral_months} months after the infusion, and longer while "
            "CD4 < 200/µL or on immunosuppression.",
            include=True,
        ),
        ProposedItem(
            kind="pjp",
            agent=defaults.pjp_agent,
            start_on=pjp_from,
            planned_stop_on=_months_later(pjp_from, defaults.pjp_months),
            stop_condition=f"At least {defaults.pjp_months} months, and until CD4 > 200/µL.",
            include=True,
        ),
        ProposedItem(
            kind="antifungal",
            agent=defaults.antifungal_agent,
            start_on=day_zero,
            planned_stop_on=None,
            stop_condition="Only with prolonged neutropenia (ANC < 500/µL) or high-dose steroids; until they end.",
            include=False,
        ),
        ProposedItem(
            kind="hepatitis_b",
            agent=defaults.hepatitis_b_agent,
            start_on=antiviral_from,
            planned_stop_on=antiviral_until,
            stop_condition=f"Only for HBsAg or anti-HBc positive patients; at least {defaults.antiviral_months} "
            "months.",
            include=False,
        ),
        ProposedItem(
            kind="ivig",
            agent=defaults.ivig_agent,
            start_on=day_zero + dt.timedelta(days=30),
            planned_stop_on=day_zero + dt.timedelta(days=120),
            stop_condition="Only with IgG < 400 mg/dL and serious or recurrent infections; review with the IgG trough.",
            include=False,
        ),
    ]


def standard_vaccinations(day_zero: dt.date, defaults: PlanDefaults = DEFAULT_PLAN) -> list[ProposedVaccination]:
    """The revaccination plan from day 0: inactivated vaccines from about day +180, live ones
    not before 1 year (and then only with immune recovery, which the clinician confirms); a
    center may start them later, never a live vaccine earlier."""
    inactivated = day_zero + dt.timedelta(days=defaults.inactivated_vaccines_from_day)
    live = day_zero + dt.timedelta(days=max(defaults.live_vaccines_from_day, LIVE_FROM_DAY))
    return [
        ProposedVaccination("Influenza (inactivated)", inactivated, live=False, include=True),
        ProposedVaccination("Pneumococcal conjugate, dose 1", inactivated, live=False, include=True),
        ProposedVaccination("Tetanus, diphtheria, pertussis, dose 1", inactivated, live=False, include=True),
        ProposedVaccination("Hepatitis B, dose 1", inactivated, live=False, include=True),
        ProposedVaccination("COVID-19 (mRNA)", inactivated, live=False, include=True),
        ProposedVaccination("Measles, mumps, rubella (live)", live, live=True, include=False),
    ]


def live_vaccine_too_early(day_zero: dt.date | None, due_on: dt.date) -> bool:
    """A live vaccine planned before 1 year after the infusion."""
    return day_zero is not None and (due_on - day_zero).days < LIVE_FROM_DAY
