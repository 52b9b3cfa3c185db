"""Demonstration treatment histories: patients of Prairie View Oncology not referred yet, whose
history makes them CAR-T candidates, or one step from being one, so that its coordinator sees
them in the dashboard's "CAR-T candidates" filter with their reasons and starts a referral.

Dates are counted back from today, so each patient stays where the demo means them to be (the
12 months after a first line keep running). Seeding twice changes nothing.

The patients the stories referred get a history too (`seed_referred_histories`), dated back from
their referral, so that the metrics measure how long after meeting a criterion each practice
referred (most met one weeks to months before; every fourth was referred early).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

from candidates.models import TherapyLine
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord import demo
from carecoord.demo import registered_patient
from carecoord.models import Site, User
from referrals.models import Referral

PRACTICE = "prairieview"


@dataclass(frozen=True)
class DemoLine:
    regimen: str
    classes: tuple[str, ...]
    started_days_ago: int
    ended_days_ago: int | None = None
    lenalidomide: bool = False
    best_response: str = "not_assessed"
    refractory: bool = False
    progressed_days_ago: int | None = None


@dataclass(frozen=True)
class DemoCandidate:
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    disease_area: str
    lines: tuple[DemoLine, ...]
    transplant: str = ""
    transplant_reason: str = ""
    shows: str = field(default="", compare=False)  # what the demo means it to show


VRD = ("VRd (bortezomib, lenalidomide, dexamethasone)", ("pi", "imid"))

PATIENTS: tuple[DemoCandidate, ...] = (
    DemoCandidate(
        mrn="PVO-20001",
        given_name="Mara",
        family_name="Earlyton",
        date_of_birth=dt.date(1958, 3, 14),
        sex="female",
        disease_area="multiple_myeloma",
        lines=(DemoLine(*VRD, started_days_ago=300, lenalidomide=True, best_response="very_good_partial"),),
        transplant="no",
        transplant_reason="Age and comorbidity",
        shows="myeloma on a first line with lenalidomide: one step from Carvykti",
    ),
    DemoCandidate(
        mrn="PVO-20002",
        given_name="Otis",
        family_name="Candidson",
        date_of_birth=dt.date(1961, 9, 2),
        sex="male",
        disease_area="multiple_myeloma",
        lines=(
            DemoLine(
                *VRD,
                started_days_ago=540,
                ended_days_ago=60,
                lenalidomide=True,
                best_response="partial",
                refractory=True,
                progressed_days_ago=60,
            ),
        ),
        shows="lenalidomide-refractory after one line: meets Carvykti",
    ),
    DemoCandidate(
        mrn="PVO-20003",
        given_name="Lena",
        family_name="Sampleford",
        date_of_birth=dt.date(1966, 11, 20),
        sex="female",
        disease_area="lbcl",
        lines=(DemoLine("R-CHOP x6", ("chemoimmunotherapy",), started_days_ago=250, ended_days_ago=120),),
        shows="LBCL after first-line R-CHOP, within 12 months: a relapse would qualify",
    ),
    DemoCandidate(
        mrn="PVO-20004",
        given_name="Hugo",
        family_name="Refractson",
        date_of_birth=dt.date(1954, 6, 8),
        sex="male",
        disease_area="lbcl",
        lines=(
            DemoLine(
                "Pola-R-CHP",
                ("chemoimmunotherapy",),
                started_days_ago=200,
                ended_days_ago=80,
                best_response="progressive",
                refractory=True,
                progressed_days_ago=85,
            ),
        ),
        transplant="no",
        transplant_reason="Age",
        shows="LBCL refractory to first-line chemoimmunotherapy: meets Yescarta and Breyanzi",
    ),
    DemoCandidate(
        mrn="PVO-20005",
        given_name="Vera",
        family_name="Bispecton",
        date_of_birth=dt.date(1956, 1, 27),
        sex="female",
        disease_area="multiple_myeloma",
        lines=(
            DemoLine(
                *VRD,
                started_days_ago=900,
                ended_days_ago=420,
                lenalidomide=True,
                refractory=True,
                progressed_days_ago=420,
            ),
            DemoLine(
                "Teclistamab",
                ("bcma_bispecific",),
                started_days_ago=400,
                ended_days_ago=90,
                best_response="partial",
                progressed_days_ago=90,
            ),
        ),
        shows="meets Carvykti, with prior BCMA-directed therapy shown for the center",
    ),
)


def _days_ago(today: dt.date, days: int | None) -> dt.date | None:
    return None if days is None else today - dt.timedelta(days=days)


def seed_candidates(coordinators: dict[int, User], nurses: dict[int, User], sites: dict[str, Site]) -> int:
    """Register the demo candidates at Prairie View (by its coordinator, with its nurse and
    coordinator as point persons, as every demo patient) and record their lines. Returns how
    many lines were recorded (none on a second run)."""
    practice = sites[PRACTICE]
    coordinator = coordinators[practice.pk]
    point_persons = {"primary": nurses[practice.pk], "backup": coordinator}
    today = practice.today()
    recorded = 0
    for spec in PATIENTS:
        patient, _ = registered_patient(
            actor=coordinator,
            site=practice,
            mrn=spec.mrn,
            given_name=spec.given_name,
            family_name=spec.family_name,
            date_of_birth=spec.date_of_birth,
            sex=spec.sex,
            disease_area=spec.disease_area,
            point_persons=point_persons,
        )
        if TherapyLine.objects.filter(patient=patient).exists():
            continue
        for number, line in enumerate(spec.lines, start=1):
            values: dict[str, Any] = {
                "regimen": line.regimen,
                "drug_classes": list(line.classes),
                "started_on": _days_ago(today, line.started_days_ago),
                "ended_on": _days_ago(today, line.ended_days_ago),
                "lenalidomide": line.lenalidomide,
                "best_response": line.best_response,
                "refractory": line.refractory,
                "progressed_on": _days_ago(today, line.progressed_days_ago),
            }
            therapy_line_record(actor=coordinator, patient=patient, site=practice, number=number, **values)
            recorded += 1
        if spec.transplant:
            transplant_candidacy_record(
                actor=coordinator, patient=patient, site=practice, status=spec.transplant, reason=spec.transplant_reason
            )
    return recorded


# Days from first meeting a criterion to the referral, patient after patient; every fourth
# referred patient was referred early (one step from a criterion, not yet meeting one).
MET_DAYS_BEFORE = (9, 21, 40, 75, 130, 16, 55, 210, 33)
EARLY_EVERY = 4


def _met_history(disease_area: str, met: dt.date) -> list[dict[str, Any]]:
    """Lines whose history first meets a labelled use of `disease_area` on `met` (none for a
    disease without one: marginal zone lymphoma is then referred early)."""

    def day(days: int) -> dt.date:
        return met - dt.timedelta(days=days)

    chemo = ["chemoimmunotherapy"]
    if disease_area == "lbcl":  # relapse within 12 months of first-line chemoimmunotherapy
        return [
            {
                "regimen": "R-CHOP x6",
                "drug_classes": chemo,
                "started_on": day(240),
                "ended_on": day(90),
                "progressed_on": met,
            }
        ]
    if disease_area == "multiple_myeloma":  # lenalidomide-refractory
        vrd = {"regimen": VRD[0], "drug_classes": list(VRD[1]), "lenalidomide": True}
        return [vrd | {"started_on": day(500), "refractory": True, "progressed_on": met}]
    if disease_area == "b_all":  # refractory
        return [
            {
                "regimen": "Hyper-CVAD",
                "drug_classes": ["other"],
                "started_on": day(200),
                "refractory": True,
                "progressed_on": met,
            }
        ]
    if disease_area in ("mcl", "mzl"):  # relapsed (mantle cell lymphoma)
        return [
            {
                "regimen": "BR (bendamustine, rituximab)",
                "drug_classes": chemo,
                "started_on": day(500),
                "ended_on": day(330),
                "progressed_on": met,
            }
        ]
    if disease_area == "cll_sll":  # a second line, with a BTK and a BCL-2 inhibitor received
        return [
            {
                "regimen": "Ibrutinib",
                "drug_classes": ["btk_inhibitor"],
                "started_on": day(900),
                "ended_on": day(30),
                "progressed_on": day(30),
            },
            {"regimen": "Venetoclax, obinutuzumab", "drug_classes": ["bcl2_inhibitor"], "started_on": met},
        ]
    # Follicular lymphoma and the rest: a second line.
    return [
        {
            "regimen": "BR (bendamustine, rituximab)",
            "drug_classes": chemo,
            "started_on": day(800),
            "ended_on": day(640),
            "progressed_on": day(20),
        },
        {"regimen": "R2 (lenalidomide, rituximab)", "drug_classes": ["imid"], "started_on": met, "lenalidomide": True},
    ]


def _early_history(disease_area: str, submitted: dt.date) -> list[dict[str, Any]]:
    """A first line going on at the referral, neither refractory nor relapsed: one step from a
    criterion at most."""
    first = _met_history(disease_area, submitted)[0]
    started = {"started_on": submitted - dt.timedelta(days=120)}
    return [
        {key: value for key, value in first.items() if key in ("regimen", "drug_classes", "lenalidomide")} | started
    ]


def seed_referred_histories(coordinators: dict[int, User]) -> int:
    """Record, by the practice's coordinator, the history of each demo patient a story referred
    (`carecoord.demo.PATIENTS` with a submitted referral), dated back from the day of its first
    submission at the practice. Returns how many lines were recorded (none on a second run)."""
    recorded = 0
    referrals = (
        Referral.objects.filter(
            submitted_at__isnull=False,
            patient__identifiers__mrn__in=[spec.mrn for spec in demo.PATIENTS],
            patient__identifiers__site=F("from_site"),
        )
        .select_related("patient", "from_site")
        .order_by("patient__identifiers__mrn", "submitted_at")
    )
    seen: set[object] = set()
    for referral in referrals:
        patient = referral.patient
        if patient.pk in seen or referral.submitted_at is None:
            continue
        seen.add(patient.pk)
        n = len(seen) - 1
        if TherapyLine.objects.filter(patient=patient).exists():
            continue
        practice = referral.from_site
        submitted = referral.submitted_at.astimezone(practice.zone).date()
        if n % EARLY_EVERY == EARLY_EVERY - 1:
            lines = _early_history(patient.disease_area, submitted)
        else:
            lines = _met_history(
                patient.disease_area, submitted - dt.timedelta(days=MET_DAYS_BEFORE[n % len(MET_DAYS_BEFORE)])
            )
        for number, values in enumerate(lines, start=1):
            therapy_line_record(
                actor=coordinators[practice.pk], patient=patient, site=practice, number=number, **values
            )
            recorded += 1
    return recorded
