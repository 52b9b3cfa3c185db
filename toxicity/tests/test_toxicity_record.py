"""The record behind a grade: treatments mask fever, children are graded with the CAPD, the
timing follows day 0, and alerts never go to nobody nor ask the recorder to acknowledge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from carecoord.models import OutgoingEmail, Patient, PatientIdentifier, PointPerson
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_join, care_team_remove_backup, care_team_set_point_persons
from referrals.milestones.services import milestone_complete, milestone_set_infusion
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.factories import SiteFactory, member, patient_at
from tests.helpers import World, api_token_header, dashboard_queue, infused, login, name_point_persons
from toxicity.alerts import escalate_due_alerts
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_add_treatment, toxicity_assess, toxicity_record

pytestmark = pytest.mark.django_db

DAY_ZERO = dt.date(2027, 1, 11)
NOW = dt.datetime(2027, 1, 14, 18, 0, tzinfo=dt.UTC)  # day +3, noon in Chicago
FEVER_ONLY: dict[str, Any] = {"temperature_c": 39.0}
ONE_PRESSOR_AFEBRILE: dict[str, Any] = {"temperature_c": 37.0, "hypotension": True, "vasopressors": 1}


def _crs(world: World, inputs: dict[str, Any] = FEVER_ONLY, at: dt.datetime = NOW) -> ToxicityEvent:
    return toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="crs",
        onset_at=at - dt.timedelta(hours=3),
        inputs=inputs,
    )


# --- treatments reach the grading -----------------------------------------------------------


def test_tocilizumab_then_one_vasopressor_without_fever_is_grade_3_and_alerts(world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world)
        assert event.grade == 1
        toxicity_add_treatment(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            kind="tocilizumab",
            given_at=NOW - dt.timedelta(hours=2),
            detail="8 mg/kg IV",
        )
        sent_before = OutgoingEmail.objects.count()
        assessment = toxicity_assess(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            assessed_at=NOW - dt.timedelta(minutes=30),
            inputs=ONE_PRESSOR_AFEBRILE,
        )

    assert assessment.grade == 3
    assert assessment.inputs["fever_masked"] is True
    assert assessment.fever_masked_by is not None and assessment.fever_masked_by.kind == "tocilizumab"
    assert "fever not required" in assessment.reason and "tocilizumab given 14 Jan 2027, 10:00" in assessment.reason
    rose = Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE)
    assert {a.recipient.email for a in rose} >= {world.community_oncologist.email, "nurse@lakeside.test"}
    # The practice's point persons are emailed; the recorder's own site is informed by recording.
    assert OutgoingEmail.objects.count() - sent_before == 3


def test_a_treatment_given_after_the_assessment_does_not_mask_its_fever(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world)
        toxicity_add_treatment(
            actor=world.center_coordinator, event=event, site=world.center, kind="anakinra", given_at=NOW
        )
        assessment = toxicity_assess(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            assessed_at=NOW - dt.timedelta(hours=1),
            inputs=ONE_PRESSOR_AFEBRILE,
        )
    assert (assessment.grade, assessment.fever_masked_by) == (0, None)


@pytest.mark.parametrize(("kind", "masks"), [("siltuximab", True), ("corticosteroid", True), ("antimicrobial", False)])
def test_which_treatments_mask_fever(world: World, kind: str, masks: bool) -> None:
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world)
        toxicity_add_treatment(
            actor=world.center_coordinator, event=event, site=world.center, kind=kind, given_at=NOW - dt.timedelta(1)
        )
        assessment = toxicity_assess(
            actor=world.center_coordinator, event=event, site=world.center, assessed_at=NOW, inputs=ONE_PRESSOR_AFEBRILE
        )
    assert assessment.grade == (3 if masks else 0)


def test_the_event_page_shows_the_masking_and_the_api_reports_it(client: Client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world)
        toxicity_add_treatment(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            kind="tocilizumab",
            given_at=NOW - dt.timedelta(hours=2),
        )
        login(client, world.center_coordinator)
        page = client.get(reverse("toxicity-event", kwargs={"event_id": event.pk})).content.decode()
        preview = client.post(
            reverse("toxicity-grade-preview", kwargs={"patient_id": world.shared_patient.pk}),
            {"kind": "crs", "event": event.pk, "purpose": "assess", "temperature_c": "37", "vasopressors": "1"},
            headers={"HX-Request": "true"},
        ).content.decode()
        toxicity_assess(
            actor=world.center_coordinator, event=event, site=world.center, assessed_at=NOW, inputs=ONE_PRESSOR_AFEBRILE
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=api_token_header(world.center_coordinator))
        body = api.get(f"/api/toxicity-events/{event.pk}/").json()

    assert "Fever is no longer required:</strong> tocilizumab given 14 Jan 2027, 10:00" in page
    assert "Grade 3 (ASTCT)" in preview
    latest = body["assessments"][-1]
    assert latest["inputs"]["fever_masked"] is True
    assert latest["fever_masked_by"]["kind"] == "tocilizumab"
    assert body["grade"] == 3


# --- children are graded with the CAPD ---------------------------------------------------------


@pytest.fixture
def child(world: World) -> Patient:
    # Twelve on the day of the assessment below (13 on 15 Jan 2027).
    return patient_at(
        world.practice,
        world.community_coordinator,
        shared_with=world.center,
        given_name="Kim",
        family_name="Youngcase",
        date_of_birth=dt.date(2014, 1, 15),
        disease_area="b_all",
    )


def _icans(world: World, patient: Patient, inputs: dict[str, Any], at: dt.datetime = NOW) -> ToxicityEvent:
    return toxicity_record(
        actor=world.center_coordinator,
        patient=patient,
        site=world.center,
        kind="icans",
        onset_at=at,
        inputs=inputs,
    )


def test_icans_at_12_is_graded_with_the_capd(world: World, child: Patient) -> None:
    with time_machine.travel(NOW, tick=False):
        event = _icans(world, child, {"capd_score": 9})
    assert event.grade == 3
    assert "CAPD score 9/32" in event.grade_reason


def test_the_ice_score_is_refused_for_a_child_and_the_capd_for_an_adult(world: World, child: Patient) -> None:
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as for_child:
        _icans(world, child, {"ice_score": 6})
    assert "CAPD" in for_child.value.message_dict["ice_score"][0]
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as for_adult:
        _icans(world, world.shared_patient, {"capd_score": 6})
    assert "ICE score" in for_adult.value.message_dict["capd_score"][0]


def test_the_instrument_follows_the_age_on_the_assessment_date(world: World, child: Patient) -> None:
    birthday = dt.datetime(2027, 1, 15, 18, 0, tzinfo=dt.UTC)  # 13 today
    with time_machine.travel(birthday, tick=False):
        event = _icans(world, child, {"ice_score": 8}, at=birthday)
        assert event.grade == 1
        # Assessed the day before, at 12: the CAPD.
        assessment = toxicity_assess(
            actor=world.center_coordinator,
            event=event,
            site=world.center,
            assessed_at=birthday - dt.timedelta(days=1),
            inputs={"capd_score": 4, "consciousness": "awakens_to_voice"},
        )
    assert assessment.grade == 2


def test_the_record_page_asks_a_child_for_the_capd(client: Client, world: World, child: Patient) -> None:
    url = reverse("toxicity-record", kwargs={"patient_id": child.pk})
    with time_machine.travel(NOW, tick=False):
        login(client, world.center_coordinator)
        page = client.get(url).content.decode()
        adult = client.get(reverse("toxicity-record", kwargs={"patient_id": world.shared_patient.pk})).content.decode()
        posted = client.post(
            url,
            {
                "site": world.center.pk,
                "kind": "icans",
                "onset_at": "2027-01-14T11:00",
                "capd_method": "score",
                "capd_score": "12",
            },
        )
    assert "Cornell Assessment of Pediatric Delirium" in page and 'name="capd_score"' in page
    assert 'name="ice_score"' not in page
    assert 'name="ice_score"' in adult and 'name="capd_score"' not in adult
    assert posted.status_code == 302
    assert ToxicityEvent.objects.get(patient=child).grade == 3


# --- timing follows day 0 --------------------------------------------------------------------


def test_onset_day_and_the_late_flag_follow_day_0_when_it_moves(world: World) -> None:
    with time_machine.travel(dt.datetime(2027, 1, 2, 15, tzinfo=dt.UTC), tick=False):
        referral = infused(world, DAY_ZERO)
    with time_machine.travel(dt.datetime(2027, 1, 28, 18, tzinfo=dt.UTC), tick=False):
        event = _crs(world, at=dt.datetime(2027, 1, 28, 18, tzinfo=dt.UTC))
        assert event.onset_day == 17
        assert "first reported on day +17" in event.atypical_reason
        # The infusion was in fact done five days late: the CRS began on day +12, as expected.
        infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=dt.date(2027, 1, 16))
    fresh = ToxicityEvent.objects.with_timing().get(pk=event.pk)
    assert (fresh.onset_day, fresh.atypical_reason) == (12, "")


def test_a_crs_before_day_0_is_flagged(world: World) -> None:
    with time_machine.travel(dt.datetime(2027, 1, 9, 20, tzinfo=dt.UTC), tick=False):
        infused(world, DAY_ZERO)
        event = _crs(world, at=dt.datetime(2027, 1, 9, 18, tzinfo=dt.UTC))
    assert event.onset_day == -2
    assert "CRS recorded before the infusion (day -2)" in event.atypical_reason


def test_a_late_recurrence_is_not_flagged_as_a_late_first_onset(world: World) -> None:
    with time_machine.travel(dt.datetime(2027, 1, 14, 18, tzinfo=dt.UTC), tick=False):
        infused(world, DAY_ZERO)
        first = _crs(world, at=dt.datetime(2027, 1, 14, 18, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2027, 2, 1, 18, tzinfo=dt.UTC), tick=False):
        recurrence = _crs(world, at=dt.datetime(2027, 2, 1, 18, tzinfo=dt.UTC))
    assert ToxicityEvent.objects.with_timing().get(pk=first.pk).atypical_reason == ""
    late = ToxicityEvent.objects.with_timing().get(pk=recurrence.pk)
    assert late.onset_day == 21 and late.atypical_reason == ""


# --- never nobody ------------------------------------------------------------------------------


def test_a_site_without_a_primary_point_person_alerts_its_coordinators(world: World) -> None:
    extra = member(world.practice, Role.COORDINATOR, email="second@riverbend.test", full_name="Sam Second")
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world, {"temperature_c": 39.2, "vasopressors": 1})
    practice = Alert.objects.filter(event=event, site=world.practice)
    assert {(a.recipient, a.role) for a in practice} == {
        (world.community_coordinator, Alert.Role.COORDINATOR),
        (extra, Alert.Role.COORDINATOR),
    }
    assert all(a.acknowledged_at is None and a.escalate_at is not None for a in practice)
    assert OutgoingEmail.objects.filter(recipient__in=[world.community_coordinator, extra]).count() == 2


def test_the_recorder_is_never_asked_to_acknowledge_their_own_entry(world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        event = _crs(world)
    center = Alert.objects.filter(event=event, site=world.center)
    assert center.count() == 2
    assert all(
        a.acknowledged_on_recording and a.acknowledged_by == world.center_coordinator and a.escalate_at is None
        for a in center
    )
    assert not OutgoingEmail.objects.filter(recipient=world.center_coordinator, template="toxicity-alert").exists()
    assert OutgoingEmail.objects.filter(recipient__email="nurse@lakeside.test").exists()
    practice = Alert.objects.filter(event=event, site=world.practice)
    assert practice.count() == 2 and all(a.acknowledged_at is None for a in practice)


def test_the_event_page_says_who_was_alerted_and_who_could_not_be(client: Client, world: World) -> None:
    name_point_persons(world)
    practice_link = world.shared_patient.care_team.get(site=world.practice)
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        # Nobody is left at the practice to alert: no point person, no active coordinator.
        care_team_remove_backup(actor=world.community_coordinator, link=practice_link)
        PointPerson.objects.filter(link=practice_link).delete()
        for user in (world.community_coordinator, world.community_oncologist):
            user.memberships.update(ends_on=dt.date(2026, 1, 1))
        event = _crs(world)
        login(client, world.center_coordinator)
        page = client.get(reverse("toxicity-event", kwargs={"event_id": event.pk})).content.decode()
    assert "Nobody at Riverbend Oncology was alerted" in page
    assert "Nina Nurse (primary point person)" in page


def test_the_patient_page_and_dashboard_flag_a_site_without_a_primary(client: Client, world: World) -> None:
    center_link = world.shared_patient.care_team.get(site=world.center)
    nurse = member(world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse")
    care_team_set_point_persons(actor=world.center_coordinator, link=center_link, primary=nurse, backup=None)
    login(client, world.community_coordinator)
    page = client.get(reverse("patient-detail", kwargs={"patient_id": world.shared_patient.pk})).content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    queue = dashboard_queue(client).content.decode()
    assert "Riverbend Oncology names no primary point person" in page
    assert "Lakeside CAR-T Center names no primary point person" not in page
    assert "No primary point person at your site" in queue
    assert "No primary point person at Riverbend Oncology" in dashboard


def test_the_record_message_names_who_was_alerted(client: Client, world: World) -> None:
    name_point_persons(world)
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        login(client, world.community_oncologist)
        response = client.post(
            reverse("toxicity-record", kwargs={"patient_id": world.shared_patient.pk}),
            {"site": world.practice.pk, "kind": "crs", "onset_at": "2027-01-14T09:00", "temperature_c": "39.1"},
            follow=True,
        )
    text = response.content.decode()
    assert "Recorded. Alerted:" in text
    assert "Lakeside CAR-T Center: Nina Nurse (primary point person), Cora Center (backup point person)." in text


def test_moving_the_infusion_keeps_day_0_once_it_is_done(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        referral = infused(world, DAY_ZERO, dt.date(2027, 1, 12))
        with pytest.raises(ValidationError) as refused:
            milestone_set_infusion(
                actor=world.center_coordinator, referral=referral, infusion_on=dt.date(2027, 1, 20), reason="x"
            )
    assert "12 Jan 2027" in refused.value.message_dict["infusion_on"][0]


# --- query counts ------------------------------------------------------------------------------


def _join_with_point_persons(world: World, n: int) -> None:
    """Practice number `n` joins the shared patient's care team naming a primary and a backup,
    and gives the patient an MRN there."""
    site = SiteFactory.create(name=f"Practice {n}")
    point_persons = {"primary": member(site, Role.PHYSICIAN), "backup": member(site, Role.NURSE)}
    patient = world.shared_patient
    care_team_join(actor=None, patient=patient, site=site, capacity="community_practice", point_persons=point_persons)
    PatientIdentifier.objects.create(patient=patient, site=site, mrn=f"P{n}-0001")


def _join_without_point_persons(world: World, n: int) -> None:
    """Practice number `n` joins naming nobody: its two coordinators are alerted instead."""
    site = SiteFactory.create(name=f"Unnamed practice {n}")
    member(site, Role.COORDINATOR)
    member(site, Role.COORDINATOR)
    care_team_join(actor=None, patient=world.shared_patient, site=site, capacity="community_practice")


def _recording_queries(world: World, minutes_ago: int) -> tuple[int, int]:
    """Queries to record one event, and how many alerts it made."""
    with CaptureQueriesContext(connection) as queries:
        event = toxicity_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            kind="infection",
            onset_at=NOW - dt.timedelta(minutes=minutes_ago),
            ctcae_grade=3,
        )
    return len(queries), Alert.objects.filter(event=event).count()


def test_recording_queries_do_not_grow_with_the_care_team(world: World) -> None:
    """Sites naming point persons, sites naming none (their coordinators are alerted), MRNs at
    each site: every one of them adds alerts, emails and audit entries, and no query."""
    name_point_persons(world)
    _join_with_point_persons(world, 0)
    _join_without_point_persons(world, 0)
    with time_machine.travel(NOW, tick=False):
        small, small_alerts = _recording_queries(world, 30)
        for n in range(1, 4):
            _join_with_point_persons(world, n)
            _join_without_point_persons(world, n)
        large, large_alerts = _recording_queries(world, 20)
    assert (small_alerts, large_alerts) == (4 + 2 + 2, 4 + 4 * 2 + 4 * 2)
    assert small == large


def test_each_alert_email_names_the_patient_by_the_mrn_of_the_recipients_site(world: World) -> None:
    """The practice registered the patient with its MRN; the center has none, so its people are
    given initials. Escalations too."""
    name_point_persons(world)
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    with time_machine.travel(NOW, tick=False):
        infused(world, DAY_ZERO, DAY_ZERO)
        _crs(world, {"temperature_c": 39.2, "vasopressors": 1})  # recorded at the center
    alerts = OutgoingEmail.objects.filter(template="toxicity-alert")  # not the referral's arrival at the center
    subjects = dict(alerts.values_list("recipient__email", "subject"))
    assert set(subjects) == {world.community_oncologist.email, world.community_coordinator.email, "nurse@lakeside.test"}
    assert f"(MRN {mrn})" in subjects[world.community_oncologist.email]
    assert f"(MRN {mrn})" in subjects[world.community_coordinator.email]
    assert f"(patient {world.shared_patient.initials})" in subjects["nurse@lakeside.test"]
    bodies = dict(alerts.values_list("recipient__email", "body_text"))
    assert f"\nMRN {mrn}, onset on day" in bodies[world.community_coordinator.email]
    # "Patient BW", not "Patient: patient BW".
    assert f"\nPatient {world.shared_patient.initials}, onset on day" in bodies["nurse@lakeside.test"]
    assert "Patient: patient" not in bodies["nurse@lakeside.test"]
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        assert escalate_due_alerts() == 2  # the practice acknowledged neither alert in time
    escalated = OutgoingEmail.objects.filter(alert__reason=Alert.Reason.ESCALATED)
    assert escalated.exists() and all(f"(MRN {mrn})" in e.subject for e in escalated)
