"""The benchmark network, built small, holds what the app's own code would have written."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.test import Client

from bench.dataset import PERSONAS, Dataset, Sizes, build, signed_in_session
from bench.dataset.people import PRACTICES, SMALL_PRACTICE, practice_sizes
from candidates.models import CandidateStanding, TherapyLine
from candidates.standings import candidates_visible_to, refresh_every_standing
from carecoord.access import patients_visible_to
from carecoord.access.grants import sync_patient_access, sync_user_access
from carecoord.models import Patient, PatientGroupObjectPermission, Site, TimelineEntry, User
from carecoord.recipients import alert_recipients
from carecoord.selectors.patients import links_without_primary
from handoffs.models import Handoff, HandoffQuestion
from referrals.conflicts import find_conflicts
from referrals.day_zero import day_zero_in
from referrals.models import Milestone
from referrals.phase import phases_now
from referrals.selectors import milestones_due, referrals_waiting_on
from toxicity.models import Alert

PATIENTS = 120


@pytest.fixture
def dataset(db: None) -> Dataset:
    built = build(Sizes(patients=PATIENTS, people=40), recreate=False)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every foreign key checked now, not at rollback
    return built


def _grants() -> set[tuple[object, int, int]]:
    return set(PatientGroupObjectPermission.objects.values_list("content_object_id", "group_id", "permission_id"))


def _group_rows() -> set[tuple[int, int]]:
    return set(User.groups.through.objects.values_list("user_id", "group_id"))


def test_grants_and_groups_are_those_the_grant_code_makes(dataset: Dataset) -> None:
    copied_grants, copied_groups = _grants(), _group_rows()
    assert copied_grants and copied_groups

    for patient in Patient.objects.all():
        sync_patient_access(patient)
    for user in User.objects.all():
        sync_user_access(user, dataset.now)

    assert _grants() == copied_grants
    assert _group_rows() == copied_groups


def test_cached_phase_and_conflicts_are_the_rules(dataset: Dataset) -> None:
    phases = phases_now(Patient.objects.values_list("pk", flat=True), dataset.now)
    assert dict(Patient.objects.values_list("pk", "phase")) == phases

    by_referral: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in Milestone.objects.all():
        by_referral[milestone.referral_id].append(milestone)
    for milestones in by_referral.values():
        expected = find_conflicts(day_zero_in(milestones), milestones)
        for milestone in milestones:
            conflict = expected.get(milestone.kind)
            assert (milestone.conflict, milestone.conflict_key) == (
                (conflict.message, conflict.key) if conflict else ("", "")
            )
    assert Milestone.objects.count() > 30 * PATIENTS


def test_alerts_reach_the_recipients_the_alert_code_names(dataset: Dataset) -> None:
    recorded = Alert.objects.filter(reason=Alert.Reason.RECORDED).select_related("event")
    alerted: dict[int, set[tuple[int, int, str]]] = defaultdict(set)
    for alert in recorded:
        alerted[alert.event_id].add((alert.recipient_id, alert.site_id, alert.role))
    events = {alert.event_id: alert.event.patient_id for alert in recorded}
    assert events
    for event_id, patient_id in events.items():
        expected = {(r.user.pk, r.site.pk, r.role) for r in alert_recipients(patient_id)}
        assert alerted[event_id] == expected
    # Every alert has its email but the recorder's own (acknowledged on recording, by them).
    emailed = Alert.objects.filter(
        email__recipient=F("recipient"), email__dedupe_key=Concat(Value("toxicity-alert:"), Cast("pk", CharField()))
    )
    own = Alert.objects.filter(acknowledged_on_recording=True, acknowledged_by=F("recipient"))
    assert emailed.count() == Alert.objects.count() - own.count() > 0
    assert not own.filter(email__isnull=False).exists()


def test_each_hand_off_keeps_its_open_question_as_handoff_ask_does(dataset: Dataset) -> None:
    """A thread whose last message is a question waits on the other site (its site and moment
    kept on the hand-off); an answered one waits on nobody."""
    messages = HandoffQuestion.objects.order_by("created_at", "pk")
    last = {
        handoff: (site, kind, at)
        for handoff, site, kind, at in messages.values_list("handoff_id", "site_id", "kind", "created_at")
    }
    assert HandoffQuestion.Kind.ANSWER in {kind for _site, kind, _at in last.values()}
    open_questions = {
        handoff: (site, at) for handoff, (site, kind, at) in last.items() if kind == HandoffQuestion.Kind.QUESTION
    }
    kept = Handoff.objects.filter(last_word_site__isnull=False).values_list("pk", "last_word_site_id", "last_word_at")
    assert {pk: (site, at) for pk, site, at in kept} == open_questions


def test_nothing_is_dated_after_now(dataset: Dataset) -> None:
    latest = TimelineEntry.objects.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    assert latest is not None and latest <= dataset.now
    assert not Milestone.objects.filter(actual_on__gt=dataset.now.date()).exists()


def test_personas_see_their_patients_and_sign_in_with_a_session_cookie(dataset: Dataset) -> None:
    small, medium = practice_sizes(PATIENTS)
    expected = {"sees_50": small, "sees_500": medium, "sees_all": PATIENTS}
    users = {persona.key: User.objects.get(email=persona.email) for persona in PERSONAS}
    for key, count in expected.items():
        assert patients_visible_to(users[key]).count() == count
    center = patients_visible_to(users["center_coordinator"]).count()
    assert PATIENTS * 0.4 < center <= PATIENTS * 0.5
    assert patients_visible_to(users["center_coordinator"]).filter(pk=dataset.showcase_patient).exists()
    assert TimelineEntry.objects.filter(patient_id=dataset.showcase_patient).count() == 350

    name, value = signed_in_session(users["sees_50"].email)
    client = Client()
    client.cookies[name] = value
    response = client.get(f"/patients/{dataset.showcase_patient}/")
    assert response.status_code == 404  # not one of the small practice's patients
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == small


def test_therapy_lines_are_valid_and_their_standings_are_the_matching(dataset: Dataset) -> None:
    lines = list(TherapyLine.objects.all())
    assert len(lines) >= PATIENTS
    for line in lines:
        line.full_clean()  # the model's own checks: classes, dates in order
    copied = dict(CandidateStanding.objects.values_list("patient_id", "standing"))
    assert copied
    refresh_every_standing(dataset.now)
    assert dict(CandidateStanding.objects.values_list("patient_id", "standing")) == copied


def test_the_small_practice_is_a_busy_one(db: None) -> None:
    """Its coordinator's lists are as full as the network coordinator's pages: one turn of the
    busy stages (25 patients: 4 drafts, 3 referrals waiting on the center, 18 infused lately)."""
    patients = 500
    assert practice_sizes(patients)[0] == 25
    dataset = build(Sizes(patients=patients, people=60), recreate=False)
    coordinator = User.objects.get(pk=dataset.personas["sees_50"])
    practice = Site.objects.get(name=PRACTICES[SMALL_PRACTICE][0])
    today = practice.today(dataset.now)
    seen = patients_visible_to(coordinator)

    assert seen.count() == 25
    assert referrals_waiting_on(coordinator, [practice.pk]).count() == 4  # the drafts to send
    assert candidates_visible_to(coordinator).count() == 4  # each draft's history meets or approaches a use
    assert links_without_primary(coordinator, [practice.pk]).count() == 7  # not accepted yet: none named
    open_alerts = Alert.objects.filter(recipient=coordinator, acknowledged_at__isnull=True)
    assert open_alerts.count() >= 25  # every patient's backup: a page of open alerts at 50 patients
    assert Handoff.objects.filter(patient_id__in=seen.values("pk")).count() >= 18  # a transition each
    assert Handoff.objects.awaiting([practice.pk]).count() >= 6
    assert milestones_due(coordinator, None, today + dt.timedelta(days=6)).count() >= 25
