"""The safety promise walked in a real browser: whoever registers a patient names whom to call,
a site that names nobody still has its coordinators alerted, tocilizumab reaches the grade,
and an infusion done late moves every date that follows it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from carecoord.models import OutgoingEmail, Patient, PointPerson
from carecoord.roles import Role
from referrals.milestones.services import milestone_move
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from tests.browser import sign_in
from tests.factories import member
from tests.helpers import World, infused, name_point_persons
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_record

pytestmark = pytest.mark.browser


def _record_crs(
    page: Page, base_url: str, patient: Patient, *, temperature: str, vasopressors: str, new_episode: bool = False
) -> None:
    """`new_episode`: a CRS is active already; the page asks, and this is confirmed a new one."""
    page.goto(base_url + reverse("toxicity-record", kwargs={"patient_id": patient.pk}))
    page.get_by_label("Kind of toxicity").select_option(value="crs")
    page.get_by_label("Highest temperature (°C)").fill(temperature)
    page.get_by_label("Number of vasopressors other than vasopressin").fill(vasopressors)
    expect(page.locator("#grade-preview")).to_contain_text("Grade 3 (ASTCT)")
    page.get_by_role("button", name="Record and alert").click()
    if new_episode:
        page.get_by_label("This is a new episode").check()
        page.get_by_role("button", name="Record and alert").click()
    page.wait_for_url(re.compile(r".*/toxicity/events/\d+/$"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_registered_in_the_browser_named_by_each_site_and_every_point_person_alerted(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    nurse = member(world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse")

    practice = browser.new_page()
    sign_in(practice, base_url, world.community_coordinator.email)
    practice.goto(base_url + reverse("referral-create"))
    practice.get_by_label("A new patient").check()
    practice.get_by_label("Given name").fill("Remy")
    practice.get_by_label("Family name").fill("Registerson")
    practice.get_by_label("Date of birth").fill("1958-04-12")
    practice.get_by_label("Sex").select_option(value="male")
    practice.get_by_label("MRN at your practice").fill("RB-9001")
    practice.get_by_label("Caregiver phone").fill("call the neighbour")
    practice.get_by_label("Primary point person at your practice").select_option(
        label=f"{world.community_oncologist.full_name} — Physician"  # each person offered with their role
    )
    practice.get_by_label("CAR-T center").select_option(label=world.center.name)
    practice.get_by_label("Referring physician").select_option(label=world.community_oncologist.full_name)
    practice.get_by_label("Disease area").select_option(value="lbcl")
    practice.get_by_label("Prior lines of therapy").fill("2")
    practice.get_by_label("ECOG performance status").select_option(value="1")
    practice.get_by_label("Reason for referral").fill("Refractory after two lines; CAR-T candidate.")
    practice.get_by_role("button", name="Submit to center").click()
    # The phone number is refused next to its field; nothing is registered.
    expect(practice.locator("#id_caregiver_phone_error")).to_contain_text(
        "Enter the caregiver phone as a number that can be dialled"
    )
    assert not Patient.objects.filter(family_name="Registerson").exists()
    practice.get_by_label("Caregiver phone").fill("312 555 0142")
    practice.get_by_role("button", name="Submit to center").click()
    expect(practice.get_by_text("Submitted", exact=False).first).to_be_visible()
    patient = Patient.objects.get(family_name="Registerson")
    assert patient.caregiver_phone == "+1 312-555-0142"
    assert PointPerson.objects.get(link__patient=patient, link__site=world.practice).user == world.community_oncologist
    practice.close()

    # The center names nobody yet: a grade-3 CRS reaches its coordinators, and the page says so.
    oncologist = browser.new_page()
    sign_in(oncologist, base_url, world.community_oncologist.email)
    _record_crs(oncologist, base_url, patient, temperature="39.2", vasopressors="1")
    expect(oncologist.locator(".flash__item")).to_contain_text("Lakeside CAR-T Center names no primary point person")
    event = ToxicityEvent.objects.get(patient=patient)
    center_alerts = Alert.objects.filter(event=event, site=world.center)
    assert [(a.recipient, a.role) for a in center_alerts] == [(world.center_coordinator, Alert.Role.COORDINATOR)]
    # The recorder's own site counts as informed: nothing to acknowledge.
    own = Alert.objects.get(event=event, recipient=world.community_oncologist)
    assert own.acknowledged_on_recording and own.acknowledged_by == world.community_oncologist
    oncologist.close()

    center = browser.new_page()
    sign_in(center, base_url, world.center_coordinator.email)
    center.goto(base_url + reverse("patient-detail", kwargs={"patient_id": patient.pk}))
    expect(center.get_by_text("Lakeside CAR-T Center names no primary point person")).to_be_visible()
    card = center.locator(f"#site-{world.center.pk}")
    card.get_by_label("Primary point person").select_option(label=f"{nurse.full_name} — Nurse")
    card.get_by_label("Backup point person").select_option(label=f"{world.center_coordinator.full_name} — Coordinator")
    card.get_by_role("button", name="Save the point persons").click()
    expect(center.get_by_text("Point persons at Lakeside CAR-T Center saved")).to_be_visible()
    expect(center.get_by_text("names no primary point person")).to_have_count(0)
    center.get_by_label("MRN at your site").fill("LK-3141")
    center.get_by_role("button", name="Save the MRN").click()
    expect(center.get_by_text("The MRN at Lakeside CAR-T Center is saved.")).to_be_visible()
    center.close()

    # A second grade-3 CRS now reaches every named point person at both sites.
    nurse_page = browser.new_page()
    sign_in(nurse_page, base_url, nurse.email)
    _record_crs(nurse_page, base_url, patient, temperature="39.5", vasopressors="1", new_episode=True)
    second = ToxicityEvent.objects.filter(patient=patient).latest("pk")
    alerted = {(a.recipient.email, a.role) for a in Alert.objects.filter(event=second)}
    assert alerted == {
        (world.community_oncologist.email, "primary"),
        (nurse.email, "primary"),
        (world.center_coordinator.email, "backup"),
    }
    nurse_page.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tocilizumab_then_one_vasopressor_without_fever_grades_3_in_the_browser(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    name_point_persons(world)
    today = timezone.localdate()
    infused(world, today - dt.timedelta(days=2), today - dt.timedelta(days=2))
    event = toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=5),
        inputs={"temperature_c": 39.0},
    )
    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("toxicity-event", kwargs={"event_id": event.pk}))

    page.get_by_text("Treatment given").click()
    treatment = page.locator("#treatment-form")
    treatment.get_by_label("Treatment").select_option(value="tocilizumab")
    treatment.get_by_label("Detail (optional)").fill("8 mg/kg IV")
    _earlier = (timezone.localtime(timezone.now(), world.center.zone) - dt.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    treatment.get_by_label("Given at").fill(_earlier)
    treatment.get_by_role("button", name="Save the treatment").click()
    expect(page.get_by_text("Tocilizumab recorded.")).to_be_visible()

    page.get_by_text("Reassess").click()
    assess = page.locator("#assess-form")
    expect(assess.get_by_text("Fever is no longer required:")).to_be_visible()
    # A nasal cannula without its flow: a sentence next to the flow, no stale grade.
    assess.get_by_label("Oxygen support").select_option(value="nasal_cannula")
    expect(assess.locator("#id_assess_oxygen_flow_l_min_live")).to_have_text(
        "Enter the flow for a nasal cannula in L/min: up to 6 is low flow, above 6 high flow."
    )
    expect(assess.locator("#assess-grade-preview")).not_to_contain_text("Grade")
    assess.get_by_label("Oxygen support").select_option(value="room_air")
    expect(assess.locator("#id_assess_oxygen_flow_l_min_live")).to_have_text("")
    assess.get_by_label("Highest temperature (°C)").fill("37.0")
    assess.get_by_label("Number of vasopressors other than vasopressin").fill("1")
    expect(assess.locator("#assess-grade-preview")).to_contain_text("Grade 3 (ASTCT)")
    expect(assess.locator("#assess-grade-preview")).to_contain_text("tocilizumab given")
    assess.get_by_role("button", name="Save the assessment").click()
    expect(page.get_by_text("Reassessed: grade 3.")).to_be_visible()
    page.close()

    rose = Alert.objects.filter(event=event, reason=Alert.Reason.GRADE_ROSE)
    assert {a.recipient for a in rose if a.site == world.practice} == {
        world.community_oncologist,
        world.community_coordinator,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_infusion_done_two_days_late_moves_the_dates_and_shows_the_conflicts(
    live_server: object, world: World, browser: Browser
) -> None:
    base_url = str(live_server)
    today = timezone.localdate()
    planned = today - dt.timedelta(days=2)
    referral = infused(world, planned)
    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    # A visit set by hand for the day after the planned infusion: before the real day 0.
    milestone_move(
        actor=world.center_coordinator, milestone=visit, planned_on=planned + dt.timedelta(days=1), reason="Slot"
    )
    infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)

    page = browser.new_page()
    sign_in(page, base_url, world.center_coordinator.email)
    page.goto(base_url + reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk}))
    row = page.locator(f"#milestone-{infusion.pk}")
    row.get_by_text("Update").click()
    row.get_by_role("link", name="Mark done…").click()  # the form loads when opened
    row.get_by_label("Done on").fill(today.isoformat())
    row.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("Infusion: done on")).to_be_visible()

    driving_end = today + dt.timedelta(days=14)
    driving = page.locator(f"#milestone-{Milestone.objects.get(referral=referral, kind='no_driving_end').pk}")
    expect(driving).to_contain_text(_long(driving_end))
    expect(page.locator(".tl-next")).to_contain_text("Date conflicts")
    expect(page.locator(f"#milestone-{visit.pk}")).to_contain_text("Conflict")

    page.goto(base_url + reverse("dashboard"))
    expect(page.get_by_role("heading", name="Date conflicts")).to_be_visible()

    page.goto(base_url + reverse("handoff-start", kwargs={"patient_id": world.shared_patient.pk}))
    page.get_by_label("Template").select_option(label="Post-CAR-T transition to community care")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.get_by_label("No driving until")).to_have_value(driving_end.isoformat())
    expect(page.get_by_label("Infusion date (day 0)")).to_have_value(today.isoformat())
    page.close()


def _long(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_typo_in_the_onset_is_caught_and_an_undelivered_alert_is_shown(
    live_server: object, world: World, browser: Browser
) -> None:
    """An onset a year too early is asked about before anyone is alerted; the email that the
    relay has not taken after five minutes is shown to the site, with whom to call."""
    base_url = str(live_server)
    name_point_persons(world)
    infused(world, timezone.localdate() - dt.timedelta(days=3))
    patient = world.shared_patient
    typo = (timezone.localtime(timezone=world.practice.zone) - dt.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M")

    page = browser.new_page()
    sign_in(page, base_url, world.community_oncologist.email)
    page.goto(base_url + reverse("toxicity-record", kwargs={"patient_id": patient.pk}))
    page.get_by_label("Kind of toxicity").select_option(value="crs")
    page.get_by_label("Onset", exact=True).fill(typo)
    page.get_by_label("Highest temperature (°C)").fill("39.2")
    page.get_by_role("button", name="Record and alert").click()
    expect(page.locator("#id_onset_at_error")).to_contain_text("before the patient was first referred")
    assert not ToxicityEvent.objects.exists() and not Alert.objects.exists()
    # The box to keep the date appears next to it; ticking it records the event.
    page.get_by_label("The date is right: keep it").check()
    page.get_by_role("button", name="Record and alert").click()
    page.wait_for_url(re.compile(r".*/toxicity/events/\d+/$"))
    event = ToxicityEvent.objects.get()
    # Both days at the practice: between midnight UTC and the practice's midnight they differ.
    practice_today = timezone.localdate(timezone=world.practice.zone)
    assert timezone.localdate(event.onset_at, world.practice.zone) == practice_today - dt.timedelta(days=365)
    page.close()

    # The relay never took the center nurse's email: six minutes on, the center sees it.
    late = Alert.objects.get(event=event, recipient__email="nurse@lakeside.test").email
    assert late is not None
    OutgoingEmail.objects.filter(pk=late.pk).update(
        status="pending", created_at=timezone.now() - dt.timedelta(minutes=6), last_error="ConnectionRefusedError"
    )
    OutgoingEmail.objects.exclude(pk=late.pk).update(status="sent", sent_at=timezone.now())
    center = browser.new_page()
    sign_in(center, base_url, world.center_coordinator.email)
    for url in (reverse("patient-detail", kwargs={"patient_id": patient.pk}), reverse("dashboard")):
        center.goto(base_url + url)
        banner = center.locator("#undelivered-alerts")
        expect(banner).to_contain_text("Alert email not delivered")
        expect(banner).to_contain_text("Email to Nina Nurse")
    center.close()
