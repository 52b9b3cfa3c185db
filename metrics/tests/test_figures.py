"""Every figure of the three blocks against the values counted by hand on `program`
(metrics/tests/conftest.py), who sees them, and their fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carecoord.models import CareTeamLink, DeathCause, Product
from carecoord.services.care_teams import care_team_join
from metrics.access import access_figures
from metrics.coordination import coordination_figures
from metrics.figures import Span, Tally
from metrics.safety import safety_figures
from metrics.sql import without_jit
from metrics.tests.conftest import Program, _event, _referral, _step
from tests.factories import death_on_file, patient_at
from toxicity.models import ToxicityEvent

pytestmark = pytest.mark.django_db


def _span(span: Span) -> tuple[int, float | None, float | None]:
    return (
        span.n,
        None if span.median is None else round(span.median, 2),
        None if span.p90 is None else round(span.p90, 2),
    )


def _counts(tallies: list[Tally]) -> dict[str, int]:
    return {t.label: t.count for t in tallies}


def test_access_figures_match_the_hand_count(program: Program) -> None:
    figures = access_figures(program.cohort(program.world.center_coordinator))

    assert figures.referred == 6
    spans = {s.label: _span(s) for s in figures.spans}
    # Hours to acknowledge: 2, 4, 30, 1, 6 (the sixth waits): median 4, p90 6 + 0.6 * 24.
    assert spans["Referral submitted → acknowledged"] == (5, 4.0, 20.4)
    assert spans["Referral submitted → consult"] == (4, 7.0, 9.1)
    assert spans["Referral submitted → accepted or declined"] == (4, 10.0, 12.8)
    assert spans["Referral submitted → apheresis"] == (3, 30.0, 34.0)
    assert spans["Apheresis → product release"] == (3, 21.0, 21.8)
    assert spans["Apheresis → infusion (vein-to-vein)"] == (3, 30.0, 30.8)
    assert spans["Referral submitted → infusion"] == (3, 60.0, 64.8)
    # Within the deadline: 4 of the 6 known (the sixth is past its deadline unacknowledged).
    assert (figures.acknowledged_in_time, figures.acknowledgement_known) == (4, 6)
    assert [t.count for t in figures.funnel] == [6, 5, 4, 3, 3, 3]
    assert _counts(figures.decisions) == {"Accepted": 3, "Declined": 1}
    assert _counts(figures.decline_reasons) == {"Other reasons": 1}
    assert [t.count for t in figures.not_treated] == [1, 1, 1, 0]
    assert _counts(figures.to_infusion) == {
        "under 30 days": 0,
        "30-44 days": 0,
        "45-59 days": 1,
        "60-89 days": 2,
        "90 days or more": 0,
    }
    months = {m.label: m.counts for m in figures.months}
    assert list(months) == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"]
    assert months["Feb 2026"] == {"Referred": 2, "Accepted": 2}
    assert months["Mar 2026"] == {"Referred": 2, "Accepted": 1}
    assert months["Apr 2026"] == {"Referred": 2, "Accepted": 0}


def test_a_reason_given_five_times_is_named(program: Program) -> None:
    w = program.world
    for _ in range(5):
        patient = patient_at(w.practice, w.community_coordinator, shared_with=w.center)
        _referral(w, patient, None, "05-04", state="declined", decline_reason=" Performance status  ")
    reasons = access_figures(program.cohort(w.center_coordinator)).decline_reasons
    assert _counts(reasons) == {"Performance status": 5, "Other reasons": 1}


def test_safety_figures_match_the_hand_count(program: Program) -> None:
    figures = safety_figures(program.cohort(program.world.center_coordinator))

    assert figures.infused == 3
    crs = {r.product: (r.courses, r.by_grade) for r in figures.crs}
    assert crs["Yescarta"] == (2, {0: 0, 1: 1, 2: 1, 3: 0, 4: 0, 5: 0})
    assert crs["Breyanzi"] == (1, {0: 1, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0})
    assert crs["All products"] == (3, {0: 1, 1: 1, 2: 1, 3: 0, 4: 0, 5: 0})
    icans = {r.product: r.by_grade for r in figures.icans}
    assert icans["Yescarta"] == {0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0}
    # The CRS before day 0 is not counted; the one on day +16 is atypical.
    assert _counts(figures.onset["CRS"]) == {
        "day 0-3": 1,
        "day 4-7": 0,
        "day 8-14": 0,
        "day 15-28": 1,
        "after day 28": 0,
    }
    assert _counts(figures.onset["ICANS"])["day 4-7"] == 1
    assert figures.late[0].count == 1
    assert _counts(figures.treatments) == {"Tocilizumab given": 1, "Corticosteroids given": 1, "ICU stay": 2}
    assert [t.count for t in figures.infections] == [1, 1, 0, 0]
    assert [t.count for t in figures.severe_infections] == [1, 1, 0, 0]
    assert _counts(figures.deaths) == {"Infection": 1, "All deaths": 1, "Non-relapse deaths": 1}
    april = next(m for m in figures.months if m.label == "Apr 2026")
    assert april.counts == {"Infused": 3, "Severe CRS or ICANS": 1}


def test_coordination_figures_match_the_hand_count(program: Program) -> None:
    figures = coordination_figures(program.cohort(program.world.center_coordinator))

    assert figures.alerts == 5
    # Hours: 1/3, 2, 24 at the center, 5 at the practice; one never acknowledged.
    assert _span(figures.alert_acknowledgement) == (4, 3.5, 18.3)
    assert figures.alerts_escalated == 1
    assert _counts(figures.acknowledgement_bins) == {
        "within 30 minutes": 1,
        "30 minutes to 4 hours": 1,
        "4 to 24 hours": 1,
        "after a day": 1,
        "not acknowledged": 1,
    }
    assert (figures.handoffs, figures.handoffs_with_questions) == (2, 1)
    assert _span(figures.handoff_acknowledgement) == (2, 13.0, 21.8)
    assert _counts(figures.overdue) == {
        "Preparation (consult to bridging)": 1,
        "Follow-up visits": 1,
        "CIBMTR forms": 1,
        "Treatment and monitoring": 0,
    }
    assert (figures.visits_due, figures.visits_on_time) == (3, 1)
    assert (figures.forms_due, figures.forms_on_time) == (1, 1)
    assert _span(figures.hand_back) == (2, 24.5, 27.3)
    # The center's viewer works at the center only, where no digest was built.
    assert (figures.digests_built, figures.digests_delivered) == (0, 0)
    months = {m.label: m.counts for m in figures.months}
    assert months["Apr 2026"] == {"Alerts": 4, "Escalated": 1}
    assert months["Jun 2026"] == {"Alerts": 1, "Escalated": 0}


def test_a_site_counts_the_alerts_and_hand_offs_it_received(program: Program) -> None:
    w = program.world
    center = coordination_figures(program.cohort(w.center_coordinator, site_id=w.center.pk))
    assert center.alerts == 4
    assert _span(center.alert_acknowledgement)[0] == 3
    assert center.handoffs == 0
    practice = coordination_figures(program.cohort(w.community_coordinator, site_id=w.practice.pk))
    assert (practice.alerts, practice.handoffs) == (1, 2)
    assert (practice.digests_built, practice.digests_delivered) == (2, 1)


def test_the_practice_sees_the_same_patients_and_the_outsider_none(program: Program) -> None:
    w = program.world
    assert access_figures(program.cohort(w.community_coordinator)).referred == 6
    outsider = program.cohort(w.outsider)
    assert access_figures(outsider).referred == 0
    assert safety_figures(outsider).infused == 0
    assert coordination_figures(outsider).alerts == 0


def test_another_practice_patients_are_not_counted(program: Program) -> None:
    """The outsider's practice refers its own patient to the same center: the center counts
    it, Riverbend does not, and the outsider sees only its own."""
    w = program.world
    foreign = w.foreign_patient
    care_team_join(actor=w.outsider, patient=foreign, site=w.center, capacity=CareTeamLink.Capacity.TREATING_CENTER)
    referral = _referral(w, foreign, None, "05-05", state="submitted")
    type(referral).objects.filter(pk=referral.pk).update(from_site=w.unrelated_practice)

    assert access_figures(program.cohort(w.center_coordinator)).referred == 7
    assert access_figures(program.cohort(w.community_coordinator)).referred == 6
    assert access_figures(program.cohort(w.outsider)).referred == 1
    # Narrowed to Riverbend as partner, the center counts Riverbend's patients only.
    assert access_figures(program.cohort(w.center_coordinator, partner_id=w.practice.pk)).referred == 6
    # A site the viewer does not work at narrows to nothing.
    assert access_figures(program.cohort(w.community_coordinator, site_id=w.center.pk)).referred == 0


def test_a_product_narrows_every_block(program: Program) -> None:
    yescarta = Product.objects.get(brand_name="Yescarta").pk
    cohort = program.cohort(program.world.center_coordinator, product_id=yescarta)
    assert access_figures(cohort).referred == 2
    safety = safety_figures(cohort)
    assert safety.infused == 2
    assert [r.product for r in safety.crs] == ["Yescarta"]
    # p3 (Breyanzi) drops out: its alert and its fatal infection go with it.
    assert coordination_figures(cohort).alerts == 4
    assert safety.deaths == []


def _queries(program: Program) -> int:
    cohort = program.cohort(program.world.center_coordinator)
    with CaptureQueriesContext(connection) as captured:
        access_figures(cohort)
        safety_figures(cohort)
        coordination_figures(cohort)
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_patients(program: Program) -> None:
    before = _queries(program)
    w = program.world
    for index in range(4):
        patient = patient_at(w.practice, w.community_coordinator, shared_with=w.center)
        referral = _referral(w, patient, "Breyanzi", f"02-1{index}", state="accepted")
        _step(referral, "apheresis", "03-01", "03-01")
        _step(referral, "infusion", "04-01", "04-01")
        _event(w, patient, "crs", "04-03", 2)
    assert _queries(program) == before


def _jit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        row = cursor.fetchone()
        return str(row[0]) if row else ""


def test_the_blocks_are_planned_without_jit_and_the_setting_does_not_leak() -> None:
    before = _jit()
    with without_jit():
        assert _jit() == "off"
    assert _jit() == before


def test_a_recorded_death_counts_its_patient_once_by_its_cause(program: Program) -> None:
    w = program.world
    p1, _p2, p3, p4 = program.patients[:4]
    # p1 died of relapse; p3's death from the fatal infection is recorded as well (counted once,
    # by the record's cause); p4 was never infused: not in the cohort.
    for patient, cause, day in ((p1, DeathCause.RELAPSE, 7), (p3, DeathCause.INFECTION, 21), (p4, "other", 1)):
        death_on_file(patient, w.center, w.center_coordinator, dt.date(2026, 7, day), cause)
    figures = safety_figures(program.cohort(w.center_coordinator))
    assert _counts(figures.deaths) == {
        "Relapse or progression of the disease": 1,
        "Infection": 1,
        "All deaths": 2,
        "Non-relapse deaths": 1,
    }


def test_a_patient_with_two_fatal_toxicities_and_no_death_recorded_counts_once(program: Program) -> None:
    w = program.world
    p3 = program.patients[2]  # a fatal infection on 20 Jun already
    _event(w, p3, "crs", "06-25", 5, outcome=ToxicityEvent.Outcome.FATAL)
    figures = safety_figures(program.cohort(w.center_coordinator))
    assert _counts(figures.deaths) == {"Infection": 1, "All deaths": 1, "Non-relapse deaths": 1}
