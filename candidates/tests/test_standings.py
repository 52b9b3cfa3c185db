"""The cached candidate standings the dashboard reads: rewritten with every write the matching
reads (a line, the transplant candidacy, the patient's details, a rule), and by the hourly beat
task, through a real worker, as days pass; read in one query whatever the number of histories."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStanding, IndicationRule
from candidates.services import transplant_candidacy_record
from candidates.standings import refresh_every_standing, refresh_standings
from candidates.tasks import refresh_candidate_standings
from carecoord.models import Patient
from carecoord.services.patients import patient_update
from tests.factories import first_line_vrd, patient_at
from tests.helpers import World, wait_for
from tests.worker import running_worker


def _line(world: World, patient: Patient, number: int = 1, **fields: Any) -> None:
    first_line_vrd(patient, world.community_coordinator, world.practice, number=number, **fields)


def _second_line(world: World, patient: Patient, **fields: Any) -> None:
    """Daratumumab with pomalidomide and dexamethasone from 4 August 2025: triple-class exposed."""
    _line(
        world, patient, 2, regimen="DPd", drug_classes=["anti_cd38", "imid"], started_on=dt.date(2025, 8, 4), **fields
    )


def _standing(patient: Patient) -> tuple[str, list[str]] | None:
    row = CandidateStanding.objects.filter(patient=patient).values_list("standing", "products").first()
    return (row[0], row[1]) if row and row[0] else None


def _myeloma(world: World, **fields: Any) -> Patient:
    return patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, disease_area="multiple_myeloma", **fields
    )


def _b_all(world: World, born_on: dt.date) -> Patient:
    """A B-ALL patient in second relapse: Kymriah up to 25 years of age, Tecartus and Aucatzyl from 18."""
    patient = patient_at(
        world.practice, world.community_coordinator, disease_area="b_all", date_of_birth=born_on, family_name="Allson"
    )
    _line(
        world,
        patient,
        1,
        regimen="Hyper-CVAD",
        drug_classes=["other"],
        lenalidomide=False,
        started_on=dt.date(2024, 1, 8),
        ended_on=dt.date(2024, 6, 1),
        progressed_on=dt.date(2024, 9, 2),
    )
    _line(
        world,
        patient,
        2,
        regimen="Blinatumomab",
        drug_classes=["other"],
        lenalidomide=False,
        started_on=dt.date(2024, 9, 16),
        ended_on=dt.date(2025, 1, 10),
        progressed_on=dt.date(2025, 6, 2),
    )
    return patient


@pytest.mark.django_db
def test_the_standing_follows_every_write_the_matching_reads(world: World) -> None:
    patient = _myeloma(world)
    assert _standing(patient) is None
    _line(world, patient)  # one line with lenalidomide, not refractory: one relapse from Carvykti
    assert _standing(patient) == ("approaching", ["Carvykti", "Abecma"])
    patient_update(actor=world.community_coordinator, patient=patient, disease_area="lbcl")
    # Read as a lymphoma history: one relapse from the second-line uses.
    assert _standing(patient) == ("approaching", ["Yescarta", "Kymriah", "Breyanzi"])
    patient_update(actor=world.community_coordinator, patient=patient, disease_area="multiple_myeloma")
    assert _standing(patient) == ("approaching", ["Carvykti", "Abecma"])
    _second_line(world, patient, refractory=True)
    assert _standing(patient) == ("meets", ["Carvykti", "Abecma"])
    transplant_candidacy_record(actor=world.community_coordinator, patient=patient, site=world.practice, status="no")
    assert _standing(patient) == ("meets", ["Carvykti", "Abecma"])  # never counts against
    for rule in IndicationRule.objects.filter(disease_area="multiple_myeloma"):
        rule.is_active = False
        rule.save()  # as the admin saves it
    assert _standing(patient) is None
    patient.therapy_lines.all().delete()  # a line removed (each delete rewrites the standing)
    assert not CandidateStanding.objects.exists()  # no history, no row


@pytest.mark.django_db
def test_the_first_met_day_is_kept_with_the_standing_and_the_hourly_pass_keeps_it(world: World) -> None:
    patient = _myeloma(world)
    _line(world, patient, ended_on=dt.date(2025, 6, 30))
    assert CandidateStanding.objects.get(patient=patient).first_met_on is None  # approaching only
    _second_line(world, patient, ended_on=dt.date(2026, 2, 2), progressed_on=dt.date(2026, 3, 9), refractory=True)
    standing = CandidateStanding.objects.get(patient=patient)
    # Triple-class exposed (PI, IMiD, anti-CD38) as line 2 started: Abecma's two prior lines.
    assert standing.standing == "meets" and standing.first_met_on == dt.date(2025, 8, 4)
    CandidateStanding.objects.filter(patient=patient).update(first_met_on=dt.date(2025, 8, 5))
    refresh_every_standing(kept_first_met=True)  # the hourly pass: a day found is kept
    assert CandidateStanding.objects.get(patient=patient).first_met_on == dt.date(2025, 8, 5)
    refresh_every_standing()  # a rule changed: found again
    assert CandidateStanding.objects.get(patient=patient).first_met_on == dt.date(2025, 8, 4)


@pytest.mark.django_db
def test_days_passing_change_the_standing_when_refreshed(world: World) -> None:
    """A 25-year-old in second relapse meets Kymriah, Tecartus and Aucatzyl; at 26, not Kymriah."""
    today = world.practice.today()
    patient = _b_all(world, born_on=today.replace(year=today.year - 26) + dt.timedelta(days=3))
    assert _standing(patient) == ("meets", ["Kymriah", "Tecartus", "Aucatzyl"])
    refresh_every_standing(now=timezone.now() + dt.timedelta(days=4))
    assert _standing(patient) == ("meets", ["Tecartus", "Aucatzyl"])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_hourly_task_moves_stale_standings_on_through_a_real_worker(world: World, tmp_path: Path) -> None:
    today = world.practice.today()
    patient = _b_all(world, born_on=today.replace(year=today.year - 26) - dt.timedelta(days=2))
    refresh_standings([patient.pk], now=timezone.now() - dt.timedelta(days=7))  # as last assessed a week ago, at 25
    assert _standing(patient) == ("meets", ["Kymriah", "Tecartus", "Aucatzyl"])
    with running_worker(tmp_path / "worker.log"):
        refresh_candidate_standings.delay()
        wait_for(
            lambda: _standing(patient) == ("meets", ["Tecartus", "Aucatzyl"]),
            timeout=60,
            describe=lambda: (tmp_path / "worker.log").read_text(),
        )
    assert CandidateStanding.objects.get(patient=patient).as_of == today


@pytest.mark.django_db
def test_the_filter_and_badges_read_the_standings_not_the_histories(
    community_coordinator_client: Client, world: World
) -> None:
    """The standings are read as a subquery of the count and of the page, then once for the
    page's badges; the histories and rules are not read at all."""
    for _ in range(3):
        _line(world, _myeloma(world))
    with CaptureQueriesContext(connection) as queries:
        response = community_coordinator_client.get(reverse("dashboard"), {"candidates": "approaching"})
    assert len(response.context["rows"]) == 3
    assert all(row.candidate == "approaching" for row in response.context["rows"])
    read = [query["sql"] for query in queries.captured_queries]
    assert not [sql for sql in read if "candidates_therapyline" in sql or "candidates_indicationrule" in sql]
    assert len([sql for sql in read if "candidates_candidatestanding" in sql]) == 3


@pytest.mark.django_db
def test_a_patient_without_history_costs_two_queries_when_saved_or_referred(world: World) -> None:
    """Every patient save and referral submitted asks; most patients have no history."""
    patient = _myeloma(world)
    with CaptureQueriesContext(connection) as queries:
        assert refresh_standings([patient.pk]) == 0
    assert len(queries) == 2  # their lines' days, and the delete of a row left from a removed history
