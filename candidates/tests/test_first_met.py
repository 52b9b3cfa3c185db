"""The day a history first met a labelled use, from the history as it stood on each dated
event: plain values, the seeded rules' shapes written out."""

from __future__ import annotations

import datetime as dt

from candidates.first_met import DatedHistory, first_met, history_on
from candidates.matching import History, Line, RefractoryTo, Rule, Transplant

D = dt.date
CHEMO = frozenset({"chemoimmunotherapy"})
LBCL_EARLY = Rule(
    1,
    "Yescarta",
    "lbcl",
    "refractory to first-line chemoimmunotherapy, or relapse within 12 months of it",
    required_classes=CHEMO,
    refractory_to=RefractoryTo.FIRST_LINE,
    relapse_within_months=12,
)
LBCL_NOT_TRANSPLANT = Rule(
    2,
    "Breyanzi",
    "lbcl",
    "relapse after first line and not a transplant candidate",
    required_classes=CHEMO,
    relapsed_or_refractory=True,
    requires_transplant_ineligible=True,
)
TWO_LINES = Rule(3, "Kymriah", "lbcl", "after two or more lines", min_prior_lines=2)
ADULT_ALL = Rule(4, "Tecartus", "b_all", "adults: relapsed or refractory", min_age=18, relapsed_or_refractory=True)
YOUNG_ALL = Rule(5, "Kymriah", "b_all", "up to 25 years", max_age=25, min_relapses=2)
CARVYKTI = Rule(
    6,
    "Carvykti",
    "multiple_myeloma",
    "lenalidomide-refractory",
    required_classes=frozenset({"pi", "imid"}),
    refractory_to=RefractoryTo.LENALIDOMIDE,
)
LBCL_RULES = [LBCL_EARLY, LBCL_NOT_TRANSPLANT, TWO_LINES]
BORN = D(1960, 5, 17)


def _lbcl(*lines: Line, transplant: Transplant = Transplant.UNKNOWN) -> History:
    return History("lbcl", BORN, lines, transplant)


def _dated(history: History, refractory_on: dict[int, dt.date] | None = None, **fields: dt.date) -> DatedHistory:
    return DatedHistory(history, refractory_on or {}, fields.get("transplant_on"))


FIRST = Line(1, CHEMO, D(2025, 6, 1), ended_on=D(2025, 10, 1))


def test_a_relapse_within_12_months_meets_on_the_day_of_the_relapse() -> None:
    relapsed = _lbcl(Line(1, CHEMO, D(2025, 6, 1), ended_on=D(2025, 10, 1), progressed_on=D(2025, 12, 15)))
    assert first_met(_dated(relapsed), LBCL_RULES, until=D(2026, 2, 2)) == D(2025, 12, 15)
    # Referred the day before the relapse: referred early.
    assert first_met(_dated(relapsed), LBCL_RULES, until=D(2025, 12, 14)) is None
    # Referred on the day itself: met that day, 0 days before the referral.
    assert first_met(_dated(relapsed), LBCL_RULES, until=D(2025, 12, 15)) == D(2025, 12, 15)


def test_refractoriness_counts_from_its_progression_else_the_lines_end_else_its_recording() -> None:
    progressed = Line(1, CHEMO, D(2025, 3, 1), ended_on=D(2025, 7, 1), refractory=True, progressed_on=D(2025, 7, 20))
    assert first_met(_dated(_lbcl(progressed), {1: D(2025, 7, 20)}), [LBCL_EARLY], D(2026, 1, 1)) == D(2025, 7, 20)
    ended = Line(1, CHEMO, D(2025, 3, 1), ended_on=D(2025, 7, 1), refractory=True)
    assert first_met(_dated(_lbcl(ended), {1: D(2025, 7, 1)}), [LBCL_EARLY], D(2026, 1, 1)) == D(2025, 7, 1)
    ongoing = Line(1, CHEMO, D(2025, 3, 1), refractory=True)
    assert first_met(_dated(_lbcl(ongoing), {1: D(2025, 9, 9)}), [LBCL_EARLY], D(2026, 1, 1)) == D(2025, 9, 9)


def test_a_second_line_meets_the_two_lines_use_the_day_it_starts() -> None:
    history = _lbcl(Line(1, CHEMO, D(2025, 1, 10), ended_on=D(2025, 5, 1)), Line(2, frozenset(), D(2026, 1, 15)))
    assert first_met(_dated(history), LBCL_RULES, D(2026, 3, 2)) == D(2026, 1, 15)
    assert [line.number for line in history_on(_dated(history), D(2026, 1, 14)).lines] == [1]


def test_the_transplant_candidacy_counts_from_the_day_it_was_recorded() -> None:
    late = Line(1, CHEMO, D(2024, 1, 1), ended_on=D(2024, 5, 1), progressed_on=D(2026, 3, 20))
    history = _lbcl(late, transplant=Transplant.NO)
    assert first_met(_dated(history, transplant_on=D(2026, 3, 25)), LBCL_RULES, D(2026, 4, 1)) == D(2026, 3, 25)
    assert first_met(_dated(history, transplant_on=D(2026, 4, 2)), LBCL_RULES, D(2026, 4, 1)) is None
    assert history_on(_dated(history, transplant_on=D(2026, 3, 25)), D(2026, 3, 24)).transplant is Transplant.UNKNOWN


def test_an_end_or_a_relapse_dated_later_is_not_yet_there() -> None:
    line = Line(1, CHEMO, D(2025, 1, 1), ended_on=D(2025, 6, 1), refractory=True, progressed_on=D(2025, 7, 1))
    before = history_on(_dated(_lbcl(line), {1: D(2025, 7, 1)}), D(2025, 5, 31)).lines[0]
    assert (before.ended_on, before.progressed_on, before.refractory) == (None, None, False)


def test_a_birthday_at_an_age_a_rule_names_is_an_event() -> None:
    born = D(2008, 2, 29)  # 18 on 1 March 2026, as the matching counts a 29 February birthday
    relapsed = History("b_all", born, (Line(1, frozenset(), D(2025, 1, 1), progressed_on=D(2025, 9, 1)),))
    assert first_met(_dated(relapsed), [ADULT_ALL], D(2026, 6, 1)) == D(2026, 3, 1)
    assert first_met(_dated(relapsed), [ADULT_ALL], D(2026, 2, 28)) is None


def test_met_while_young_enough_stays_the_first_day_met() -> None:
    born = D(2000, 6, 1)  # 26 on 1 June 2026
    two_relapses = History(
        "b_all",
        born,
        (
            Line(1, frozenset(), D(2024, 1, 1), progressed_on=D(2024, 9, 1)),
            Line(2, frozenset(), D(2024, 10, 1), progressed_on=D(2025, 5, 1)),
        ),
    )
    assert first_met(_dated(two_relapses), [YOUNG_ALL], D(2026, 7, 1)) == D(2025, 5, 1)


def test_no_line_and_another_disease_meet_nothing() -> None:
    assert first_met(_dated(_lbcl()), LBCL_RULES, D(2026, 1, 1)) is None
    myeloma = History("multiple_myeloma", BORN, (FIRST,))
    assert first_met(_dated(myeloma), LBCL_RULES, D(2026, 1, 1)) is None
    assert first_met(_dated(myeloma), [CARVYKTI], D(2026, 1, 1)) is None
