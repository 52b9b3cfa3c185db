"""A person who works at two sites acts for each with the role held there, never with the union.

Dana works at the treating center and at the practice, in two directions: read-only at the
center and coordinator at the practice, then the reverse. Every write route of the pages and
the API is tried on behalf of each site the route can act for (`ATTEMPTS`; a write route
without an attempt fails `test_every_write_route_is_tried`). What must come back:

- the role at that site allows it: the request goes through, writes, and everything it writes
  (timeline entries, audit entries) is signed by that site;
- it does not: 400 or 403, and nothing is written.

Where the route itself decides the site (a milestone, a document, a patient's details), the
request goes through as the site whose role allows it, in both directions, and is signed by it.
Each request runs in a savepoint that is rolled back, so every attempt starts from the same data.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from candidates.models import TherapyLine
from candidates.services import therapy_line_record
from carecoord.models import CareTeamLink, Patient, Site, TimelineEntry, User
from carecoord.roles import ROLE_CAPABILITIES, ROLES_THAT_REGISTER_PATIENTS, Role
from carecoord.services.memberships import membership_start
from education.selectors import current_versions
from handoffs.models import Handoff, HandoffTemplate, HandoffTemplateVersion
from handoffs.services import handoff_save, handoff_send, handoff_start, template_draft
from handoffs.template_editor.services import template_create
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from infections.services import ProphylaxisInput, VaccinationInput, infection_record, prophylaxis_add, vaccination_add
from labs.entry import read_pasted
from labs.models import LabResult
from labs.services import lab_results_record
from referrals.models import Milestone, Referral
from referrals.workflow import Move
from tests.factories import death_on_file, member, patient_at
from tests.helpers import (
    REFERRAL_FIELDS,
    VALID_POST,
    World,
    accepted_referral,
    advance,
    draft_referral,
    login,
    referral_bundle,
    service_values,
    ship_education,
    transition,
)
from tests.route_rules import BOOKKEEPING, ROUTE_RULES, WRITE, Need, app_routes
from toxicity.models import ToxicityEvent
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db

CENTER, PRACTICE, EITHER = "center", "practice", "either"
ONE_SECTION = {"key": "notes", "title": "Notes", "fields": [{"key": "note", "label": "Note", "type": "text"}]}
# Needs that are not about acting for a site: the person's own account, their own objects, staff.
NOT_ACTING = {Need.NONE, Need.PUBLIC, Need.SIGNED_IN, Need.OWN, Need.STAFF}


@dataclass
class Samples:
    """Objects of patients whose care team is the center and the practice, made by their staff."""

    world: World
    patient: Patient  # a draft referral from the practice
    submitted: Referral  # another patient, waiting for the center
    accepted: Referral  # a third one, accepted, with its course planned
    unreferred: Patient  # a fourth, not referred yet
    event: ToxicityEvent
    malignancy: ToxicityEvent  # reported to the manufacturer
    drafts: dict[str, Handoff]  # by sending side
    received: dict[str, Handoff]  # sent, by receiving side
    templates: dict[str, HandoffTemplate]  # by owner side
    versions: dict[str, HandoffTemplateVersion]
    infection: InfectionEvent  # severe: it alerted as a toxicity
    prophylaxis: ProphylaxisItem
    vaccination: VaccinationItem
    line: TherapyLine
    deceased: Patient  # a fifth, whose death is recorded
    draft: Referral = field(init=False)
    flagged: dict[str, LabResult] = field(default_factory=dict)  # by the side told (`record_flagged`)

    def __post_init__(self) -> None:
        self.draft = Referral.objects.get(patient=self.patient)

    def site(self, side: str) -> Site:
        return self.world.center if side == CENTER else self.world.practice

    def other(self, side: str) -> Site:
        return self.site(PRACTICE if side == CENTER else CENTER)

    def link(self, side: str) -> CareTeamLink:
        return CareTeamLink.objects.open().get(patient=self.patient, site=self.site(side))

    def staff(self, side: str) -> User:
        """A colleague at the site who records care and manages its care team."""
        return self.world.center_coordinator if side == CENTER else self.world.community_coordinator

    def milestone(self, kind: str) -> Milestone:
        return Milestone.objects.get(referral=self.accepted, kind=kind)

    def record_flagged(self) -> None:
        """Once Dana works at both sites: a flagged result recorded by each site's staff. Neither
        site names a point person, so the other site's coordinators are told (Dana among them
        where she coordinates); the recording site's notices are acknowledged at once."""
        for side in (CENTER, PRACTICE):
            recorder = PRACTICE if side == CENTER else CENTER
            site = self.site(recorder)
            entries = read_pasted("ANC 0.3", taken_on=site.today(), day_zero=None)
            recorded = lab_results_record(actor=self.staff(recorder), patient=self.patient, site=site, entries=entries)
            self.flagged[side] = recorded.created[0]


def _handoff(world: World, patient: Patient, sender: User, from_site: Site, to_site: Site, send: bool) -> Handoff:
    handoff = handoff_start(actor=sender, patient=patient, template=transition(), from_site=from_site, to_site=to_site)
    assert handoff_save(actor=sender, handoff=handoff, values=service_values()) == {}
    return handoff_send(actor=sender, handoff=handoff) if send else handoff


@pytest.fixture
def samples(world: World, settings: Any, tmp_path: Path) -> Samples:
    settings.MEDIA_ROOT = str(tmp_path)
    draft_referral(world)
    second = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    submitted = advance(draft_referral(world, second), [(Move.SUBMIT, world.community_coordinator)])
    third = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    accepted = accepted_referral(world, third)
    unreferred = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    event = toxicity_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        kind="infection",
        onset_at=timezone.now() - dt.timedelta(hours=3),
        ctcae_grade=2,
        infection_site="Lung",
        organism="E. coli",
    )
    malignancy = toxicity_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        kind="secondary_malignancy",
        onset_at=timezone.now() - dt.timedelta(days=2),
        ctcae_grade=3,
    )
    ship_education()
    # The consult planned on the accepted course conflicts, so that keeping it can be confirmed.
    Milestone.objects.filter(referral=accepted, kind="consult").update(conflict="Too late", conflict_key="late")
    # A step done three days ago, whose done date can be corrected.
    three_days_ago = world.center.today() - dt.timedelta(days=3)
    Milestone.objects.create(
        referral=accepted, kind="apheresis", planned_on=three_days_ago, status="done", actual_on=three_days_ago
    )
    people = {CENTER: (world.center_coordinator, world.center), PRACTICE: (world.community_coordinator, world.practice)}
    drafts, received, templates, versions = {}, {}, {}, {}
    for side, (sender, site) in people.items():
        other = world.practice if side == CENTER else world.center
        drafts[side] = _handoff(world, world.shared_patient, sender, site, other, send=False)
        receiver = PRACTICE if side == CENTER else CENTER
        received[receiver] = _handoff(world, world.shared_patient, sender, site, other, send=True)
        templates[side] = template_create(actor=sender, name=f"{site} discharge", description="", owner_site=site)
        versions[side] = template_draft(actor=sender, template=templates[side], schema={"sections": [ONE_SECTION]})
    today = world.practice.today()
    staff, practice = world.community_coordinator, world.practice
    patient = world.shared_patient
    infection = infection_record(
        actor=staff, patient=patient, site=practice, body_site="lung", grade=3, setting="ward", onset_on=today
    )
    prophylaxis = prophylaxis_add(
        actor=staff, patient=patient, site=practice, item=ProphylaxisInput(kind="pjp", agent="TMP-SMX", start_on=today)
    )
    vaccination = vaccination_add(
        actor=staff,
        patient=patient,
        site=practice,
        item=VaccinationInput(vaccine="Influenza (inactivated)", due_on=today),
    )
    line = therapy_line_record(
        actor=staff,
        patient=patient,
        site=practice,
        number=1,
        regimen="R-CHOP",
        drug_classes=["chemoimmunotherapy"],
        started_on=dt.date(2025, 3, 1),
    )
    deceased = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    death_on_file(deceased, practice, world.community_coordinator, today)
    return Samples(
        world=world,
        patient=world.shared_patient,
        submitted=submitted,
        accepted=accepted,
        unreferred=unreferred,
        event=event,
        malignancy=malignancy,
        drafts=drafts,
        received=received,
        templates=templates,
        versions=versions,
        infection=infection,
        prophylaxis=prophylaxis,
        vaccination=vaccination,
        line=line,
        deceased=deceased,
    )


def _local_now(hours_ago: int = 1) -> str:
    """A time that has happened, as the pages take it: local time at the sites (all in Chicago)."""
    moment = timezone.localtime(timezone.now() - dt.timedelta(hours=hours_ago), ZoneInfo("America/Chicago"))
    return moment.strftime("%Y-%m-%dT%H:%M")


def _today() -> dt.date:
    return timezone.localdate()


Payload = Callable[[Samples, str], dict[str, Any]]
Url = Callable[[Samples, str], str]


@dataclass(frozen=True)
class Attempt:
    """One write, made on behalf of `side` (or of whichever site may, for EITHER)."""

    route: str
    url: Url
    payload: Payload
    need: Need
    sides: tuple[str, ...] = (CENTER, PRACTICE)
    api: bool = False
    method: str = "post"
    writes: bool = True

    def label(self, side: str) -> str:
        return f"{self.method.upper()} {self.route} as {side}"


def _patient_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"patient_id": s.patient.pk})


def _event_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"event_id": s.event.pk})


def _milestone_url(name: str, kind: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"milestone_id": s.milestone(kind).pk})


def _accepted_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"referral_id": s.accepted.pk})


def _draft_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"referral_id": s.draft.pk})


def _move_url(name: str) -> Url:
    """A practice move on the draft referral, a center move on the submitted one."""
    return lambda s, side: reverse(name, kwargs={"referral_id": (s.draft if side == PRACTICE else s.submitted).pk})


def _move(s: Samples, side: str) -> dict[str, Any]:
    return {"move": Move.SUBMIT if side == PRACTICE else Move.ACKNOWLEDGE, "note": "Dual-role walk"}


def _site(s: Samples, side: str, key: str = "site") -> dict[str, Any]:
    return {key: s.site(side).pk}


def _death(s: Samples, side: str) -> dict[str, Any]:
    """The shared patient died today, of relapse (as the page and the API take it): not before
    anything recorded of them (their toxicities, infection and lab results are of today)."""
    return _site(s, side) | {"died_on": s.world.practice.today().isoformat(), "cause": "relapse", "detail": ""}


def _toxicity(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {
        "kind": "infection",
        "onset_at": _local_now(2),
        "grade": "3",
        "infection_site": "Blood",
        "organism": "Klebsiella",
        # The walk records infections one after the other while the first is still active: each
        # is confirmed a new episode (the page asks otherwise; the API does not read this).
        "new_episode": "on",
    }


def _assess(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {"assessed_at": _local_now(1), "grade": "3", "note": "Worse"}


def _treat(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {"kind": "antimicrobial", "given_at": _local_now(1), "detail": "Meropenem"}


def _resolve(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {"resolved_on": _today().isoformat(), "outcome": "recovered"}


def _report(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {"reported_at": _local_now(1), "reference": "WALK-1"}


def _education(s: Samples, side: str) -> dict[str, Any]:
    version = current_versions().values_list("pk", flat=True)[0]
    return _site(s, side) | {"version": version, "recipient": "caregiver", "given_at": _local_now(1)}


def _therapy_line(s: Samples, side: str) -> dict[str, Any]:
    """A second line of the shared patient (its first is among the samples)."""
    return _site(s, side) | {
        "number": 2,
        "regimen": "R-CHOP",
        "drug_classes": ["chemoimmunotherapy"],
        "started_on": "2025-03-01",
        "best_response": "complete",
    }


def _day(s: Samples, side: str) -> str:
    """Today at the site, as the date fields take it."""
    return s.site(side).today().isoformat()


def _on_day(key: str) -> Payload:
    """The site and today there as `key`: an infection resolved, a prophylaxis stopped, a vaccine given."""
    return lambda s, side: _site(s, side) | {key: _day(s, side)}


def _infection(s: Samples, side: str) -> dict[str, Any]:
    # Grade 3: it alerts, as a toxicity recorded with it, signed by the same site.
    return _site(s, side) | {
        "body_site": "bloodstream",
        "organism": "Klebsiella",
        "category": "bacterial",
        "grade": "3",
        "setting": "ward",
        "onset_on": _day(s, side),
    }


def _prophylaxis(s: Samples, side: str) -> dict[str, Any]:
    return {"kind": "antifungal", "agent": "Posaconazole 300 mg daily", "start_on": _day(s, side)}


def _vaccination(s: Samples, side: str) -> dict[str, Any]:
    return {"vaccine": "Pneumococcal conjugate (PCV20)", "due_on": LATER}


def _plan(s: Samples, side: str) -> dict[str, Any]:
    """The prevention plan's page: the site, and one ticked line in each of its two lists."""
    rows = {"prophylaxis": _prophylaxis(s, side), "vaccination": _vaccination(s, side)}
    fields = {
        f"{prefix}-0-{key}": value for prefix, row in rows.items() for key, value in (row | {"include": "on"}).items()
    }
    management = {
        f"{prefix}-{key}": count for prefix in rows for key, count in (("TOTAL_FORMS", 1), ("INITIAL_FORMS", 0))
    }
    return _site(s, side) | fields | management


def _object_url(name: str, kwarg: str, of: str) -> Url:
    return lambda s, side: reverse(name, kwargs={kwarg: getattr(s, of).pk})


def _malignancy_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"event_id": s.malignancy.pk})


def _api_time(local: str) -> str:
    """The same moment as the API takes it: ISO 8601 with its offset."""
    return dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("America/Chicago")).isoformat()


def _referral(s: Samples, side: str) -> dict[str, Any]:
    return {
        "patient": str(s.unreferred.pk),
        "from_site": s.site(side).pk,
        "to_center": s.world.center.pk,
        "referring_physician": s.world.community_oncologist.pk,
        **REFERRAL_FIELDS,
    }


def _bundle(s: Samples, side: str) -> dict[str, Any]:
    """The unreferred patient's referral as the practice's EHR sends it (`POST /fhir/Bundle`)."""
    patient = s.unreferred
    return referral_bundle(
        mrn_site=s.site(side),
        mrn=patient.identifiers.get(site=s.world.practice).mrn,
        birth_date=str(patient.date_of_birth),
        center=s.world.center,
        physician=s.world.community_oncologist,
    )


def _register(s: Samples, side: str) -> dict[str, Any]:
    return _site(s, side) | {
        "mrn": f"DUAL-{side}",
        "given_name": "Dual",
        "family_name": "Walk",
        "date_of_birth": "1970-01-01",
        "sex": "female",
        "disease_area": "lbcl",
    }


def _upload(s: Samples, side: str) -> dict[str, Any]:
    return {"kind": "pathology", "file": SimpleUploadedFile("path.pdf", b"%PDF-1.4 walk", "application/pdf")}


def _handoff_url(name: str, of: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"handoff_id": getattr(s, of)[side].pk})


def _template_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"template_id": s.templates[side].pk})


def _sent_elsewhere(s: Samples, side: str) -> str:
    # Questions are asked on any sent hand-off; this one goes from the practice to the center.
    return reverse("handoff-question", kwargs={"handoff_id": s.received[CENTER].pk})


def _nothing(s: Samples, side: str) -> dict[str, Any]:
    return {}


RC, CHANGE, MANAGE = Need.RECORD_CARE, Need.CHANGE, Need.MANAGE_CARE_TEAM
SITE_COORDINATOR, REGISTER, REFER = Need.SITE_COORDINATOR, Need.REGISTER, Need.REFER
EITHER_SIDE = (EITHER,)
LATER = (timezone.localdate() + dt.timedelta(days=60)).isoformat()

PAGE_ATTEMPTS = [
    Attempt("patient-edit", _patient_url("patient-edit"), lambda s, side: _details(s), CHANGE, EITHER_SIDE),
    Attempt(
        "patient-identifier",
        _patient_url("patient-identifier"),
        lambda s, side: _site(s, side) | {"mrn": f"WALK-{side}"},
        CHANGE,
    ),
    Attempt(
        "patient-point-persons",
        _patient_url("patient-point-persons"),
        lambda s, side: _site(s, side) | {"primary": s.staff(side).pk, "backup": ""},
        MANAGE,
    ),
    Attempt(
        "patient-share",
        _patient_url("patient-share"),
        lambda s, side: {"site": s.world.unrelated_practice.pk, "capacity": "community_practice"},
        MANAGE,
        EITHER_SIDE,
    ),
    Attempt("patient-leave", _patient_url("patient-leave"), lambda s, side: _site(s, side) | {"confirm": "on"}, MANAGE),
    Attempt("patient-comment", _patient_url("patient-comment"), lambda s, side: _site(s, side) | {"body": "Hi"}, RC),
    Attempt(
        "referral-create",
        lambda s, side: reverse("referral-create"),
        lambda s, side: _referral(s, side) | {"patient_mode": "existing", "action": "draft"},
        REFER,
        (PRACTICE,),
    ),
    Attempt(
        "referral-edit",  # before the draft is submitted (`referral-move`)
        _draft_url("referral-edit"),
        lambda s, side: {
            "to_center": s.world.center.pk,
            "referring_physician": s.world.community_oncologist.pk,
            **REFERRAL_FIELDS,
            "reason": "Corrected in the dual-role walk",
        },
        REFER,
        (PRACTICE,),
    ),
    Attempt("referral-move", _move_url("referral-move"), _move, RC),
    Attempt("referral-plan", _accepted_url("referral-plan"), lambda s, side: {"hand_back_day": "21"}, RC, (CENTER,)),
    Attempt("referral-document-add", _draft_url("referral-document-add"), _upload, RC, EITHER_SIDE),
    Attempt(
        "referral-infusion",
        _accepted_url("referral-infusion"),
        lambda s, side: {"infusion_on": LATER, "reason": "Product release moved", "confirm_date": "on"},
        RC,
        (CENTER,),  # day 0 is the center's act
    ),
    Attempt(
        "milestone-plan",
        _accepted_url("milestone-plan"),
        lambda s, side: {"kind": "bridging_therapy", "planned_on": LATER, "confirm_date": "on"},
        RC,
        EITHER_SIDE,
    ),
    Attempt(
        "milestone-complete",
        _milestone_url("milestone-complete", "consult"),
        lambda s, side: {"actual_on": _today().isoformat(), "confirm_date": "on"},
        RC,
        EITHER_SIDE,
    ),
    Attempt(
        "milestone-move",
        _milestone_url("milestone-move", "consult"),
        lambda s, side: {"planned_on": LATER, "reason": "Walk", "confirm_date": "on"},
        RC,
        EITHER_SIDE,
    ),
    Attempt(
        "milestone-cancel",
        _milestone_url("milestone-cancel", "consult"),
        lambda s, side: {"reason": "Walk"},
        RC,
        EITHER_SIDE,
    ),
    Attempt(
        "milestone-confirm",
        _milestone_url("milestone-confirm", "consult"),
        lambda s, side: {"reason": "Walk"},
        RC,
        EITHER_SIDE,
    ),
    Attempt(
        "milestone-correct",
        _milestone_url("milestone-correct", "apheresis"),
        lambda s, side: {"actual_on": (_today() - dt.timedelta(days=1)).isoformat(), "confirm_date": "on"},
        RC,
        EITHER_SIDE,
    ),
    Attempt("toxicity-record", _patient_url("toxicity-record"), _toxicity, RC),
    Attempt(
        "toxicity-grade-preview",
        _patient_url("toxicity-grade-preview"),
        lambda s, side: {"kind": "crs", "temperature_c": "39.2"},
        RC,
        EITHER_SIDE,
        writes=False,
    ),
    Attempt("toxicity-assess", _event_url("toxicity-assess"), _assess, RC),
    Attempt("toxicity-treatment", _event_url("toxicity-treatment"), _treat, RC),
    Attempt("toxicity-resolve", _event_url("toxicity-resolve"), _resolve, RC),
    Attempt("toxicity-manufacturer-report", _malignancy_url("toxicity-manufacturer-report"), _report, RC),
    Attempt("education-patient", _patient_url("education-patient"), _education, RC),
    Attempt("candidates-history", _patient_url("candidates-history"), _therapy_line, RC),
    Attempt(
        "candidates-line-edit",
        _object_url("candidates-line-edit", "line_id", "line"),
        lambda s, side: _therapy_line(s, side) | {"number": 1, "ended_on": "2025-07-01", "refractory": "on"},
        RC,
    ),
    Attempt(
        "candidates-transplant-candidacy",
        _patient_url("candidates-transplant-candidacy"),
        lambda s, side: _site(s, side) | {"status": "no", "reason": "Comorbidity"},
        RC,
    ),
    Attempt("infection-record", _patient_url("infection-record"), _infection, RC),
    Attempt("patient-death", _patient_url("patient-death"), lambda s, side: _death(s, side), RC),
    Attempt(
        "patient-death-withdraw",
        lambda s, side: reverse("patient-death-withdraw", kwargs={"patient_id": s.deceased.pk}),
        lambda s, side: _site(s, side) | {"reason": "Recorded on the wrong patient"},
        RC,
    ),
    Attempt(
        "infection-resolve",
        _object_url("infection-resolve", "infection_id", "infection"),
        _on_day("resolved_on"),
        RC,
    ),
    Attempt("prevention-plan", _patient_url("prevention-plan"), _plan, RC),
    Attempt(
        "prophylaxis-add", _patient_url("prophylaxis-add"), lambda s, side: _site(s, side) | _prophylaxis(s, side), RC
    ),
    Attempt(
        "prophylaxis-stop",
        _object_url("prophylaxis-stop", "prophylaxis_id", "prophylaxis"),
        _on_day("stopped_on"),
        RC,
    ),
    Attempt(
        "prophylaxis-review",
        _object_url("prophylaxis-review", "prophylaxis_id", "prophylaxis"),
        lambda s, side: _site(s, side) | {"planned_stop_on": LATER, "stop_condition": "Until CD4 > 200/µL"},
        RC,
    ),
    Attempt(
        "vaccination-add", _patient_url("vaccination-add"), lambda s, side: _site(s, side) | _vaccination(s, side), RC
    ),
    Attempt(
        "vaccination-given",
        _object_url("vaccination-given", "vaccination_id", "vaccination"),
        _on_day("given_on"),
        RC,
    ),
    Attempt(
        "lab-entry",
        _patient_url("lab-entry"),
        lambda s, side: _site(s, side) | {"mode": "paste", "text": "PLT 18", "taken_on": _day(s, side)},
        RC,
    ),
    Attempt(
        "handoff-start",
        _patient_url("handoff-start"),
        lambda s, side: {"template": transition().pk, "from_site": s.site(side).pk, "to_site": s.other(side).pk},
        RC,
    ),
    Attempt(
        "handoff-edit", _handoff_url("handoff-edit", "drafts"), lambda s, side: VALID_POST | {"action": "save"}, RC
    ),
    Attempt("handoff-preview", _handoff_url("handoff-preview", "drafts"), lambda s, side: VALID_POST, RC, writes=False),
    Attempt("handoff-acknowledge", _handoff_url("handoff-acknowledge", "received"), _nothing, SITE_COORDINATOR),
    Attempt("handoff-question", _sent_elsewhere, lambda s, side: {"body": "Which dose?"}, RC, EITHER_SIDE),
    Attempt(
        "handoff-template-create",
        lambda s, side: reverse("handoff-template-create"),
        lambda s, side: {"name": f"Walk {side}", "description": "", "owner_site": s.site(side).pk},
        SITE_COORDINATOR,
    ),
    Attempt(
        "handoff-template-edit",
        _template_url("handoff-template-edit"),
        lambda s, side: {"schema": json.dumps({"sections": [ONE_SECTION, ONE_SECTION | {"key": "more"}]})},
        SITE_COORDINATOR,
    ),
    Attempt(
        "handoff-template-preview",
        _template_url("handoff-template-preview"),
        lambda s, side: {"schema": json.dumps({"sections": [ONE_SECTION]})},
        SITE_COORDINATOR,
        writes=False,
    ),
    Attempt(
        "handoff-template-publish",
        lambda s, side: reverse("handoff-template-publish", kwargs={"version_id": s.versions[side].pk}),
        _nothing,
        SITE_COORDINATOR,
    ),
]


def _details(s: Samples) -> dict[str, Any]:
    patient = s.patient
    return {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "disease_area": patient.disease_area,
        "caregiver_name": "Walker",
        "caregiver_relationship": "",
        "caregiver_phone": "",
    }


def _api(name: str, **kwargs: Any) -> Attempt:
    return Attempt(name, api=True, **kwargs)


def _api_patient_url(name: str) -> Url:
    return lambda s, side: reverse(name, kwargs={"patient_id": s.patient.pk})


def _api_timed(payload: Payload, key: str) -> Payload:
    return lambda s, side: payload(s, side) | {key: _api_time(payload(s, side)[key])}


API_ATTEMPTS = [
    _api("api:patient-list", url=lambda s, side: reverse("api:patient-list"), payload=_register, need=REGISTER),
    _api(
        "api:patient-detail",
        url=_api_patient_url("api:patient-detail"),
        payload=lambda s, side: {"caregiver_name": "Walker"},
        need=CHANGE,
        sides=EITHER_SIDE,
        method="patch",
    ),
    _api(
        "api:patient-comments",
        url=_api_patient_url("api:patient-comments"),
        payload=lambda s, side: _site(s, side) | {"body": "Hi"},
        need=RC,
    ),
    _api(
        "api:care-team-link-list",
        url=lambda s, side: reverse("api:care-team-link-list"),
        payload=lambda s, side: {
            "patient": str(s.patient.pk),
            "site": s.world.unrelated_practice.pk,
            "capacity": "community_practice",
            "from_site": s.site(side).pk,
        },
        need=MANAGE,
    ),
    _api(
        "api:care-team-link-end",
        url=lambda s, side: reverse("api:care-team-link-end", kwargs={"link_id": s.link(side).pk}),
        payload=_nothing,
        need=MANAGE,
    ),
    _api(
        "api:point-person-list",
        url=lambda s, side: reverse("api:point-person-list"),
        payload=lambda s, side: {"link": s.link(side).pk, "user": s.staff(side).pk, "rank": "primary"},
        need=MANAGE,
    ),
    _api(
        "api:referral-list",
        url=lambda s, side: reverse("api:referral-list"),
        payload=_referral,
        need=REFER,
        sides=(PRACTICE,),
    ),
    # The FHIR intake: the practice the Patient's MRN names is the site acted for.
    _api("fhir-bundle", url=lambda s, side: reverse("fhir-bundle"), payload=_bundle, need=REFER, sides=(PRACTICE,)),
    _api("api:referral-move", url=_move_url("api:referral-move"), payload=_move, need=RC),
    _api(
        "api:referral-plan",
        url=_accepted_url("api:referral-plan"),
        payload=lambda s, side: {"product": None, "hand_back_day": 21},
        need=RC,
        sides=(CENTER,),
    ),
    _api(
        "api:referral-documents",
        url=_draft_url("api:referral-documents"),
        payload=_upload,
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:referral-infusion",
        url=_accepted_url("api:referral-infusion"),
        payload=lambda s, side: {"infusion_on": LATER, "reason": "Product release moved", "confirm_date": True},
        need=RC,
        sides=(CENTER,),  # day 0 is the center's act
    ),
    _api(
        "api:referral-milestones",
        url=_accepted_url("api:referral-milestones"),
        payload=lambda s, side: {"kind": "bridging_therapy", "planned_on": LATER, "confirm_date": True},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:milestone-complete",
        url=_milestone_url("api:milestone-complete", "consult"),
        payload=lambda s, side: {"actual_on": _today().isoformat(), "confirm_date": True},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:milestone-correct",
        url=_milestone_url("api:milestone-correct", "apheresis"),
        payload=lambda s, side: {"actual_on": (_today() - dt.timedelta(days=1)).isoformat(), "confirm_date": True},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:milestone-move",
        url=_milestone_url("api:milestone-move", "consult"),
        payload=lambda s, side: {"planned_on": LATER, "reason": "Walk", "confirm_date": True},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:milestone-cancel",
        url=_milestone_url("api:milestone-cancel", "consult"),
        payload=lambda s, side: {"reason": "Walk"},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:milestone-confirm",
        url=_milestone_url("api:milestone-confirm", "consult"),
        payload=lambda s, side: {"reason": "Walk"},
        need=RC,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:toxicity-event-list",
        url=lambda s, side: reverse("api:toxicity-event-list"),
        payload=lambda s, side: _api_timed(_toxicity, "onset_at")(s, side) | {"patient": str(s.patient.pk), "grade": 3},
        need=RC,
    ),
    _api(
        "api:toxicity-event-assessments",
        url=_event_url("api:toxicity-event-assessments"),
        payload=lambda s, side: _api_timed(_assess, "assessed_at")(s, side) | {"grade": 3},
        need=RC,
    ),
    _api(
        "api:toxicity-event-treatments",
        url=_event_url("api:toxicity-event-treatments"),
        payload=_api_timed(_treat, "given_at"),
        need=RC,
    ),
    _api("api:toxicity-event-resolve", url=_event_url("api:toxicity-event-resolve"), payload=_resolve, need=RC),
    _api(
        "api:toxicity-event-manufacturer-report",
        url=_malignancy_url("api:toxicity-event-manufacturer-report"),
        payload=_api_timed(_report, "reported_at"),
        need=RC,
    ),
    _api(
        "api:education-given-list",
        url=lambda s, side: reverse("api:education-given-list"),
        payload=lambda s, side: _api_timed(_education, "given_at")(s, side) | {"patient": str(s.patient.pk)},
        need=RC,
    ),
    _api(
        "api:therapy-line-list",
        url=lambda s, side: reverse("api:therapy-line-list"),
        payload=lambda s, side: _therapy_line(s, side) | {"patient": str(s.patient.pk)},
        need=RC,
    ),
    _api(
        "api:therapy-line-detail",
        url=_object_url("api:therapy-line-detail", "line_id", "line"),
        payload=lambda s, side: _site(s, side) | {"ended_on": "2025-07-01", "refractory": True},
        need=RC,
        method="patch",
    ),
    _api(
        "api:patient-transplant-candidacy",
        url=_api_patient_url("api:patient-transplant-candidacy"),
        payload=lambda s, side: _site(s, side) | {"status": "no", "reason": "Comorbidity"},
        need=RC,
    ),
    _api(
        "api:patient-death",
        url=_api_patient_url("api:patient-death"),
        payload=lambda s, side: _death(s, side),
        need=RC,
    ),
    _api(
        "api:patient-death-withdraw",
        url=lambda s, side: reverse("api:patient-death-withdraw", kwargs={"patient_id": s.deceased.pk}),
        payload=lambda s, side: _site(s, side) | {"reason": "Recorded on the wrong patient"},
        need=RC,
    ),
    _api(
        "api:infection-list",
        url=lambda s, side: reverse("api:infection-list"),
        payload=lambda s, side: _infection(s, side) | {"patient": str(s.patient.pk), "grade": 3},
        need=RC,
    ),
    _api(
        "api:infection-resolve",
        url=_object_url("api:infection-resolve", "infection_id", "infection"),
        payload=_on_day("resolved_on"),
        need=RC,
    ),
    _api(
        "api:patient-prevention-plan",
        url=_api_patient_url("api:patient-prevention-plan"),
        payload=lambda s, side: (
            _site(s, side) | {"prophylaxis": [_prophylaxis(s, side)], "vaccinations": [_vaccination(s, side)]}
        ),
        need=RC,
    ),
    _api(
        "api:prophylaxis-item-list",
        url=lambda s, side: reverse("api:prophylaxis-item-list"),
        payload=lambda s, side: _site(s, side) | _prophylaxis(s, side) | {"patient": str(s.patient.pk)},
        need=RC,
    ),
    _api(
        "api:prophylaxis-item-stop",
        url=_object_url("api:prophylaxis-item-stop", "prophylaxis_id", "prophylaxis"),
        payload=_on_day("stopped_on"),
        need=RC,
    ),
    _api(
        "api:prophylaxis-item-review",
        url=_object_url("api:prophylaxis-item-review", "prophylaxis_id", "prophylaxis"),
        payload=lambda s, side: _site(s, side) | {"planned_stop_on": LATER},
        need=RC,
    ),
    _api(
        "api:vaccination-list",
        url=lambda s, side: reverse("api:vaccination-list"),
        payload=lambda s, side: _site(s, side) | _vaccination(s, side) | {"patient": str(s.patient.pk)},
        need=RC,
    ),
    _api(
        "api:vaccination-given",
        url=_object_url("api:vaccination-given", "vaccination_id", "vaccination"),
        payload=_on_day("given_on"),
        need=RC,
    ),
    _api(
        "api:lab-result-list",
        url=lambda s, side: reverse("api:lab-result-list"),
        payload=lambda s, side: (
            _site(s, side)
            | {"patient": str(s.patient.pk), "kind": "platelets", "value": 18000, "taken_on": _day(s, side)}
        ),
        need=RC,
    ),
    _api(
        "api:lab-result-bulk",
        url=lambda s, side: reverse("api:lab-result-bulk"),
        payload=lambda s, side: (
            _site(s, side) | {"patient": str(s.patient.pk), "text": "PLT 17\nHb 6.9", "taken_on": _day(s, side)}
        ),
        need=RC,
    ),
    # The person told acknowledges for the site they were told as: the notice decides the site.
    # Dana is told where she coordinates (a read-only member is never told), and any role there may.
    _api(
        "api:lab-result-acknowledge",
        url=lambda s, side: reverse("api:lab-result-acknowledge", kwargs={"result_id": s.flagged[side].pk}),
        payload=_nothing,
        need=Need.VIEW,
        sides=EITHER_SIDE,
    ),
    _api(
        "api:handoff-list",
        url=lambda s, side: reverse("api:handoff-list"),
        payload=lambda s, side: {
            "patient": str(s.patient.pk),
            "template": transition().pk,
            "from_site": s.site(side).pk,
            "to_site": s.other(side).pk,
        },
        need=RC,
    ),
    _api(
        "api:handoff-values",
        url=_handoff_url("api:handoff-values", "drafts"),
        payload=lambda s, side: {"values": {"safety.red_flags": "Fever, confusion."}},
        need=RC,
        method="patch",
    ),
    _api("api:handoff-send", url=_handoff_url("api:handoff-send", "drafts"), payload=_nothing, need=RC),
    _api(
        "api:handoff-acknowledge",
        url=_handoff_url("api:handoff-acknowledge", "received"),
        payload=_nothing,
        need=SITE_COORDINATOR,
    ),
    _api(
        "api:handoff-questions",
        url=lambda s, side: reverse("api:handoff-questions", kwargs={"handoff_id": s.received[CENTER].pk}),
        payload=lambda s, side: {"body": "Which dose?"},
        need=RC,
        sides=EITHER_SIDE,
    ),
]

ATTEMPTS = PAGE_ATTEMPTS + API_ATTEMPTS


def meets(need: Need, role: str) -> bool:
    if need is Need.REGISTER:
        return role in ROLES_THAT_REGISTER_PATIENTS
    if need in {Need.SITE_COORDINATOR, Need.REFER}:
        # REFER: recording care at a practice; in this walk the other role is read-only.
        return role == Role.COORDINATOR
    return need.value in ROLE_CAPABILITIES[role]


@dataclass(frozen=True)
class Outcome:
    status: int
    written: set[str]
    signed_by: set[int | None]  # the site of each timeline entry and audited change written


def attempt(client: Client, method: str, url: str, payload: dict[str, Any], api: bool) -> Outcome:
    """One request, rolled back, with what it wrote and which sites signed it."""
    cookies = copy.deepcopy(client.cookies)
    last_entry = TimelineEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        if api and not any(isinstance(v, SimpleUploadedFile) for v in payload.values()):
            response = getattr(client, method)(url, data=payload, content_type="application/json")
        else:
            response = getattr(client, method)(url, data=payload)
        entries = list(TimelineEntry.objects.filter(pk__gt=last_entry).values_list("site_id", flat=True))
        audited = AuditEntry.objects.filter(pk__gt=last_audit, patient__isnull=False).exclude(
            action__in=[AuditEntry.Action.VIEW, AuditEntry.Action.DOWNLOAD, AuditEntry.Action.EXPORT]
        )
        signed: set[int | None] = {*entries, *audited.values_list("site_id", flat=True)}
        transaction.set_rollback(True)
    client.cookies = cookies
    written = {match[1] for query in queries.captured_queries if (match := WRITE.match(query["sql"]))}
    return Outcome(response.status_code, {t for t in written if not t.startswith(BOOKKEEPING)}, signed)


DIRECTIONS = {
    "read-only at the center, coordinator at the practice": {CENTER: Role.READ_ONLY, PRACTICE: Role.COORDINATOR},
    "coordinator at the center, read-only at the practice": {CENTER: Role.COORDINATOR, PRACTICE: Role.READ_ONLY},
}


def test_every_write_route_is_tried() -> None:
    routes = {route.name for route in app_routes() if "format" not in route.kwargs}
    acting = {name for name in routes & ROUTE_RULES.keys() if ROUTE_RULES[name].write not in NOT_ACTING}
    tried = {a.route for a in ATTEMPTS}
    assert acting - tried == set(), "add a dual-role attempt for these write routes"
    assert tried <= acting


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_a_person_at_two_sites_acts_for_each_with_that_sites_role(
    client: Client, world: World, samples: Samples, direction: str
) -> None:
    roles = DIRECTIONS[direction]
    dana = member(world.center, roles[CENTER], email="dana@lakeside.test", full_name="Dana Dual")
    membership_start(user=dana, site=world.practice, role=roles[PRACTICE], starts_on=dt.date(2020, 1, 1))
    samples.record_flagged()
    login(client, dana)
    capable = CENTER if roles[CENTER] == Role.COORDINATOR else PRACTICE
    failures: list[str] = []
    allowed_count = refused_count = 0
    for item in ATTEMPTS:
        for side in item.sides:
            acting = capable if side == EITHER else side
            site = samples.site(acting)
            allowed = meets(item.need, roles[acting])
            outcome = attempt(client, item.method, item.url(samples, acting), item.payload(samples, acting), item.api)
            label = item.label(side)
            if allowed:
                allowed_count += 1
                if outcome.status >= 400:
                    failures.append(f"{label}: refused ({outcome.status}) though the role at {site} allows it")
                elif item.writes and not outcome.written:
                    failures.append(f"{label}: answered {outcome.status} but wrote nothing")
                elif outcome.signed_by - {site.pk}:
                    failures.append(f"{label}: signed by sites {sorted(map(str, outcome.signed_by))}, not {site}")
            else:
                refused_count += 1
                if outcome.status not in {400, 403}:
                    failures.append(f"{label}: {outcome.status}, expected a refusal (400 or 403)")
                if outcome.written:
                    failures.append(f"{label}: refused but wrote to {sorted(outcome.written)}")
    assert not failures, f"{direction} ({len(failures)}):\n" + "\n".join(failures)
    # Both kinds of answer were exercised in this direction.
    assert allowed_count > 20 and refused_count > 10
