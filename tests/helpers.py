"""Plain helpers shared by the tests of every app: the personas' `World`, signing in, and
objects built through the services (referrals, a course with day 0, toxicities, hand-offs).

Fixtures live in tests/fixtures.py (loaded by the root conftest.py); this module holds what a
test calls. Test modules import from here, never from one another.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from carecoord.access.grants import site_role_groups
from carecoord.accounts.api_tokens import api_token_create
from carecoord.models import (
    CareTeamLink,
    Patient,
    PatientGroupObjectPermission,
    PatientIdentifier,
    PointPerson,
    Product,
    Site,
    TimelineEntry,
    User,
)
from carecoord.request_context import request_context
from carecoord.roles import ROLE_CAPABILITIES, Role
from carecoord.services.care_teams import care_team_add_site, care_team_name_point_person
from carecoord.services.comments import comment_post
from carecoord.timeline import timeline_record
from handoffs.models import Handoff, HandoffTemplate
from handoffs.schema import fields_of
from handoffs.services import handoff_ask, handoff_save, handoff_send, handoff_start, published_version
from infections.services import ProphylaxisInput, VaccinationInput, infection_record, prophylaxis_add, vaccination_add
from labs.entry import read_pasted
from labs.services import lab_results_record
from referrals.milestones.services import milestone_complete, milestone_move, milestone_plan, milestone_set_infusion
from referrals.models import Milestone, Referral
from referrals.schedule import MilestoneKind
from referrals.services import referral_attach_document, referral_create, referral_move, referral_set_plan
from referrals.workflow import Move
from tests.factories import PASSWORD, SiteFactory, authenticator, member, patient_at
from toxicity.models import ToxicityEvent
from toxicity.selectors import waiting_alert_count
from toxicity.services import toxicity_add_treatment, toxicity_assess, toxicity_record

# --- Personas, signing in and the API client -------------------------------------------------


@dataclass
class World:
    center: Site
    practice: Site
    unrelated_practice: Site
    center_coordinator: User
    community_oncologist: User
    community_coordinator: User
    outsider: User
    shared_patient: Patient
    foreign_patient: Patient


def login(client: Client, user: User) -> Client:
    """Sign `user` in with both factors passed, as after the password and the app's code.

    The sign-in pages themselves (password, throttling, second factor) are tested through
    their forms in tests/test_security_auth.py."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()
    return client


def api(user: User) -> APIClient:
    client = APIClient()
    login(client, user)
    return client


def api_token_header(user: User) -> str:
    """The `Authorization` header value that authenticates `user` to the API with a new token."""
    _token, key = api_token_create(user=user, name="tests")
    return f"Token {key}"


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


DASHBOARD = reverse("dashboard")
MY_WORK = reverse("my-work")


def in_a_request[T](call: Callable[[], T]) -> T:
    """`call()` as a view makes it: in a request of its own (what a request reads once, such as
    the viewer's groups, is read once; the work queue keeps its lists' queries only then)."""
    with request_context(RequestFactory().get("/")):
        return call()


def dashboard_queue(client: Client) -> Any:
    """The dashboard's work queue as the dashboard asks for it once its page has arrived (htmx):
    the response, whose context holds `work_queue`."""
    return client.get(MY_WORK, headers={"HX-Request": "true"})


VERIFY = reverse("two-factor-verify")
SETUP = reverse("two-factor-setup")
# The moment the sign-in tests start from.
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def sign_in_with_password(client: Client, user: User, password: str = PASSWORD) -> int:
    response = client.post(reverse("login"), {"username": user.email, "password": password})
    return response.status_code


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    if at is not None:
        generator.time = at
    return f"{generator.token():06d}"


# --- Referrals through the services ----------------------------------------------------------


REFERRAL_FIELDS: dict[str, Any] = {
    "disease_area": "lbcl",
    "prior_lines_of_therapy": 2,
    "prior_therapies": "R-CHOP x6; R-ICE x2",
    "transplant_eligibility": "ineligible",
    "performance_status": 1,
    "urgency": "urgent",
    "reason": "Primary refractory LBCL, candidate for CAR-T.",
}


def draft_referral(world: World, patient: Patient | None = None, to_center: Site | None = None) -> Referral:
    return referral_create(
        actor=world.community_coordinator,
        patient=patient or world.shared_patient,
        from_site=world.practice,
        to_center=to_center or world.center,
        referring_physician=world.community_oncologist,
        **REFERRAL_FIELDS,
    )


def advance(referral: Referral, moves: list[tuple[Move, User]], **kwargs: Any) -> Referral:
    for move, actor in moves:
        extra = dict(kwargs) if move in (Move.SCHEDULE_CONSULT, Move.DECLINE) else {}
        referral = referral_move(actor=actor, referral=referral, move=move, **extra)
    return referral


def accept(world: World, referral: Referral) -> Referral:
    """Take a draft referral from the practice to accepted at the center, the consult on 1 Dec 2026."""
    return advance(
        referral,
        [
            (Move.SUBMIT, world.community_coordinator),
            (Move.ACKNOWLEDGE, world.center_coordinator),
            (Move.START_REVIEW, world.center_coordinator),
            (Move.SCHEDULE_CONSULT, world.center_coordinator),
            (Move.ACCEPT, world.center_coordinator),
        ],
        consult_on=dt.date(2026, 12, 1),
    )


def accepted_referral(world: World, patient: Patient | None = None) -> Referral:
    return accept(world, draft_referral(world, patient=patient))


# --- A patient's course: day 0 and the point persons -----------------------------------------


# Day 0 of the course most toxicity tests build, and a moment nine days later (09:00 in Chicago).
INFUSED_ON = dt.date(2027, 1, 11)
NOW = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)


def infused(world: World, planned: dt.date, actual: dt.date | None = None) -> Referral:
    """The shared patient's accepted referral with day 0 planned on `planned`, done on `actual`."""
    referral = accepted_referral(world)
    milestone_set_infusion(actor=world.center_coordinator, referral=referral, infusion_on=planned)
    if actual is not None:
        infusion = Milestone.objects.get(referral=referral, kind=MilestoneKind.INFUSION)
        milestone_complete(actor=world.center_coordinator, milestone=infusion, actual_on=actual)
    return referral


def name_point_persons(world: World, patient: Patient | None = None) -> dict[str, User]:
    """Primary and backup at both sites of the care team of `patient` (the shared patient by default).

    Practice: the community oncologist (primary) and coordinator (backup); center: a nurse
    (primary) and the coordinator (backup).
    """
    patient = patient or world.shared_patient
    center_nurse = User.objects.filter(email="nurse@lakeside.test").first() or member(
        world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse"
    )
    for actor, site, user, rank in (
        (world.community_coordinator, world.practice, world.community_oncologist, PointPerson.Rank.PRIMARY),
        (world.community_coordinator, world.practice, world.community_coordinator, PointPerson.Rank.BACKUP),
        (world.center_coordinator, world.center, center_nurse, PointPerson.Rank.PRIMARY),
        (world.center_coordinator, world.center, world.center_coordinator, PointPerson.Rank.BACKUP),
    ):
        link = patient.care_team.open().get(site=site)
        care_team_name_point_person(actor=actor, link=link, user=user, rank=rank)
    return {"center_nurse": center_nurse}


def at_apheresis(world: World, patient: Patient) -> Referral:
    """`patient` accepted by the center with the insurance authorization done: the apheresis phase."""
    referral = accept(world, draft_referral(world, patient=patient))
    done_on = timezone.localdate() - dt.timedelta(days=2)
    authorization = milestone_plan(
        actor=world.center_coordinator, referral=referral, kind="insurance_authorization", planned_on=done_on
    )
    milestone_complete(actor=world.center_coordinator, milestone=authorization, actual_on=done_on)
    return referral


# --- Toxicities ------------------------------------------------------------------------------


CRS_GRADE_3: dict[str, Any] = {
    "temperature_c": 39.2,
    "vasopressors": 1,
    "oxygen": "nasal_cannula",
    "oxygen_flow_l_min": 4,
}
CRS_GRADE_2: dict[str, Any] = {"temperature_c": 38.6, "hypotension": True}
# The grade 3 assessment as the record form posts it.
CRS_GRADE_3_FORM = {
    "temperature_c": "39.2",
    "vasopressors": "1",
    "oxygen": "nasal_cannula",
    "oxygen_flow_l_min": "4",
}


def record_url(world: World) -> str:
    return reverse("toxicity-record", kwargs={"patient_id": world.shared_patient.pk})


def record_data(world: World, **fields: str) -> dict[str, str]:
    # 08:00 in Chicago, the practice's time zone: 14:00 UTC.
    return {"site": str(world.practice.pk), "kind": "crs", "onset_at": "2027-01-20T08:00", **fields}


def grade_2_event(world: World) -> ToxicityEvent:
    name_point_persons(world)
    return toxicity_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=2),
        inputs=CRS_GRADE_2,
    )


def staff_with_alerts_waiting(world: World) -> tuple[User, int]:
    """The community oncologist, made a member of staff (the header's menu has every link, the
    audit trail's too), with the grade 2 CRS's alerts waiting for them: who, and how many."""
    grade_2_event(world)
    user = world.community_oncologist
    User.objects.filter(pk=user.pk).update(is_staff=True)
    waiting = waiting_alert_count(user)
    assert waiting > 0
    return user, waiting


# --- Hand-offs -------------------------------------------------------------------------------


TRANSITION = "Post-CAR-T transition to community care"
# A valid value for each field type of a template schema.
SAMPLE: dict[str, Any] = {
    "text": "Axicabtagene ciloleucel",
    "long_text": "As discussed on the phone.",
    "date": "2027-02-15",
    "number": 2,
    "grade": 2,
    "ecog": 1,
    "yes_no": True,
    "medication_list": [{"drug": "Acyclovir", "dose": "400 mg", "frequency": "twice daily", "until": "2027-08-01"}],
    "lab_schedule": [{"test": "CBC with differential", "frequency": "weekly", "until": "2027-04-01"}],
}


def ship_templates() -> None:
    """The shipped templates, as migration 0002 makes them (idempotent): a reused test database
    loses them to the flush after a transactional test."""
    importlib.import_module("handoffs.migrations.0002_shipped_templates").ship(apps, None)


def ship_education() -> None:
    """The starter education material, as migration education 0002 makes it (idempotent)."""
    importlib.import_module("education.migrations.0002_starter_material").ship(apps, None)


def ship_late_effects() -> Product:
    """Carvykti with its manufacturer and late-effect watch items, as migrations carecoord 0003
    and 0018 make them (idempotent)."""
    product, _ = Product.objects.get_or_create(
        brand_name="Carvykti",
        defaults={
            "generic_name": "ciltacabtagene autoleucel",
            "short_name": "cilta-cel",
            "target": "bcma",
            "disease_areas": ["multiple_myeloma"],
        },
    )
    importlib.import_module("carecoord.migrations.0019_product_late_effects").seed_late_effects(apps, None)
    product.refresh_from_db()
    return product


def treated_with_carvykti(world: World, referral: Referral) -> Product:
    """The center chooses Carvykti for the accepted `referral`."""
    product = ship_late_effects()
    referral_set_plan(
        actor=world.center_coordinator, referral=referral, product=product, hand_back_day=referral.hand_back_day
    )
    return product


def shipped(name: str = TRANSITION) -> HandoffTemplate:
    return HandoffTemplate.objects.get(name=name, owner_site=None)


def transition() -> HandoffTemplate:
    ship_templates()
    return HandoffTemplate.objects.get(name=TRANSITION, owner_site=None)


def complete_values(template: HandoffTemplate) -> dict[str, Any]:
    """A valid value for every field of the template's published version."""
    version = published_version(template)
    assert version is not None
    schema = version.schema
    return {f.path: f.choices[0] if f.type == "choice" else SAMPLE[f.type] for f in fields_of(schema)}


# Every required field of the shipped transition template, as the edit form posts it.
VALID_POST: dict[str, str] = {
    "treatment.product": "Yescarta (axicabtagene ciloleucel)",
    "treatment.infusion_date": "2027-01-11",
    "treatment.highest_crs": "2",
    "treatment.highest_icans": "0",
    "medications.current.0.drug": "Acyclovir",
    "medications.current.0.dose": "400 mg",
    "medications.current.0.frequency": "twice daily",
    "medications.current.0.until": "12 months",
    "medications.hsv_vzv": "Acyclovir 400 mg twice daily for 12 months.",
    "medications.pjp": "TMP-SMX three times weekly until CD4 > 200/µL.",
    "monitoring.immunoglobulin_plan": "IgG at day 30, then monthly; IVIG when < 400 mg/dL with infections.",
    "monitoring.lab_schedule.0.test": "CBC with differential",
    "monitoring.lab_schedule.0.frequency": "every 2 weeks",
    "monitoring.lab_schedule.0.until": "counts recover",
    "monitoring.irradiated_products": "yes",
    "monitoring.vaccination_plan": "Influenza and COVID from month 3; no live vaccines before month 12.",
    "restrictions.driving_until": "2027-03-08",
    "restrictions.proximity_until": "2027-02-08",
    "safety.red_flags": "Fever, confusion, word-finding trouble, tremor, seizures, bleeding.",
    "safety.center_24_7": "Lakeside CAR-T Center: +1 555 100 2400",
    "safety.point_persons": "Nina Nurse (center), Olive Oncologist (practice)",
    "follow_up.next_center_visit": "2027-02-10",
    "follow_up.long_term_plan": "Center visits at day 90 and 100, 6 months, then yearly for 15 years.",
    "follow_up.consult_done": "yes",
}


def service_values() -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in VALID_POST.items() if k.count(".") == 1}
    values["medications.current"] = [{"drug": "Acyclovir", "dose": "400 mg", "frequency": "twice daily"}]
    values["monitoring.lab_schedule"] = [{"test": "CBC with differential", "frequency": "every 2 weeks"}]
    return values


def draft_handoff(world: World, patient: Patient | None = None, to_site: Site | None = None) -> Handoff:
    """A hand-off from the center to the practice (or to `to_site`), started through the services."""
    return handoff_start(
        actor=world.center_coordinator,
        patient=patient or world.shared_patient,
        template=transition(),
        from_site=world.center,
        to_site=to_site or world.practice,
    )


def started(world: World, name: str = TRANSITION) -> Handoff:
    return handoff_start(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        template=shipped(name),
        from_site=world.center,
        to_site=world.practice,
    )


def sent(world: World) -> Handoff:
    handoff = started(world)
    handoff_save(actor=world.center_coordinator, handoff=handoff, values=complete_values(shipped()))
    return handoff_send(actor=world.center_coordinator, handoff=handoff)


def sent_handoff(world: World, patient: Patient | None = None, to_site: Site | None = None) -> Handoff:
    """A hand-off from the center to the practice (or to `to_site`), sent through the services."""
    handoff = draft_handoff(world, patient, to_site)
    assert handoff_save(actor=world.center_coordinator, handoff=handoff, values=service_values()) == {}
    return handoff_send(actor=world.center_coordinator, handoff=handoff)


# --- A patient's record at two sizes, for query counts --------------------------------------


@dataclass
class Record:
    """A patient's care record built through the services; `grow_record` adds to every part."""

    world: World
    patient: Patient
    referral: Referral


PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def _toxicity(record: Record, minutes_ago: int) -> ToxicityEvent:
    """A CRS recorded at the practice, graded again at the center and treated: alerts to every site."""
    world, now = record.world, timezone.now()
    event = toxicity_record(
        actor=world.community_oncologist,
        patient=record.patient,
        site=world.practice,
        kind="crs",
        onset_at=now - dt.timedelta(minutes=minutes_ago),
        inputs=CRS_GRADE_2,
    )
    toxicity_assess(
        actor=world.center_coordinator,
        event=event,
        site=world.center,
        assessed_at=now - dt.timedelta(minutes=minutes_ago - 1),
        inputs=CRS_GRADE_3,
    )
    toxicity_add_treatment(
        actor=world.center_coordinator,
        event=event,
        site=world.center,
        kind="tocilizumab",
        given_at=now - dt.timedelta(minutes=minutes_ago - 2),
    )
    return event


def _handoff(record: Record, template: str) -> Handoff:
    world = record.world
    handoff = handoff_start(
        actor=world.center_coordinator,
        patient=record.patient,
        template=shipped(template),
        from_site=world.center,
        to_site=world.practice,
    )
    handoff_save(actor=world.center_coordinator, handoff=handoff, values=complete_values(shipped(template)))
    handoff = handoff_send(actor=world.center_coordinator, handoff=handoff)
    handoff_ask(actor=world.community_oncologist, handoff=handoff, body="Which labs first?")
    return handoff


def _comments(record: Record, count: int) -> None:
    world = record.world
    for n in range(count):
        actor, site = (
            (world.community_oncologist, world.practice) if n % 2 else (world.center_coordinator, world.center)
        )
        comment_post(actor=actor, patient=record.patient, site=site, body=f"Message {n}")


def _prevention(record: Record, n: int) -> None:
    """A mild infection (no alert), a prophylaxis whose stop is due today and a vaccine due: on
    the timeline, the infections page, the work queue and the digest."""
    world = record.world
    today = timezone.localdate(timezone=world.practice.zone)
    infection_record(
        actor=world.community_oncologist,
        patient=record.patient,
        site=world.practice,
        body_site="urinary",
        organism="E. coli",
        category="bacterial",
        grade=2,
        setting="outpatient",
        onset_on=today - dt.timedelta(days=n),
    )
    prophylaxis_add(
        actor=world.community_oncologist,
        patient=record.patient,
        site=world.practice,
        item=ProphylaxisInput("antifungal", f"Fluconazole {n}", today - dt.timedelta(days=10), today),
    )
    vaccination_add(
        actor=world.community_oncologist,
        patient=record.patient,
        site=world.practice,
        item=VaccinationInput(f"Vaccine {n}", today),
    )


def _labs(record: Record, site: Site, actor: User, lines: list[str]) -> None:
    """Lab results entered as a pasted block, dated over the last days: flagged ones tell everyone."""
    today = timezone.localdate(timezone=site.zone)
    text = "\n".join(f"{line} {(today - dt.timedelta(days=n)).isoformat()}" for n, line in enumerate(lines))
    lab_results_record(
        actor=actor, patient=record.patient, site=site, entries=read_pasted(text, taken_on=today, day_zero=None)
    )


def small_record(world: World, patient: Patient | None = None) -> Record:
    """The first measurement: something of every kind, once.

    An accepted referral with one document; a step planned, one done and one moved; one
    toxicity with a second assessment, a treatment and its alerts; a hand-off sent, with a
    question; a comment; a mild infection, a prophylaxis and a vaccine due; the practice and the
    center on the care team, with point persons.
    Uploads go to MEDIA_ROOT: use the `tmp_media` fixture."""
    patient = patient or world.shared_patient
    ship_templates()
    name_point_persons(world, patient)
    draft = draft_referral(world, patient=patient)
    referral_attach_document(actor=world.community_coordinator, referral=draft, kind="labs", upload=_pdf("labs.pdf"))
    referral = accept(world, draft)
    record = Record(world=world, patient=patient, referral=referral)
    today = timezone.localdate(timezone=world.center.zone)
    coordinator = world.center_coordinator
    for kind in ("insurance_authorization", "apheresis"):
        milestone_plan(actor=coordinator, referral=referral, kind=kind, planned_on=today + dt.timedelta(days=7))
    # Due this week, whatever the day: on the dashboard's work queue.
    milestone_plan(actor=coordinator, referral=referral, kind="manufacturing_release", planned_on=today)
    done = Milestone.objects.get(referral=referral, kind="insurance_authorization")
    milestone_complete(actor=coordinator, milestone=done, actual_on=today)
    moved = Milestone.objects.get(referral=referral, kind="apheresis")
    milestone_move(actor=coordinator, milestone=moved, planned_on=today + dt.timedelta(days=9), reason="Slot")
    _toxicity(record, minutes_ago=600)
    _handoff(record, TRANSITION)
    _comments(record, 1)
    _prevention(record, 0)
    _labs(record, world.practice, world.community_oncologist, ["ANC 0.3", "Hb 9.1"])
    return record


def grow_record(record: Record) -> None:
    """The second measurement: more of every kind than `small_record` made.

    A third site on the care team (a practice with its own coordinator and point person); day 0
    set, so about 45 milestones, more of them done, due this week and moved, one into a conflict
    with day 0; a second referral, open, with three documents; two more toxicities with their
    assessments, treatments and alerts (to three sites now); another hand-off with its question,
    two more infections, prophylaxis lines and vaccines, more comments, and an entry older than
    the last 30 days."""
    world, referral = record.world, record.referral
    third = SiteFactory.create(name="Hilltop Oncology")
    hilltop = member(third, Role.COORDINATOR, email="coordinator@hilltop.test", full_name="Hal Hilltop")
    link = care_team_add_site(
        actor=world.community_coordinator,
        patient=record.patient,
        site=third,
        capacity=CareTeamLink.Capacity.COMMUNITY_PRACTICE,
    )
    care_team_name_point_person(actor=hilltop, link=link, user=hilltop, rank=PointPerson.Rank.PRIMARY)
    today = timezone.localdate(timezone=world.center.zone)
    coordinator = world.center_coordinator
    milestone_set_infusion(actor=coordinator, referral=referral, infusion_on=today + dt.timedelta(days=20))
    apheresis = Milestone.objects.get(referral=referral, kind="apheresis")
    milestone_complete(actor=coordinator, milestone=apheresis, actual_on=today)
    # More due this week, and a date in conflict (a visit moved before day 0).
    milestone_plan(actor=coordinator, referral=referral, kind="bridging_therapy", planned_on=today)
    visit = Milestone.objects.get(referral=referral, kind=MilestoneKind.VISIT_DAY_30)
    milestone_move(actor=coordinator, milestone=visit, planned_on=today + dt.timedelta(days=1), reason="Slot")
    hand_back = Milestone.objects.get(referral=referral, kind=MilestoneKind.HAND_BACK)
    assert hand_back.planned_on is not None
    milestone_move(
        actor=coordinator, milestone=hand_back, planned_on=hand_back.planned_on + dt.timedelta(days=2), reason="Slot"
    )
    # A second referral, open (documents go only to an open one), with more documents and moves.
    second = draft_referral(world, patient=record.patient)
    for kind in ("pathology", "imaging", "history"):
        referral_attach_document(
            actor=world.community_coordinator, referral=second, kind=kind, upload=_pdf(f"{kind}.pdf")
        )
    advance(second, [(Move.SUBMIT, world.community_coordinator), (Move.ACKNOWLEDGE, world.center_coordinator)])
    for minutes_ago in (300, 200):
        _toxicity(record, minutes_ago)
    _handoff(record, "Toxicity transfer")
    _comments(record, 4)
    for n in (1, 2):
        _prevention(record, n)
    _labs(record, world.center, world.center_coordinator, ["ANC 0.2", "PLT 15", "IgG 3.1", "CD4 120", "CRP 40"] * 4)
    timeline_record(
        patient=record.patient,
        kind=TimelineEntry.Kind.COMMENT,
        title="Comment from the practice",
        body="Before the referral",
        actor=world.community_oncologist,
        site=world.practice,
        occurred_at=timezone.now() - dt.timedelta(days=40),
    )


def queries_of_get(client: Client, url: str) -> int:
    """How many queries one GET of `url` runs; it must answer 200."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured)


def post_measured(client: Client, url: str, data: dict[str, str]) -> tuple[Any, list[str]]:
    """One POST of a list's form (`data`) measured: its response and the statements it ran.

    A first, unmeasured POST warms the caches and refreshes the session's activity stamp (which
    a long set-up between two measurements lets go stale), so both measurements read alike."""
    client.post(url, data)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    return response, [q["sql"][:160] for q in captured.captured_queries]


def another_record(world: World) -> Record:
    """One more patient (at the practice, shared with the center) with a `small_record`: more
    rows in every list, for the second measurement."""
    return small_record(world, patient_at(world.practice, world.community_coordinator, shared_with=world.center))


# --- The Django admin ------------------------------------------------------------------------


def change_form_data(page: str) -> dict[str, Any]:
    """What the browser would post back from an admin change form, unchanged."""
    data: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in {"submit", "button", "file"}):
            continue
        if kind and kind.group(1) == "checkbox" and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        unset = "on" if kind and kind.group(1) == "checkbox" else ""
        data[name.group(1)] = html.unescape(value.group(1)) if value else unset
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.DOTALL):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', options)
        if chosen:
            data[name] = chosen if len(chosen) > 1 else chosen[0]
    return data


# --- Concurrency and waiting -----------------------------------------------------------------


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the answer of that request
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    describe: Callable[[], str] = lambda: "",
    *,
    interval: float = 0.2,
    meanwhile: Callable[[], object] | None = None,
) -> None:
    """Poll `condition` until true; fail with `describe()` after `timeout` seconds.

    The one way tests wait for something another thread or process does: never a fixed sleep,
    which is too short on a busy machine and too long on an idle one. `meanwhile` runs between
    polls (e.g. a sweep, as beat would run it); `interval` is the pause between polls."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s\n{describe()}")
        if meanwhile is not None:
            meanwhile()
        time.sleep(interval)


def holds_for(condition: Callable[[], bool], seconds: float, describe: Callable[[], str] = lambda: "") -> None:
    """Check that `condition` stays true for `seconds` (nothing more arrives, say); fail as soon
    as it turns false. Waiting for something *not* to happen has no earlier end than this."""
    deadline = time.monotonic() + seconds
    while True:
        assert condition(), f"condition no longer holds\n{describe()}"
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)


# --- A center's worth of patients -------------------------------------------------------------

GIVEN_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi", "Liam")
FAMILY_NAMES = ("Abbott", "Baker", "Castillo", "Dlamini", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen")


def many_patients_at(
    site: Site, count: int, *, primary: User | None = None, backup: User | None = None
) -> list[Patient]:
    """`count` patients on `site`'s care team with an MRN there, written in bulk (a few seconds for
    a thousand): the same rows registration writes (patient, MRN, care-team link, the site's
    grants, the point persons named), without the timeline entry and audit of each."""
    patients = Patient.objects.bulk_create(
        [
            Patient(
                given_name=GIVEN_NAMES[index % len(GIVEN_NAMES)],
                family_name=f"{FAMILY_NAMES[index % len(FAMILY_NAMES)]}-{index:04d}",
                date_of_birth=dt.date(1950 + index % 40, 1 + index % 12, 1 + index % 28),
                sex=Patient.Sex.FEMALE if index % 2 else Patient.Sex.MALE,
                disease_area="lbcl",
            )
            for index in range(count)
        ]
    )
    PatientIdentifier.objects.bulk_create(
        [PatientIdentifier(patient=patient, site=site, mrn=f"B{index:06d}") for index, patient in enumerate(patients)]
    )
    links = CareTeamLink.objects.bulk_create(
        [
            CareTeamLink(patient=patient, site=site, capacity=CareTeamLink.Capacity.TREATING_CENTER)
            for patient in patients
        ]
    )
    named = [(rank, user) for rank, user in ((PointPerson.Rank.PRIMARY, primary), (PointPerson.Rank.BACKUP, backup))]
    PointPerson.objects.bulk_create(
        [PointPerson(link=link, user=user, rank=rank) for link in links for rank, user in named if user is not None]
    )
    groups = site_role_groups(site)
    content_type = ContentType.objects.get_for_model(Patient)
    permissions = {p.codename: p for p in Permission.objects.filter(content_type=content_type)}
    PatientGroupObjectPermission.objects.bulk_create(
        [
            PatientGroupObjectPermission(group=groups[role], permission=permissions[codename], content_object=patient)
            for patient in patients
            for role, codenames in ROLE_CAPABILITIES.items()
            for codename in codenames
        ]
    )
    return patients


# --- FHIR referral intake ----------------------------------------------------------------------

# The carecoord systems a practice's system writes in a referral bundle (docs/operators/fhir.md).
_FHIR_EXTENSION = "urn:carecoord:fhir:StructureDefinition:"


def referral_bundle(
    *,
    mrn_site: Site,
    mrn: str,
    center: Site,
    physician: User | None = None,
    identifier: str = "REF-0001",
    documents: list[tuple[str, str, bytes]] | None = None,
    birth_date: str = "1961-03-14",
) -> dict[str, Any]:
    """A referral as a practice's EHR sends it: a transaction Bundle of Patient, ServiceRequest,
    Condition and DocumentReferences (kind, file name, bytes) with the PDFs inline."""

    patient_url, condition_url = "urn:uuid:6f1d0c3e-0000-4000-8000-000000000001", "urn:uuid:6f1d0c3e-0000-4000-8000-2"
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "extension": [
            {"url": f"{_FHIR_EXTENSION}prior-lines-of-therapy", "valueInteger": 2},
            {"url": f"{_FHIR_EXTENSION}ecog-performance-status", "valueInteger": 1},
            {"url": f"{_FHIR_EXTENSION}transplant-eligibility", "valueCode": "ineligible"},
            {"url": f"{_FHIR_EXTENSION}prior-therapies", "valueString": "R-CHOP x6; R-ICE x2"},
        ],
        "identifier": [{"system": "https://ehr.riverbend.example/referrals", "value": identifier}],
        "status": "draft",
        "intent": "order",
        "priority": "urgent",
        "subject": {"reference": patient_url},
        "performer": [{"reference": f"Organization/{center.pk}"}],
        "reasonReference": [{"reference": condition_url}],
        "note": [{"text": "Primary refractory LBCL, candidate for CAR-T."}],
    }
    if physician is not None:
        request["requester"] = {"identifier": {"system": "urn:carecoord:user", "value": str(physician.pk)}}
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": f"urn:carecoord:site:{mrn_site.pk}:mrn", "value": mrn}],
                "name": [{"use": "official", "family": "Bundleson", "given": ["Bea"]}],
                "gender": "female",
                "birthDate": birth_date,
            },
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": "urn:uuid:6f1d0c3e-0000-4000-8000-3",
            "resource": request,
            "request": {"method": "POST", "url": "ServiceRequest"},
        },
        {
            "fullUrl": condition_url,
            "resource": {
                "resourceType": "Condition",
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C83.38"}]},
                "subject": {"reference": patient_url},
            },
            "request": {"method": "POST", "url": "Condition"},
        },
    ]
    for number, (kind, name, content) in enumerate(
        documents if documents is not None else [("pathology", "path.pdf", PDF_BYTES)]
    ):
        entries.append(
            {
                "fullUrl": f"urn:uuid:6f1d0c3e-0000-4000-8000-1{number:03d}",
                "resource": {
                    "resourceType": "DocumentReference",
                    "status": "current",
                    "type": {"coding": [{"system": "urn:carecoord:referral-document-kind", "code": kind}]},
                    "subject": {"reference": patient_url},
                    "content": [
                        {
                            "attachment": {
                                "contentType": "application/pdf",
                                "title": name,
                                "data": base64.b64encode(content).decode(),
                            }
                        }
                    ],
                },
                "request": {"method": "POST", "url": "DocumentReference"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
