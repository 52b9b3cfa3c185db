"""The candidate prompts as a pure function, on every row of the table of earliest labelled
uses (the rules as the migration seeds them) and at its boundaries. No database."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable
from typing import Any

import pytest

from candidates.matching import (
    Assessment,
    History,
    Line,
    Prompt,
    RefractoryTo,
    Rule,
    Standing,
    Transplant,
    age_on,
    assess,
)

SEEDED = importlib.import_module("candidates.migrations.0003_seed_indication_rules").RULES
TODAY = dt.date(2026, 12, 4)


def _rule(index: int, data: dict[str, Any]) -> Rule:
    return Rule(
        id=index,
        product=data["product"],
        disease_area=data["disease_area"],
        summary=data["summary"],
        min_prior_lines=data.get("min_prior_lines", 1),
        required_classes=frozenset(data.get("required_classes", ())),
        refractory_to=RefractoryTo(data.get("refractory_to", "")),
        relapse_within_months=data.get("relapse_within_months"),
        min_relapses=data.get("min_relapses"),
        relapsed_or_refractory=data.get("relapsed_or_refractory", False),
        min_age=data.get("min_age"),
        max_age=data.get("max_age"),
        requires_transplant_ineligible=data.get("requires_transplant_ineligible", False),
        label_source=data["label_source"],
        label_date=data.get("label_date", "check current label"),
    )


RULES = [_rule(index, data) for index, data in enumerate(SEEDED, start=1)]


def _line(number: int, *classes: str, **fields: Any) -> Line:
    values: dict[str, Any] = {"started_on": dt.date(2025, 1, 6) + dt.timedelta(days=120 * (number - 1))} | fields
    return Line(number=number, classes=frozenset(classes), **values)


def _assess(area: str, *lines: Line, born_on: dt.date = dt.date(1960, 5, 1), **fields: Any) -> Assessment:
    return assess(History(disease_area=area, born_on=born_on, lines=lines, **fields), RULES, TODAY)


def _named(prompts: Iterable[Prompt]) -> set[tuple[str, int]]:
    """(product, minimum lines) of each prompt: which row of the table."""
    return {(p.rule.product, p.rule.min_prior_lines) for p in prompts}


def _rows(assessment: Assessment, summary_part: str, standing: Standing) -> set[str]:
    return {p.rule.product for p in assessment.prompts if summary_part in p.rule.summary and p.standing is standing}


# --- Large B-cell lymphoma -------------------------------------------------------------------------

R_CHOP_DONE = {"ended_on": dt.date(2025, 6, 30), "regimen": "R-CHOP"}
EARLY = "within 12 months"
NOT_TRANSPLANT = "not a transplant candidate"
TWO = "two or more lines"


def test_lbcl_refractory_to_first_line_meets_yescarta_and_breyanzi() -> None:
    result = _assess("lbcl", _line(1, "chemoimmunotherapy", refractory=True, **R_CHOP_DONE))
    assert _rows(result, EARLY, Standing.MEETS) == {"Yescarta", "Breyanzi"}
    assert result.standing is Standing.MEETS
    why = next(p for p in result.meets if p.rule.product == "Yescarta").why
    assert "refractory to the first line (line 1, R-CHOP)" in why and "Meets the Yescarta criterion" in why
    # A second line would also qualify for the two-line uses: shown as approaching.
    assert _rows(result, TWO, Standing.APPROACHING) == {"Yescarta", "Kymriah", "Breyanzi"}


def test_lbcl_relapse_exactly_12_months_after_the_first_line_meets_and_a_day_later_does_not() -> None:
    on_time = _assess("lbcl", _line(1, "chemoimmunotherapy", progressed_on=dt.date(2026, 6, 30), **R_CHOP_DONE))
    assert _rows(on_time, EARLY, Standing.MEETS) == {"Yescarta", "Breyanzi"}
    late = _assess("lbcl", _line(1, "chemoimmunotherapy", progressed_on=dt.date(2026, 7, 1), **R_CHOP_DONE))
    assert _rows(late, EARLY, Standing.MEETS) == set()
    assert _rows(late, EARLY, Standing.APPROACHING) == set()


def test_lbcl_in_remission_within_12_months_is_approaching_then_not_once_the_window_closed() -> None:
    line = _line(1, "chemoimmunotherapy", ended_on=dt.date(2026, 3, 31))
    within = _assess("lbcl", line)
    assert _rows(within, EARLY, Standing.APPROACHING) == {"Yescarta", "Breyanzi"}
    assert within.standing is Standing.APPROACHING
    prompt = next(p for p in within.approaching if EARLY in p.rule.summary)
    assert "a relapse by 31 Mar 2027" in prompt.why
    closed = _assess("lbcl", _line(1, "chemoimmunotherapy", ended_on=dt.date(2025, 12, 3)))
    assert _rows(closed, EARLY, Standing.APPROACHING) == set()
    exactly = _assess("lbcl", _line(1, "chemoimmunotherapy", ended_on=dt.date(2025, 12, 4)))
    assert _rows(exactly, EARLY, Standing.APPROACHING) == {"Yescarta", "Breyanzi"}


def test_lbcl_on_first_line_a_progression_would_qualify() -> None:
    result = _assess("lbcl", _line(1, "chemoimmunotherapy", regimen="R-CHOP"))
    assert _rows(result, EARLY, Standing.APPROACHING) == {"Yescarta", "Breyanzi"}


def test_lbcl_late_relapse_meets_breyanzi_only_when_not_a_transplant_candidate() -> None:
    late = _line(1, "chemoimmunotherapy", progressed_on=dt.date(2026, 10, 1), **R_CHOP_DONE)
    assert _rows(_assess("lbcl", late, transplant=Transplant.NO), NOT_TRANSPLANT, Standing.MEETS) == {"Breyanzi"}
    unknown = _assess("lbcl", late)
    assert _rows(unknown, NOT_TRANSPLANT, Standing.APPROACHING) == {"Breyanzi"}
    assert "recording that the patient is not a transplant candidate" in unknown.approaching[0].why
    candidate = _assess("lbcl", late, transplant=Transplant.YES)
    assert (
        _rows(candidate, NOT_TRANSPLANT, Standing.MEETS) | _rows(candidate, NOT_TRANSPLANT, Standing.APPROACHING)
        == set()
    )


def test_transplant_candidacy_never_counts_against_any_other_use() -> None:
    for transplant in Transplant:
        result = _assess("lbcl", _line(1, "chemoimmunotherapy", refractory=True, **R_CHOP_DONE), transplant=transplant)
        assert _rows(result, EARLY, Standing.MEETS) == {"Yescarta", "Breyanzi"}, transplant
        myeloma = _assess(
            "multiple_myeloma", _line(1, "pi", "imid", lenalidomide=True, refractory=True), transplant=transplant
        )
        assert myeloma.standing is Standing.MEETS, transplant


def test_lbcl_after_two_lines_meets_three_products_and_one_line_short_approaches() -> None:
    two = _assess("lbcl", _line(1, "chemoimmunotherapy", **R_CHOP_DONE), _line(2, "chemoimmunotherapy"))
    assert _rows(two, TWO, Standing.MEETS) == {"Yescarta", "Kymriah", "Breyanzi"}
    one = _assess("lbcl", _line(1, "chemoimmunotherapy", ended_on=dt.date(2024, 6, 1), started_on=dt.date(2024, 1, 1)))
    assert _rows(one, TWO, Standing.APPROACHING) == {"Yescarta", "Kymriah", "Breyanzi"}
    assert _rows(one, TWO, Standing.MEETS) == set()
    assert "one more line of therapy would qualify" in one.approaching[0].why


# --- Follicular, mantle cell, CLL/SLL ------------------------------------------------------------


def test_fl_after_two_lines_meets_and_one_line_short_approaches_and_none_is_nothing() -> None:
    assert _named(_assess("fl", _line(1, "chemoimmunotherapy"), _line(2, "other")).meets) == {
        ("Yescarta", 2),
        ("Kymriah", 2),
        ("Breyanzi", 2),
    }
    one = _assess("fl", _line(1, "chemoimmunotherapy"))
    assert one.standing is Standing.APPROACHING and not one.meets
    assert _assess("fl").standing is None


def test_mcl_relapsed_meets_tecartus_and_breyanzi_needs_two_lines_with_a_btk_inhibitor() -> None:
    relapsed = _assess("mcl", _line(1, "chemoimmunotherapy", progressed_on=dt.date(2026, 2, 1)))
    assert _named(relapsed.meets) == {("Tecartus", 1)}
    assert _named(relapsed.approaching) == {("Breyanzi", 2)}  # a next line with a BTK inhibitor
    assert "a next line including BTK inhibitor would qualify" in relapsed.approaching[0].why
    with_btk = _assess("mcl", _line(1, "chemoimmunotherapy"), _line(2, "btk_inhibitor"))
    assert ("Breyanzi", 2) in _named(with_btk.meets)
    missing_btk = _assess("mcl", _line(1, "chemoimmunotherapy"), _line(2, "other"))
    assert _named(missing_btk.approaching) >= {("Breyanzi", 2)}
    assert ("Breyanzi", 2) not in _named(missing_btk.meets)
    # On a first line, neither relapsed nor refractory: one event from Tecartus.
    assert _named(_assess("mcl", _line(1, "chemoimmunotherapy")).approaching) >= {("Tecartus", 1)}


def test_cll_needs_two_lines_including_a_btk_and_a_bcl2_inhibitor() -> None:
    both = _assess("cll_sll", _line(1, "btk_inhibitor"), _line(2, "bcl2_inhibitor"))
    assert _named(both.meets) == {("Breyanzi", 2)}
    missing = _assess("cll_sll", _line(1, "btk_inhibitor"), _line(2, "chemoimmunotherapy"))
    assert missing.standing is Standing.APPROACHING
    assert "a line including BCL-2 inhibitor would qualify" in missing.approaching[0].why
    one_short = _assess("cll_sll", _line(1, "btk_inhibitor"))
    assert one_short.standing is Standing.APPROACHING
    # Three lines with neither class: one line including both would qualify.
    three = _assess("cll_sll", _line(1, "chemoimmunotherapy"), _line(2, "other"), _line(3, "other"))
    assert "a line including BTK inhibitor, BCL-2 inhibitor would qualify" in three.approaching[0].why


# --- B-ALL: Kymriah up to 25 years, adults ---------------------------------------------------------


def _born(age: int, *, days_before_birthday: int = 10) -> dt.date:
    """Born so as to be `age` today, `days_before_birthday` days before the next birthday."""
    birthday = TODAY + dt.timedelta(days=days_before_birthday)
    return birthday.replace(year=birthday.year - age - 1)


def test_age_is_whole_years() -> None:
    assert age_on(_born(25), TODAY) == 25
    assert age_on(dt.date(2000, 12, 4), TODAY) == 26 and age_on(dt.date(2000, 12, 5), TODAY) == 25


def test_b_all_refractory_at_25_meets_kymriah_and_at_26_the_adult_products() -> None:
    refractory = _line(1, "other", refractory=True, regimen="Hyper-CVAD")
    at_25 = _assess("b_all", refractory, born_on=_born(25))
    assert _named(at_25.meets) == {("Kymriah", 1), ("Tecartus", 1), ("Aucatzyl", 1)}
    at_26 = _assess("b_all", refractory, born_on=_born(26))
    assert _named(at_26.meets) == {("Tecartus", 1), ("Aucatzyl", 1)}
    on_26th_birthday = _assess("b_all", refractory, born_on=dt.date(2000, 12, 4))
    assert ("Kymriah", 1) not in _named(on_26th_birthday.prompts)
    child = _assess("b_all", refractory, born_on=_born(9))
    assert _named(child.meets) == {("Kymriah", 1)}


def test_b_all_in_a_child_in_first_remission_is_two_events_away_and_prompts_nothing() -> None:
    remission = _line(1, "other", ended_on=dt.date(2025, 6, 1))
    assert _assess("b_all", remission, born_on=_born(12)).standing is None


def test_b_all_in_a_child_needs_a_second_relapse_or_refractoriness() -> None:
    first = _line(1, "other", ended_on=dt.date(2025, 6, 1), progressed_on=dt.date(2025, 9, 1))
    one_relapse = _assess("b_all", first, born_on=_born(12))
    assert _named(one_relapse.approaching) == {("Kymriah", 1)}
    assert "another relapse would qualify" in one_relapse.approaching[0].why
    second = _line(2, "other", started_on=dt.date(2025, 9, 15), progressed_on=dt.date(2026, 8, 1))
    assert _named(_assess("b_all", first, second, born_on=_born(12)).meets) == {("Kymriah", 1)}
    # The adult uses need 18 years.
    assert _named(_assess("b_all", first, born_on=_born(17)).meets) == set()
    assert _named(_assess("b_all", first, born_on=_born(18)).meets) == {("Tecartus", 1), ("Aucatzyl", 1)}


# --- Multiple myeloma -----------------------------------------------------------------------------

VRD = {"regimen": "VRd", "lenalidomide": True}


def test_myeloma_on_first_line_with_lenalidomide_is_one_step_from_carvykti() -> None:
    result = _assess("multiple_myeloma", _line(1, "pi", "imid", **VRD))
    assert result.standing is Standing.APPROACHING and not result.meets
    carvykti = next(p for p in result.approaching if p.rule.product == "Carvykti")
    assert "becoming refractory to lenalidomide" in carvykti.why
    assert "1 line of therapy" in carvykti.why and "received Proteasome inhibitor (PI)" in carvykti.why
    # Abecma: a next line including an anti-CD38 antibody would qualify.
    abecma = next(p for p in result.approaching if p.rule.product == "Abecma")
    assert "a next line including Anti-CD38 antibody would qualify" in abecma.why


def test_myeloma_off_lenalidomide_for_more_than_60_days_is_no_longer_one_step_from_carvykti() -> None:
    just_off = _assess("multiple_myeloma", _line(1, "pi", "imid", ended_on=TODAY - dt.timedelta(days=60), **VRD))
    assert ("Carvykti", 1) in _named(just_off.approaching)
    long_off = _assess("multiple_myeloma", _line(1, "pi", "imid", ended_on=TODAY - dt.timedelta(days=61), **VRD))
    assert ("Carvykti", 1) not in _named(long_off.prompts)
    relapsed_off = _line(1, "pi", "imid", ended_on=dt.date(2025, 6, 1), progressed_on=dt.date(2026, 3, 1), **VRD)
    assert ("Carvykti", 1) not in _named(_assess("multiple_myeloma", relapsed_off).prompts)


def test_myeloma_lenalidomide_refractory_after_one_line_meets_carvykti_with_its_source() -> None:
    result = _assess("multiple_myeloma", _line(1, "pi", "imid", refractory=True, **VRD))
    assert _named(result.meets) == {("Carvykti", 1)}
    prompt = result.meets[0]
    assert "lenalidomide-refractory (line 1, VRd)" in prompt.why
    assert prompt.rule.source == "Carvykti (ciltacabtagene autoleucel) US prescribing information, April 2024"


def test_myeloma_refractory_without_lenalidomide_or_missing_a_pi_does_not_meet_carvykti() -> None:
    pomalidomide = _assess("multiple_myeloma", _line(1, "pi", "imid", refractory=True, regimen="PVd"))
    assert ("Carvykti", 1) not in _named(pomalidomide.prompts)
    no_pi = _assess("multiple_myeloma", _line(1, "imid", refractory=True, lenalidomide=True))
    assert _named(no_pi.approaching) >= {("Carvykti", 1)}
    assert "a line including Proteasome inhibitor (PI) would qualify" in no_pi.approaching[0].why


def test_myeloma_abecma_needs_two_lines_with_an_imid_a_pi_and_an_anti_cd38() -> None:
    lines = (_line(1, "pi", "imid", **VRD), _line(2, "anti_cd38", "imid", regimen="DPd"))
    assert ("Abecma", 2) in _named(_assess("multiple_myeloma", *lines).meets)
    missing = _assess("multiple_myeloma", _line(1, "pi", "imid", **VRD), _line(2, "imid", regimen="Pd"))
    assert ("Abecma", 2) in _named(missing.approaching) and ("Abecma", 2) not in _named(missing.meets)


def test_prior_bcma_directed_therapy_is_a_note_with_its_dates_never_a_condition() -> None:
    lines = (
        _line(1, "pi", "imid", refractory=True, **VRD),
        _line(
            2, "bcma_bispecific", regimen="teclistamab", started_on=dt.date(2026, 1, 5), ended_on=dt.date(2026, 6, 1)
        ),
    )
    result = _assess("multiple_myeloma", *lines)
    assert ("Carvykti", 1) in _named(result.meets)
    (note,) = result.notes
    assert "BCMA-directed bispecific antibody in line 2, teclistamab, 05 Jan 2026 to 01 Jun 2026" in note
    assert "the center weighs it" in note
    assert _assess("multiple_myeloma", _line(1, "pi", "imid", **VRD)).notes == ()


# --- Whatever the disease -------------------------------------------------------------------------


@pytest.mark.parametrize("area", ["lbcl", "fl", "mcl", "cll_sll", "b_all", "multiple_myeloma", "mzl", "other"])
def test_no_history_prompts_nothing(area: str) -> None:
    assert _assess(area) == Assessment()


def test_a_rule_of_another_disease_prompts_nothing() -> None:
    assert _assess("mzl", _line(1, "chemoimmunotherapy", refractory=True), _line(2, "other")).prompts == ()


def test_met_uses_come_before_approached_ones_and_name_their_products_once() -> None:
    result = _assess("lbcl", _line(1, "chemoimmunotherapy", refractory=True, **R_CHOP_DONE))
    standings = [p.standing for p in result.prompts]
    assert standings == sorted(standings, key=lambda s: s is not Standing.MEETS)
    assert result.products == ["Yescarta", "Breyanzi"]
