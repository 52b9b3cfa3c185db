"""`manage.py seed_demo`: a complete, idempotent demonstration world that respects access rules."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Model
from django.test import override_settings

from candidates import demo as candidates_demo
from candidates.models import TherapyLine
from candidates.standings import candidates_visible_to
from carecoord import demo
from carecoord.access import patients_visible_to
from carecoord.demo import handed_back_patient
from carecoord.models import (
    CareTeamLink,
    OutgoingEmail,
    Patient,
    PatientGroupObjectPermission,
    PatientIdentifier,
    PointPerson,
    Site,
    SiteMembership,
    SiteRoleGroup,
    TimelineEntry,
    User,
)
from carecoord.models.patients import Phase
from carecoord.roles import Role
from education.models import EducationGiven
from education.wallet_card import wallet_card_of, wallet_card_pdf
from handoffs.models import Handoff, HandoffQuestion
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from labs.models import LabFlagNotice, LabResult
from labs.summary import icaht_grade_now
from metrics.demo_courses import PAST_PATIENTS
from referrals.day_zero import day_zero_of
from referrals.models import Milestone, Referral
from referrals.phase import phases_now
from referrals.workflow import State
from toxicity.models import Alert, ToxicityEvent

pytestmark = pytest.mark.django_db

COUNTED: list[type[Model]] = [
    Site,
    User,
    SiteMembership,
    Patient,
    PatientIdentifier,
    CareTeamLink,
    PointPerson,
    PatientGroupObjectPermission,
    SiteRoleGroup,
    Group,
    Referral,
    Milestone,
    TimelineEntry,
    ToxicityEvent,
    Alert,
    Handoff,
    InfectionEvent,
    ProphylaxisItem,
    VaccinationItem,
    EducationGiven,
    TherapyLine,
]


def seed_demo() -> str:
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    counts = {model.__name__: model._default_manager.count() for model in COUNTED}
    counts["user groups"] = User.groups.through.objects.count()
    return counts


@pytest.fixture(scope="module")
def seeded_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module (it takes seconds) inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_world: str, db: None) -> str:
    return seeded_world


def test_second_run_changes_nothing(seeded: str) -> None:
    first = row_counts()
    output = seed_demo()
    assert row_counts() == first
    assert "nothing changed" in output


def test_seeds_at_least_forty_patients_in_every_phase(seeded: str) -> None:
    assert Patient.objects.count() >= 40
    assert set(Patient.objects.values_list("phase", flat=True)) == set(Phase.values)


def test_every_demo_patient_is_in_the_phase_its_story_tells(seeded: str) -> None:
    """The phase is derived from each story; it must be the one the demo meant to show."""
    expected = {spec.mrn: spec.phase for spec in demo.PATIENTS}
    # The candidates not referred yet (candidates.demo) are at the start of the path.
    expected |= {spec.mrn: Phase.REFERRAL for spec in candidates_demo.PATIENTS}
    # The program's past year (metrics.demo_courses): declined, or infused and in follow-up.
    expected |= {past.spec.mrn: past.spec.phase for past in PAST_PATIENTS}
    patients = list(Patient.objects.prefetch_related("identifiers"))
    derived = phases_now([patient.pk for patient in patients])
    wrong = {}
    for patient in patients:
        mrn = next(i.mrn for i in patient.identifiers.all() if i.mrn in expected)
        if derived[patient.pk] != expected[mrn] or patient.phase != expected[mrn]:
            wrong[mrn] = (expected[mrn], derived[patient.pk], patient.phase)
    assert wrong == {}


def test_referrals_show_every_state_and_treated_patients_have_timelines(seeded: str) -> None:
    assert set(Referral.objects.values_list("state", flat=True)) == {state.value for state in State}
    infused = Patient.objects.filter(phase__in=[Phase.MONITORING, Phase.FOLLOW_UP, Phase.LONG_TERM])
    for patient in infused:
        assert Milestone.objects.filter(referral__patient=patient, status=Milestone.Status.DONE).exists()
        assert TimelineEntry.objects.filter(patient=patient).count() >= 10


def test_treated_patients_have_toxicities_with_alerts_some_still_open(seeded: str) -> None:
    assert set(ToxicityEvent.objects.values_list("kind", flat=True)) >= {"crs", "icans", "infection"}
    assert Alert.objects.filter(acknowledged_at__isnull=True).exists()
    assert Alert.objects.filter(acknowledged_at__isnull=False).exists()


def test_patients_handed_back_have_a_transition_handoff(seeded: str) -> None:
    states = set(Handoff.objects.values_list("state", flat=True))
    assert states == {Handoff.State.SENT, Handoff.State.ACKNOWLEDGED}


def test_past_courses_threads_were_answered_and_wait_on_nobody(seeded: str) -> None:
    """The history's questions back were answered the next day: none fills the center's work
    queue with months-old questions that hide the day's."""
    asked = HandoffQuestion.objects.filter(kind=HandoffQuestion.Kind.QUESTION, body__endswith="(demo)")
    assert asked.exists()
    answered = HandoffQuestion.objects.filter(kind=HandoffQuestion.Kind.ANSWER, handoff__in=asked.values("handoff"))
    assert answered.count() == asked.count()
    assert not Handoff.objects.filter(pk__in=asked.values("handoff"), last_word_site__isnull=False).exists()


def test_the_first_patient_handed_back_has_a_prevention_plan_with_items_due_and_an_infection(seeded: str) -> None:
    patient = handed_back_patient()
    assert patient is not None
    center = patient.care_team.get(capacity="treating_center").site
    today = center.today()
    kinds = set(ProphylaxisItem.objects.filter(patient=patient).values_list("kind", flat=True))
    assert {"antiviral", "pjp", "antifungal", "ivig"} <= kinds
    assert ProphylaxisItem.objects.filter(patient=patient).due_by(today).exists()  # on the work queue
    assert VaccinationItem.objects.filter(patient=patient, given_on__isnull=True).count() >= 4
    assert InfectionEvent.objects.filter(patient=patient).exists()
    # The transition hand-off was started after the plan, so what its template prefills is there.
    assert Handoff.objects.filter(patient=patient).exists()


def test_the_first_patient_handed_back_has_counts_an_icaht_grade_and_a_low_igg_told(seeded: str) -> None:
    patient = handed_back_patient()
    assert patient is not None and Handoff.objects.filter(patient=patient).exists()
    results = LabResult.objects.filter(patient=patient)
    day_zero = day_zero_of(patient)
    assert day_zero is not None
    days = {(r.taken_on - day_zero).days for r in results}
    assert min(days) == 0 and max(days) <= 90 and len(days) >= 10
    grade = icaht_grade_now(patient)
    assert grade is not None and grade >= 1
    low_igg = results.filter(kind="igg", flagged=True).first()
    assert low_igg is not None and low_igg.value < 400
    told = LabFlagNotice.objects.filter(result=low_igg)
    assert told.exists()
    assert OutgoingEmail.objects.filter(template="lab-flag", recipient__in=told.values("recipient")).exists()


def test_the_first_patient_handed_back_was_taught_and_has_a_wallet_card_and_watch_items(seeded: str) -> None:
    patient = handed_back_patient()
    assert patient is not None
    given = EducationGiven.objects.filter(patient=patient)
    assert set(given.values_list("recipient", flat=True)) == {"patient", "caregiver", "community_clinician"}
    assert TimelineEntry.objects.filter(patient=patient, kind=TimelineEntry.Kind.EDUCATION).count() == 3
    card = wallet_card_of(patient)
    assert card.product and card.day_zero and card.center_phone
    assert wallet_card_pdf(card, card.day_zero).startswith(b"%PDF")
    handoff = Handoff.objects.filter(patient=patient).get()
    assert handoff.values.get("after_infusion.late_effect_watch_items", "").startswith("T-cell malignancies")


def test_two_academic_centers_and_four_community_practices(seeded: str) -> None:
    assert Site.objects.filter(kind=Site.Kind.ACADEMIC_CENTER).count() == 2
    assert Site.objects.filter(kind=Site.Kind.COMMUNITY_PRACTICE).count() == 4


def test_every_role_works_at_every_site(seeded: str) -> None:
    for site in Site.objects.all():
        roles = set(SiteMembership.objects.filter(site=site).values_list("role", flat=True))
        assert roles == set(Role.values), site


def test_one_person_works_at_two_sites(seeded: str) -> None:
    assert any(user.memberships.values("site").distinct().count() == 2 for user in User.objects.all())


def test_every_patient_is_shared_with_a_center_with_point_persons_at_both_sites(seeded: str) -> None:
    # The practice's candidates not referred yet (candidates.demo) are its own until it refers them.
    not_referred = {spec.mrn for spec in candidates_demo.PATIENTS}
    for patient in Patient.objects.prefetch_related("identifiers"):
        links = list(CareTeamLink.objects.open().filter(patient=patient).select_related("site"))
        capacities = sorted(link.capacity for link in links)
        if not_referred & {identifier.mrn for identifier in patient.identifiers.all()}:
            assert capacities == ["community_practice"]
        else:
            assert capacities == ["community_practice", "treating_center"]
        for link in links:
            assert set(link.point_persons.values_list("rank", flat=True)) == {"primary", "backup"}


def test_staff_of_another_practice_do_not_see_a_practices_patients(seeded: str) -> None:
    practices = list(Site.objects.filter(kind=Site.Kind.COMMUNITY_PRACTICE))
    for practice in practices:
        own_patients = set(Patient.objects.filter(care_team__site=practice).values_list("pk", flat=True))
        assert own_patients
        for other in practices:
            if other == practice:
                continue
            # People who work only at the other practice.
            outsiders = User.objects.filter(memberships__site=other).exclude(memberships__site__in=[practice])
            for outsider in outsiders:
                if outsider.memberships.exclude(site=other).exists():
                    continue
                visible = set(patients_visible_to(outsider).values_list("pk", flat=True))
                assert visible
                assert not visible & own_patients, (outsider.email, practice.name)


def test_center_staff_see_the_patients_referred_to_them(seeded: str) -> None:
    center = Site.objects.get(name="Great Lakes University CAR-T Center")
    nurse = User.objects.get(email="nurse@greatlakes-cart.test")
    referred = Patient.objects.filter(care_team__site=center)
    assert set(patients_visible_to(nurse)) == set(referred)


def test_demo_password_signs_in(seeded: str) -> None:
    user = User.objects.get(email="coordinator@prairieview-onc.test")
    assert user.check_password(demo.DEMO_PASSWORD)
    admin = User.objects.get(email=demo.ADMIN_EMAIL)
    assert admin.is_staff and admin.is_superuser


def test_output_lists_the_url_and_the_logins(seeded: str) -> None:
    assert "http://" in seeded or "https://" in seeded
    assert "coordinator@greatlakes-cart.test" in seeded
    assert demo.DEMO_PASSWORD in seeded


@override_settings(DEBUG=False)
def test_refuses_without_debug_unless_allowed(seeded: str) -> None:
    before = row_counts()
    User.objects.filter(email=demo.ADMIN_EMAIL).delete()
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.filter(email=demo.ADMIN_EMAIL).exists()
    call_command("seed_demo", "--allow-production", stdout=StringIO())
    assert row_counts() == before


def test_output_gives_a_demo_code_command_to_paste(seeded: str) -> None:
    assert "manage.py demo_code coordinator@" in seeded
    assert "DEBUG=1" in seeded


def test_the_transition_handoff_of_the_patient_handed_back_carries_what_followed_the_infusion(seeded: str) -> None:
    """Issue 17's hand-back: counts, ICAHT, IgG and IVIG, the prophylaxis plan, vaccinations due
    and the product's watch items, prefilled from the record when the hand-off was started."""
    patient = handed_back_patient()
    assert patient is not None
    values = Handoff.objects.get(patient=patient).values
    for key in ("counts_trend", "igg", "ivig", "prophylaxis_plan", "vaccinations_due", "late_effect_watch_items"):
        assert values.get(f"after_infusion.{key}"), key
    assert values["after_infusion.icaht_grade"] >= 1
    assert "flagged below 400 mg/dL" in values["after_infusion.igg"]
    assert "ANC" in values["after_infusion.counts_trend"]


def test_the_practice_coordinator_sees_candidates_and_approaching_patients(seeded: str) -> None:
    coordinator = User.objects.get(email="coordinator@prairieview-onc.test")
    names = {
        standing: set(candidates_visible_to(coordinator, standing).values_list("family_name", flat=True))
        for standing in ("meets", "approaching")
    }
    assert names == {"meets": {"Candidson", "Refractson", "Bispecton"}, "approaching": {"Earlyton", "Sampleford"}}
    # Not referred yet: the center does not see them.
    center = User.objects.get(email="coordinator@greatlakes-cart.test")
    assert not candidates_visible_to(center).exists()
