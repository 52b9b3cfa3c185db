"""Who is, or is about to be, a CAR-T candidate: a patient's treatment history matched against
the labelled indications (`IndicationRule`), as plain values, with no database.

Advisory only. The answer tells a practice when to refer (early, before multiple relapses); it
never gates a referral nor gives a reason to refuse one. For each active rule of the patient's
disease area:

- **meets**: every condition of the rule holds; the reasons say which, in words;
- **approaching**: one step short, where the next event in the history can be that step (one
  more line of therapy, a line including the classes still missing, a relapse or
  refractoriness the rule accepts, or recording that the patient is not a transplant candidate);
- otherwise nothing.

The conditions of a rule: at least `min_prior_lines` lines (every recorded line counts, the
one going on too); the `required_classes` received in any line; the patient's age (whole years
today) within `min_age`..`max_age`; for the one use that asks for it, not a transplant
candidate. The disease-status conditions a rule sets (`refractory_to`, `relapse_within_months`,
`min_relapses`, `relapsed_or_refractory`) are alternatives, as the labels word them
("refractory, or relapse within 12 months"): any one of them suffices.

Transplant candidacy never counts against a patient: it is read only by a rule that asks for a
patient who is *not* a candidate. Prior BCMA-directed therapy is never a condition either: it is
listed, with its dates, as a note for the center to weigh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from candidates.drug_classes import BCMA_DIRECTED, class_names
from referrals.schedule import add_months

# Progression on a line or within this many days of its last dose makes the patient refractory to it.
REFRACTORY_WINDOW_DAYS = 60


class RefractoryTo(StrEnum):
    NOTHING = ""
    ANY_LINE = "any_line"
    FIRST_LINE = "first_line"
    LENALIDOMIDE = "lenalidomide"


class Transplant(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Standing(StrEnum):
    MEETS = "meets"
    APPROACHING = "approaching"


@dataclass(frozen=True)
class Line:
    """One line of therapy (`TherapyLine`), as the matching reads it."""

    number: int
    classes: frozenset[str]
    started_on: dt.date
    ended_on: dt.date | None = None
    lenalidomide: bool = False
    refractory: bool = False
    progressed_on: dt.date | None = None
    regimen: str = ""

    @property
    def ongoing(self) -> bool:
        return self.ended_on is None and self.progressed_on is None


@dataclass(frozen=True)
class History:
    disease_area: str
    born_on: dt.date
    lines: tuple[Line, ...] = ()
    transplant: Transplant = Transplant.UNKNOWN


@dataclass(frozen=True)
class Rule:
    """One labelled use of one product (`IndicationRule`)."""

    id: int
    product: str
    disease_area: str
    summary: str
    min_prior_lines: int = 1
    required_classes: frozenset[str] = frozenset()
    refractory_to: RefractoryTo = RefractoryTo.NOTHING
    relapse_within_months: int | None = None
    min_relapses: int | None = None
    relapsed_or_refractory: bool = False
    min_age: int | None = None
    max_age: int | None = None
    requires_transplant_ineligible: bool = False
    label_source: str = ""
    label_date: str = ""

    @property
    def asks_status(self) -> bool:
        return bool(
            self.refractory_to or self.relapse_within_months or self.min_relapses or self.relapsed_or_refractory
        )

    @property
    def source(self) -> str:
        return ", ".join(part for part in (self.label_source, self.label_date) if part)


@dataclass(frozen=True)
class Prompt:
    """A rule the patient meets (`reasons`: why), or is one step from (`next_step`: what would do)."""

    standing: Standing
    rule: Rule
    reasons: tuple[str, ...]
    next_step: str = ""

    @property
    def why(self) -> str:
        met = "; ".join(self.reasons)
        if self.standing is Standing.MEETS:
            return f"Meets the {self.rule.product} criterion ({self.rule.summary}): {met}."
        so_far = f" So far: {met}." if met else ""
        return f"One step from the {self.rule.product} criterion ({self.rule.summary}): {self.next_step}.{so_far}"


@dataclass(frozen=True)
class Assessment:
    prompts: tuple[Prompt, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def meets(self) -> list[Prompt]:
        return [p for p in self.prompts if p.standing is Standing.MEETS]

    @property
    def approaching(self) -> list[Prompt]:
        return [p for p in self.prompts if p.standing is Standing.APPROACHING]

    @property
    def standing(self) -> Standing | None:
        if self.meets:
            return Standing.MEETS
        return Standing.APPROACHING if self.approaching else None

    @property
    def products(self) -> list[str]:
        """The products of the rules met, else approached, each once, in rule order."""
        chosen = self.meets or self.approaching
        return list(dict.fromkeys(p.rule.product for p in chosen))


def age_on(born_on: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (a birthday on 29 February comes on 1 March in other years)."""
    return day.year - born_on.year - ((day.month, day.day) < (born_on.month, born_on.day))


@dataclass(frozen=True)
class _Check:
    met: bool
    reason: str = ""  # in words, when met
    step: str = ""  # what one next event would do, when not met and one event can do it
    missing: str = ""  # the classes still missing, in words


def _lines_check(rule: Rule, lines: Sequence[Line]) -> _Check:
    count = len(lines)
    words = f"{count} line{'s' if count != 1 else ''} of therapy"
    if count >= rule.min_prior_lines:
        return _Check(True, words)
    if count == rule.min_prior_lines - 1:
        return _Check(False, step="one more line of therapy")
    return _Check(False)


def _classes_check(rule: Rule, lines: Sequence[Line]) -> _Check:
    received = frozenset().union(*(line.classes for line in lines))
    missing = rule.required_classes - received
    if not rule.required_classes:
        return _Check(True)
    if not missing:
        return _Check(True, f"received {class_names(rule.required_classes)}")
    names = class_names(missing)
    return _Check(False, step=f"a line including {names}", missing=names)


def _line_words(line: Line) -> str:
    return f"line {line.number}" + (f", {line.regimen}" if line.regimen else "")


def _on_or_just_off(line: Line, today: dt.date) -> bool:
    """Not progressed, and still on the line or within the 60 days after it in which a
    progression makes it refractory."""
    if line.progressed_on is not None:
        return False
    return line.ended_on is None or (today - line.ended_on).days <= REFRACTORY_WINDOW_DAYS


def _status_check(rule: Rule, lines: Sequence[Line], today: dt.date) -> _Check:
    """The disease-status alternatives of the rule: the first that holds, else the first next
    event that would make one hold."""
    if not rule.asks_status:
        return _Check(True)
    first = lines[0] if lines else None
    relapsed = [line for line in lines if line.progressed_on is not None]
    met: list[str] = []
    steps: list[str] = []
    if rule.refractory_to is RefractoryTo.LENALIDOMIDE:
        refractory = [line for line in lines if line.lenalidomide and line.refractory]
        if refractory:
            met.append(f"lenalidomide-refractory ({_line_words(refractory[0])})")
        elif any(line.lenalidomide and _on_or_just_off(line, today) for line in lines):
            steps.append("becoming refractory to lenalidomide (progression on it or within 60 days of its last dose)")
    elif rule.refractory_to is RefractoryTo.FIRST_LINE and first is not None:
        if first.refractory:
            met.append(f"refractory to the first line ({_line_words(first)})")
        elif first.ongoing:
            steps.append("refractoriness to the first line")
    elif rule.refractory_to is RefractoryTo.ANY_LINE:
        refractory = [line for line in lines if line.refractory]
        if refractory:
            met.append(f"refractory ({_line_words(refractory[0])})")
        elif any(line.ongoing for line in lines):
            steps.append("refractoriness to the current line")
    if rule.relapse_within_months and first is not None:
        months = rule.relapse_within_months
        if first.ended_on is None:
            # Still on it, or progressed on it: a relapse now is within any window.
            if first.progressed_on is not None:
                met.append(f"relapse or progression on the first line ({first.progressed_on:%d %b %Y})")
            else:
                steps.append(f"a relapse within {months} months of the end of the first line")
        else:
            closes = add_months(first.ended_on, months)
            if first.progressed_on is not None and first.progressed_on <= closes:
                met.append(f"relapse on {first.progressed_on:%d %b %Y}, within {months} months of the first line's end")
            elif first.progressed_on is None and today <= closes:
                steps.append(f"a relapse by {closes:%d %b %Y} ({months} months after the first line ended)")
    if rule.min_relapses:
        if len(relapsed) >= rule.min_relapses:
            met.append(f"{len(relapsed)} relapses")
        elif len(relapsed) == rule.min_relapses - 1:
            steps.append("another relapse")
    if rule.relapsed_or_refractory:
        if relapsed or any(line.refractory for line in lines):
            met.append("relapsed or refractory")
        elif lines:
            steps.append("a relapse or refractoriness")
    if met:
        return _Check(True, met[0])
    return _Check(False, step=steps[0] if steps else "")


def _transplant_check(rule: Rule, transplant: Transplant) -> _Check | None:
    """None where the rule does not apply at all (it asks for a non-candidate, the patient is one)."""
    if not rule.requires_transplant_ineligible:
        return _Check(True)
    if transplant is Transplant.NO:
        return _Check(True, "not a transplant candidate")
    if transplant is Transplant.UNKNOWN:
        return _Check(False, step="recording that the patient is not a transplant candidate")
    return None


def _prompt(rule: Rule, history: History, today: dt.date) -> Prompt | None:
    if rule.disease_area != history.disease_area or not history.lines:
        return None
    age = age_on(history.born_on, today)
    if (rule.min_age is not None and age < rule.min_age) or (rule.max_age is not None and age > rule.max_age):
        return None
    transplant = _transplant_check(rule, history.transplant)
    if transplant is None:
        return None
    lines = sorted(history.lines, key=lambda line: line.number)
    lines_check, classes_check = _lines_check(rule, lines), _classes_check(rule, lines)
    checks = [lines_check, classes_check, _status_check(rule, lines, today), transplant]
    reasons = tuple(check.reason for check in checks if check.met and check.reason)
    unmet = [check for check in checks if not check.met]
    if not unmet:
        return Prompt(Standing.MEETS, rule, reasons)
    # One line short and classes missing: the next line can bring both.
    if unmet == [lines_check, classes_check] and lines_check.step:
        step = f"a next line including {classes_check.missing} would qualify"
        return Prompt(Standing.APPROACHING, rule, reasons, step)
    if len(unmet) == 1 and unmet[0].step:
        return Prompt(Standing.APPROACHING, rule, reasons, f"{unmet[0].step} would qualify")
    return None


def bcma_notes(lines: Iterable[Line]) -> tuple[str, ...]:
    """Prior BCMA-directed therapy with its dates: it may lower the benefit of a BCMA CAR-T."""
    notes = []
    for line in sorted(lines, key=lambda line: line.number):
        classes = line.classes & BCMA_DIRECTED
        if classes:
            until = f"{line.ended_on:%d %b %Y}" if line.ended_on else "ongoing"
            notes.append(
                f"Prior BCMA-directed therapy: {class_names(classes)} in {_line_words(line)}, "
                f"{line.started_on:%d %b %Y} to {until}. It may lower the benefit of a BCMA CAR-T: "
                "the center weighs it."
            )
    return tuple(notes)


def meets_any(history: History, rules: Iterable[Rule], today: dt.date) -> bool:
    """Whether `history` meets one of `rules` on `today`: `assess(...).meets`, without the rest."""
    return any(
        (prompt := _prompt(rule, history, today)) is not None and prompt.standing is Standing.MEETS for rule in rules
    )


def assess(history: History, rules: Iterable[Rule], today: dt.date) -> Assessment:
    """The rules `history` meets or approaches on `today` (advisory; see the module's docstring)."""
    prompts = [prompt for rule in rules if (prompt := _prompt(rule, history, today)) is not None]
    # Met first, then approached; each in the rules' order.
    prompts.sort(key=lambda p: p.standing is not Standing.MEETS)
    return Assessment(prompts=tuple(prompts), notes=bcma_notes(history.lines))
