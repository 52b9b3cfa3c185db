"""The patient's counts as the timeline shows them: a small chart and a table per value, the
ICAHT grade (early, and late as of today), and the values flagged, from what one read loads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from labs.chart import Chart, line_chart
from labs.kinds import KINDS, LabKind, value_text
from labs.models import LabResult
from toxicity.grading import EARLY_ICAHT_LAST_DAY, grade_icaht
from toxicity.timing import day_text

FLAGGED_SHOWN = 5


@dataclass(frozen=True)
class Row:
    result: LabResult
    day: str  # "day +12", "" without a day 0


@dataclass(frozen=True)
class KindPanel:
    kind: str
    label: str
    long_name: str
    unit: str
    chart: Chart
    rows: list[Row]
    threshold: str  # "flagged below 500 cells/µL", or ""

    @property
    def latest(self) -> Row:
        return self.rows[-1]

    @property
    def dom_id(self) -> str:
        return f"counts-{self.kind}"


@dataclass(frozen=True)
class Icaht:
    """The neutropenia grades known today: early (days 0-30), and late once past day +30."""

    early: int | None
    late: int | None
    today: int | None

    @property
    def current(self) -> int | None:
        """The grade that applies today: late after day +30, early before."""
        return self.late if self.late is not None else self.early


@dataclass(frozen=True)
class CountsPanel:
    kinds: list[KindPanel]
    icaht: Icaht
    flagged: list[LabResult]  # the latest flagged, newest first, with who was told


def _day(infusion_on: dt.date | None, on: dt.date) -> int | None:
    return (on - infusion_on).days if infusion_on else None


def icaht_of(results: Sequence[LabResult], infusion_on: dt.date | None, today: dt.date) -> Icaht:
    """ICAHT from the ANC results on or after day 0; None where nothing can be graded yet."""
    today_day = _day(infusion_on, today)
    if infusion_on is None or today_day is None or today_day < 0:
        return Icaht(None, None, today_day)
    series = [
        (day, r.value)
        for r in results
        if r.kind == LabKind.ANC and (day := (r.taken_on - infusion_on).days) >= 0 and day <= today_day
    ]
    if not series:
        return Icaht(None, None, today_day)
    early = grade_icaht(anc_series=series, day=min(today_day, EARLY_ICAHT_LAST_DAY))
    late = grade_icaht(anc_series=series, day=today_day) if today_day > EARLY_ICAHT_LAST_DAY else None
    return Icaht(early, late, today_day)


def counts_panel(results: Sequence[LabResult], *, infusion_on: dt.date | None, today: dt.date) -> CountsPanel:
    """`results` of one patient, oldest first (`labs.selectors.results_of`)."""
    by_kind: dict[str, list[LabResult]] = {}
    for result in results:
        by_kind.setdefault(result.kind, []).append(result)
    first_day = min((r.taken_on for r in results), default=today)
    kinds = []
    for kind in LabKind.values:
        rows = by_kind.get(kind)
        if not rows:
            continue
        origin = infusion_on or first_day
        points = [((r.taken_on - origin).days, r.value, r.flagged) for r in rows]
        # The line drawn is the one the latest value was compared with (the treating center's).
        threshold = rows[-1].flag_below
        kinds.append(
            KindPanel(
                kind=kind,
                label=LabKind(kind).label,
                long_name=KINDS[kind].long_name,
                unit=KINDS[kind].unit,
                chart=line_chart(points, threshold=threshold),
                rows=[Row(r, day_text(_day(infusion_on, r.taken_on))) for r in rows],
                threshold=f"flagged below {value_text(kind, threshold)}" if threshold is not None else "",
            )
        )
    flagged = sorted((r for r in results if r.flagged), key=lambda r: (r.taken_on, r.pk), reverse=True)
    return CountsPanel(kinds=kinds, icaht=icaht_of(results, infusion_on, today), flagged=flagged[:FLAGGED_SHOWN])
