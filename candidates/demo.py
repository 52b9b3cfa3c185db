"""Demonstration treatment histories: patients of Prairie View Oncology not referred yet, whose
history makes them CAR-T candidates, or one step from being one, so that its coordinator sees
them in the dashboard's "CAR-T candidates" filter with their reasons and starts a referral.

Dates are counted back from today, so each patient stays where the demo means them to be (the
12 months after a first line keep running). Seeding twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from candidates.models import TherapyLine
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord.demo import registered_patient
from carecoord.models import Site, User

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
