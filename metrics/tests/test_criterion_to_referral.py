"""From meeting a CAR-T criterion to referral, per practice, against a count by hand on the
`program` (metrics/tests/conftest.py: six LBCL referrals from Riverbend Oncology in the first
half of 2026) given treatment histories, and a myeloma patient of a second practice, in
another time zone; in a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import TherapyLine, TransplantCandidacy
from candidates.standings import refresh_standings
from carecoord.models import Patient, Site, User
from carecoord.roles import Role
from metrics.criterion_to_referral import ALL_PRACTICES, criterion_to_referral, percentile
from metrics.report import report_html
from metrics.tables import table_of
from metrics.tests.conftest import NOW, Program, _referral
from referrals.models import Referral
from tests.factories import SiteFactory, member, patient_at
from tests.helpers import login

pytestmark = pytest.mark.django_db

PERIOD = "start=2026-01-01&end=2026-06-30"

CHEMO = ["chemoimmunotherapy"]


def _line(patient: Patient, site: Site, actor: User, number: int, started: str, **fields: Any) -> TherapyLine:
    return TherapyLine.objects.create(
        patient=patient,
        number=number,
        regimen=fields.pop("regimen", "R-CHOP"),
        drug_classes=fields.pop("drug_classes", CHEMO),
        started_on=dt.date.fromisoformat(started),
        site=site,
        recorded_by=actor,
        **{key: dt.date.fromisoformat(value) if key.endswith("_on") else value for key, value in fields.items()},
    )


@pytest.fixture
def histories(program: Program) -> dict[str, Any]:
    """Referrals submitted (Chicago) p1 2 Feb, p2 3 Feb, p3 2 Mar, p4 3 Mar, p5 1 Apr, p6 6 Apr.

    - p1: relapse 15 Dec 2025 within 12 months of the first line's end: met then, 49 days.
    - p2: refractory to the first line, known at its progression 20 Jul 2025: 198 days.
    - p3: a second line started 15 Jan 2026 (two lines): 46 days; referred again 1 May (once).
    - p4: on a first line, neither refractory nor relapsed: referred early.
    - p5: relapse 20 Mar 2026, 22 months after the first line (too late for the 12-month use);
      recorded not a transplant candidate on 25 Mar: the Breyanzi use met then, 7 days.
    - p6: no line recorded.
    - p7, at Hillcrest (Los Angeles): lenalidomide-refractory at progression on 10 Apr 2026,
      referred at 22:00 on 4 May in Los Angeles (5 May in Chicago): 24 days.
    """
    w = program.world
    p1, p2, p3, p4, p5, _ = program.patients
    practice, actor = w.practice, w.community_coordinator
    _line(p1, practice, actor, 1, "2025-06-01", ended_on="2025-10-01", progressed_on="2025-12-15")
    _line(p2, practice, actor, 1, "2025-03-01", ended_on="2025-07-01", progressed_on="2025-07-20", refractory=True)
    _line(p3, practice, actor, 1, "2025-01-10", ended_on="2025-05-01")
    _line(p3, practice, actor, 2, "2026-01-15", regimen="R-GemOx")
    _referral(w, p3, None, "05-01", state="withdrawn")
    _line(p4, practice, actor, 1, "2025-09-01")
    _line(p5, practice, actor, 1, "2024-01-01", ended_on="2024-05-01", progressed_on="2026-03-20")
    TransplantCandidacy.objects.create(patient=p5, status="no", reason="Comorbidity", site=practice, recorded_by=actor)
    TransplantCandidacy.objects.filter(patient=p5).update(updated_at=dt.datetime(2026, 3, 25, 15, tzinfo=dt.UTC))
    refresh_standings([p5.pk])  # the candidacy's day, written past its save

    hillcrest = SiteFactory.create(name="Hillcrest Oncology", time_zone="America/Los_Angeles")
    doctor = member(hillcrest, Role.PHYSICIAN, email="doctor@hillcrest.test", full_name="Hal Hill")
    p7 = patient_at(hillcrest, doctor, shared_with=w.center, disease_area="multiple_myeloma")
    _line(
        p7,
        hillcrest,
        doctor,
        1,
        "2025-01-06",
        regimen="VRd",
        drug_classes=["pi", "imid"],
        lenalidomide=True,
        refractory=True,
        progressed_on="2026-04-10",
    )
    Referral.objects.create(
        patient=p7,
        from_site=hillcrest,
        to_center=w.center,
        referring_physician=doctor,
        created_by=doctor,
        disease_area="multiple_myeloma",
        prior_lines_of_therapy=1,
        performance_status=1,
        reason="Lenalidomide-refractory",
        state="submitted",
        submitted_at=dt.datetime(2026, 5, 5, 5, tzinfo=dt.UTC),
    )
    return {"hillcrest": hillcrest, "p7": p7}


def test_percentile_reads_as_postgresqls_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5], 0.9) == 5
    assert percentile([198, 7, 49, 46], 0.5) == 47.5
    assert percentile([7, 46, 49, 198], 0.9) == pytest.approx(153.3)


def test_the_days_from_meeting_a_criterion_to_referral_match_the_hand_count(
    program: Program, histories: dict[str, Any]
) -> None:
    rows = criterion_to_referral(program.cohort(program.world.center_coordinator))
    found = [
        (r.practice, r.referred, r.met_first, r.median, r.p90 and round(r.p90, 2), r.early, r.no_history) for r in rows
    ]
    assert found == [
        ("Hillcrest Oncology", 1, 1, 24, 24, 0, 0),
        # 7, 46, 49, 198: the median (46 + 49) / 2; the 90th percentile 49 + 0.7 x 149.
        ("Riverbend Oncology", 6, 4, 47.5, 153.3, 1, 1),
        # 7, 24, 46, 49, 198: the median 46; the 90th percentile 49 + 0.6 x 149.
        (ALL_PRACTICES, 7, 5, 46, 138.4, 1, 1),
    ]


def test_the_table_writes_small_numbers_as_the_page_does(program: Program, histories: dict[str, Any]) -> None:
    table = table_of("access-criterion-to-referral", program.cohort(program.world.center_coordinator))
    assert table.rows == [
        ["Hillcrest Oncology", "<5", "<5", "<5", "<5", "0", "0"],
        ["Riverbend Oncology", "6", "<5", "<5", "<5", "<5", "<5"],
        [ALL_PRACTICES, "7", "5", "46 days", "138.4 days", "<5", "<5"],
    ]


def test_each_sees_the_practices_of_their_own_patients(program: Program, histories: dict[str, Any]) -> None:
    w = program.world
    riverbend = criterion_to_referral(program.cohort(w.community_coordinator))
    assert [row.practice for row in riverbend] == ["Riverbend Oncology"]
    assert criterion_to_referral(program.cohort(w.outsider)) == []
    narrowed = criterion_to_referral(program.cohort(w.center_coordinator, partner_id=histories["hillcrest"].pk))
    assert [row.practice for row in narrowed] == ["Hillcrest Oncology"]


def _queries(program: Program) -> int:
    cohort = program.cohort(program.world.center_coordinator)
    with CaptureQueriesContext(connection) as captured:
        criterion_to_referral(cohort)
    return len(captured.captured_queries)


def test_the_queries_do_not_grow_with_patients(program: Program, histories: dict[str, Any]) -> None:
    before = _queries(program)
    assert before == 1  # the referrals, with their patients' standings
    w = program.world
    for index in range(5):
        patient = patient_at(w.practice, w.community_coordinator, shared_with=w.center)
        _line(patient, w.practice, w.community_coordinator, 1, "2025-01-01", ended_on="2025-04-01")
        _line(patient, w.practice, w.community_coordinator, 2, "2025-11-0" + str(index + 1), refractory=True)
        TransplantCandidacy.objects.create(
            patient=patient, status="no", site=w.practice, recorded_by=w.center_coordinator
        )
        _referral(w, patient, None, f"02-1{index}", state="submitted")
    assert _queries(program) == before
    assert criterion_to_referral(program.cohort(w.center_coordinator))[1].referred == 11


@time_machine.travel(NOW, tick=False)
def test_the_page_csv_and_report_carry_the_table(client: Client, program: Program, histories: dict[str, Any]) -> None:
    login(client, program.world.center_coordinator)
    html = client.get(f"{reverse('metrics')}?{PERIOD}").content.decode()
    assert "From meeting a CAR-T criterion to referral, by practice" in html
    assert "<td>46 days</td><td>138.4 days</td>" in html
    response: Any = client.get(f"{reverse('metrics-export')}?{PERIOD}&table=access-criterion-to-referral")
    body = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(body)))[-1] == [ALL_PRACTICES, "7", "5", "46 days", "138.4 days", "<5", "<5"]
    report = report_html(program.world.center, "2026Q2", NOW)
    assert "From meeting a CAR-T criterion to referral, by practice" in report
