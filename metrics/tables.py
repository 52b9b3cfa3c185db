"""Every block's figures as tables of text: what the page shows, the CSV files hold and the
quarterly report prints, each number written through `metrics.small_counts`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from metrics.access import AccessFigures, access_figures
from metrics.charts import Chart, Gantt, PathRow, column_chart, gantt_chart, months_chart, tally_chart
from metrics.coordination import CoordinationFigures, coordination_figures
from metrics.criterion_to_referral import PracticeTiming, criterion_to_referral
from metrics.figures import Month, Span, Tally
from metrics.gantt import Day, Path, Paths, path_steps, patient_paths
from metrics.safety import GradeRow, SafetyFigures, safety_figures
from metrics.scope import Cohort
from metrics.small_counts import count_text, figure_text, percent_text
from metrics.sql import without_jit

GRADES = range(6)


@dataclass(frozen=True)
class Table:
    """One table: `slug` names its CSV file and its place on the page."""

    slug: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    chart: Chart | None = None  # drawn beside the table, which is its text
    gantt: Gantt | None = None  # the patient paths, drawn above their table
    # The patients the rows name, each with the referral of its row (the reads a page records).
    patients: tuple[tuple[uuid.UUID, int], ...] = ()


@dataclass(frozen=True)
class Block:
    """A block of the page (access, safety, coordination): its tables, in order."""

    slug: str
    title: str
    tables: list[Table] = field(default_factory=list)

    def table(self, slug: str) -> Table:
        return next(t for t in self.tables if t.slug == slug)


def _span_row(span: Span) -> list[str]:
    return [
        span.label,
        count_text(span.n),
        figure_text(span.median, span.n, unit=span.unit),
        figure_text(span.p90, span.n, unit=span.unit),
    ]


SPAN_HEADERS = ["Step", "Number", "Median", "90th percentile"]


def _tallies(
    slug: str, title: str, headers: list[str], tallies: Sequence[Tally], note: str = "", *, chart: bool = False
) -> Table:
    rows = [[t.label, count_text(t.count)] for t in tallies]
    return Table(slug, title, headers, rows, note, tally_chart(tallies, headers[1]) if chart else None)


def _months(slug: str, title: str, months: Sequence[Month]) -> Table:
    names = list(months[0].counts) if months else []
    rows = [[m.label, *(count_text(m.counts[name]) for name in names)] for m in months]
    return Table(slug, title, ["Month", *names], rows, chart=months_chart(months))


def _grades(slug: str, title: str, rows: Sequence[GradeRow]) -> Table:
    headers = ["Product", "Infused", "None", *(f"Grade {g}" for g in GRADES if g)]  # "Grade 1" wraps on a phone
    return Table(
        slug,
        title,
        headers,
        [[r.product, count_text(r.courses), *(count_text(r.by_grade[g]) for g in GRADES)] for r in rows],
        "Each infusion counted once, at the highest grade reached from day 0.",
    )


def _rate(label: str, part: int, whole: int) -> list[str]:
    return [label, count_text(part), count_text(whole), percent_text(part, whole)]


def _criterion_to_referral(rows: Sequence[PracticeTiming]) -> Table:
    return Table(
        "access-criterion-to-referral",
        "From meeting a CAR-T criterion to referral, by practice",
        [
            "Practice",
            "Referred",
            "Met first",
            "Median",
            "90th percentile",
            "Early",
            "No history",
        ],
        [
            [
                row.practice,
                count_text(row.referred),
                count_text(row.met_first),
                figure_text(row.median, row.met_first, unit="days"),
                figure_text(row.p90, row.met_first, unit="days"),
                count_text(row.early),
                count_text(row.no_history),
            ]
            for row in rows
        ],
        "Patients referred in the period, once per practice. Met first: their treatment history, as it stood, "
        "met a labelled use before the referral; the median and 90th percentile of the days from that day to the "
        "day the referral was submitted (the practice's time zone). Early: referred before meeting any. "
        "No history: no line of therapy recorded.",
    )


def access_block(figures: AccessFigures, timing: Sequence[PracticeTiming] = ()) -> Block:
    acknowledgement, *others = figures.spans
    spans = Table(
        "access-times",
        "Time from referral to each step",
        [*SPAN_HEADERS, "Within the center's deadline"],
        [
            [
                *_span_row(acknowledgement),
                percent_text(figures.acknowledged_in_time, figures.acknowledgement_known),
            ],
            *([*_span_row(span), ""] for span in others),
        ],
        "Referrals submitted in the period. Days between dates in the center's time zone.",
    )
    return Block(
        "access",
        "Access",
        [
            spans,
            _tallies(
                "access-funnel", "From referral to infusion", ["Step reached", "Referrals"], figures.funnel, chart=True
            ),
            _tallies("access-decisions", "Decisions", ["Decision", "Referrals"], figures.decisions),
            _tallies(
                "access-decline-reasons",
                "Reasons for declining",
                ["Reason", "Referrals"],
                figures.decline_reasons,
                "A reason is named when at least five referrals give it; the rest are other reasons.",
            ),
            _tallies(
                "access-not-treated", "Referred but not infused, and why", ["Why", "Referrals"], figures.not_treated
            ),
            _tallies(
                "access-to-infusion",
                "Referral to infusion",
                ["Days", "Patients infused"],
                figures.to_infusion,
                chart=True,
            ),
            _months("access-months", "Referrals by month", figures.months),
            _criterion_to_referral(timing),
        ],
    )


def safety_block(figures: SafetyFigures) -> Block:
    onset_rows = [
        [crs.label, count_text(crs.count), count_text(icans.count)]
        for crs, icans in zip(figures.onset["CRS"], figures.onset["ICANS"], strict=True)
    ]
    infections = [
        [every.label, count_text(every.count), count_text(severe.count)]
        for every, severe in zip(figures.infections, figures.severe_infections, strict=True)
    ]
    treatments = [_rate(t.label, t.count, figures.infused) for t in figures.treatments]
    return Block(
        "safety",
        "Safety",
        [
            _grades("safety-crs", "CRS by highest grade and product", figures.crs),
            _grades("safety-icans", "ICANS by highest grade and product", figures.icans),
            Table(
                "safety-onset",
                "Onset after infusion",
                ["Onset", "CRS", "ICANS"],
                onset_rows,
                chart=column_chart(
                    [
                        (crs.label, [crs.count, icans.count])
                        for crs, icans in zip(figures.onset["CRS"], figures.onset["ICANS"], strict=True)
                    ],
                    ["CRS", "ICANS"],
                ),
            ),
            _tallies("safety-late", "Late or atypical events", ["Event", "Events"], figures.late),
            Table(
                "safety-treatments",
                "Treatments and intensive care",
                ["Treatment", "Infusions", "Of", "Share"],
                treatments,
                "Infusions after which the treatment was given at least once.",
            ),
            Table(
                "safety-infections",
                "Infections by time after infusion",
                ["Days after infusion", "Infections", "Grade 3 or more"],
                infections,
            ),
            _tallies(
                "safety-deaths",
                "Deaths by cause",
                ["Cause", "Patients"],
                figures.deaths,
                "Each patient once, by the primary cause of the recorded death; without one, a toxicity or "
                "infection recorded as fatal counts as its cause. Non-relapse: every cause but relapse and unknown.",
            ),
            _months("safety-months", "Infusions by month", figures.months),
        ],
    )


def coordination_block(figures: CoordinationFigures) -> Block:
    spans = Table(
        "coordination-times",
        "Answering times",
        SPAN_HEADERS,
        [
            _span_row(figures.alert_acknowledgement),
            _span_row(figures.handoff_acknowledgement),
            _span_row(figures.hand_back),
        ],
    )
    rates = Table(
        "coordination-rates",
        "Answers and follow-up",
        ["Measure", "Count", "Of", "Share"],
        [
            _rate("Alerts escalated (not acknowledged in time)", figures.alerts_escalated, figures.alerts),
            _rate("Hand-offs with a question asked back", figures.handoffs_with_questions, figures.handoffs),
            _rate("Weekly digests delivered", figures.digests_delivered, figures.digests_built),
            _rate("Follow-up visits done on time", figures.visits_on_time, figures.visits_due),
            _rate("CIBMTR forms done on time", figures.forms_on_time, figures.forms_due),
        ],
    )
    return Block(
        "coordination",
        "Coordination",
        [
            spans,
            rates,
            _tallies("coordination-overdue", "Steps overdue today", ["Step", "Overdue"], figures.overdue),
            _tallies(
                "coordination-acknowledgement",
                "Time to acknowledge an alert",
                ["Acknowledged", "Alerts"],
                figures.acknowledgement_bins,
                chart=True,
            ),
            _months("coordination-months", "Alerts by month", figures.months),
        ],
    )


def _day_cell(path: Path, day: Day | None) -> str:
    if day is None:
        return ""
    offset = (day.on - path.infusion).days
    return f"day {offset:+d}{' (planned)' if day.planned else ''}"


PATH_HEADERS = [
    "Patient",
    "Product",
    "Infusion (day 0)",
    "Apheresis",
    "Product release",
    "Bridging from",
    "Lymphodepletion",
    "Monitoring until",
    "Hand-back",
]


def paths_block(paths: Paths) -> Block:
    rows = [
        [
            path.label,
            path.product,
            path.infusion.isoformat(),
            *(
                _day_cell(path, day)
                for day in (
                    path.apheresis,
                    path.release,
                    path.bridging,
                    path.lymphodepletion,
                    path.monitoring_end,
                    path.hand_back,
                )
            ),
        ]
        for path in paths.rows
    ]
    shown = len(paths.rows)
    which = (
        f"The first {shown} of {paths.total} infusions of the period, by day of infusion."
        if paths.total > shown
        else "Every infusion of the period, by day of infusion."
    )
    note = (
        f"{which} Days are counted from the infusion (day 0); a step not yet marked done shows its planned day, "
        "drawn lighter. Each patient is named by your site's MRN, else their initials."
    )
    table = Table(
        "paths-gantt",
        "Path of each patient infused",
        PATH_HEADERS,
        rows,
        note,
        gantt=gantt_chart([PathRow(path.label, path_steps(path)) for path in paths.rows]) if rows else None,
        patients=tuple((path.patient_id, path.referral_id) for path in paths.rows),
    )
    return Block("paths", "Patient paths", [table])


BLOCKS = {"access": "Access", "safety": "Safety", "coordination": "Coordination", "paths": "Patient paths"}


def block_of(slug: str, cohort: Cohort) -> Block:
    """One block (`access`, `safety`, `coordination`) of `cohort`: its queries only."""
    if slug not in BLOCKS:
        raise KeyError(slug)
    with without_jit():
        if slug == "access":
            return access_block(access_figures(cohort), criterion_to_referral(cohort))
        if slug == "safety":
            return safety_block(safety_figures(cohort))
        if slug == "paths":
            return paths_block(patient_paths(cohort))
        return coordination_block(coordination_figures(cohort))


def every_block(cohort: Cohort) -> list[Block]:
    return [block_of(slug, cohort) for slug in BLOCKS]


def table_of(slug: str, cohort: Cohort) -> Table:
    """The table `slug` ("access-times"), computing only its block; KeyError if none."""
    block, _, _ = slug.partition("-")
    if block not in BLOCKS:
        raise KeyError(slug)
    found = [t for t in block_of(block, cohort).tables if t.slug == slug]
    if not found:
        raise KeyError(slug)
    return found[0]
