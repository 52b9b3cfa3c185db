"""Who may use each route: the one table the permission matrix checks every route against.

Each route name maps to what a GET needs (`read`) and what its unsafe methods need (`write`),
in terms of `carecoord.roles` capabilities on the patient behind the URL, or of the few rules
that are not a capability (a coordinator of the owning site, the person an alert is for...).
A route that is not in the table fails `test_every_route_is_classified`, so whoever adds a
route decides here who may use it.

How a need is answered, for a signed-in member of a care-team site of the patient:

- met: a GET answers 200 (or a redirect; 405 where the route has no GET); an unsafe method
  is not refused (an empty body may well answer 400: the matrix checks the gate, not the
  payload);
- not met: 403, before the request body is read, and nothing changes; except `OWN`, whose
  objects are 404 for everyone else (nobody learns that another person's alert exists), and
  `STAFF`, which may also send to the sign-in page;
- out of scope (the member's site is not on the patient's care team): 404 for every method.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from calendars.services import feed_create
from candidates.services import therapy_line_record, transplant_candidacy_record
from carecoord.accounts.api_tokens import api_token_create
from carecoord.health import heartbeat_record
from carecoord.models import CareTeamLink, PointPerson, Product, SiteMembership
from carecoord.roles import Capability
from carecoord.services.care_teams import care_team_name_point_person
from carecoord.services.comments import comment_post
from education.selectors import current_versions
from education.services import education_record
from handoffs.services import template_draft
from handoffs.template_editor.services import template_create
from infections.services import ProphylaxisInput, VaccinationInput, infection_record, prophylaxis_add, vaccination_add
from labs.entry import read_pasted
from labs.models import LabFlagNotice
from labs.services import lab_results_record
from referrals.milestones.services import milestone_plan
from referrals.services import referral_attach_document
from tests.helpers import World, draft_referral, sent_handoff, ship_education
from toxicity.models import Alert
from toxicity.services import toxicity_add_treatment, toxicity_record


class Need(StrEnum):
    PUBLIC = "public"  # anyone, even signed out: no patient data
    # Whoever holds the secret key in the URL, signed in or not (a calendar feed: calendar apps
    # cannot sign in); a wrong or revoked key is 404 for everyone.
    KEY = "key"
    SIGNED_IN = "signed_in"  # anyone signed in; what comes back is scoped to them
    SITE_MEMBER = "site_member"  # anyone working at the site owning the object (templates)
    VIEW = Capability.VIEW
    RECORD_CARE = Capability.RECORD_CARE
    CHANGE = Capability.CHANGE
    MANAGE_CARE_TEAM = Capability.MANAGE_CARE_TEAM
    REGISTER = "register"  # a role that registers patients at its site (roles.ROLES_THAT_REGISTER_PATIENTS)
    REFER = "refer"  # record care at a community practice: referrals start there
    # A coordinator of the site owning the object: a template's owner site, or a hand-off's
    # receiving site while no point person is named there.
    SITE_COORDINATOR = "site_coordinator"
    OWN = "own"  # only the person the object belongs to (their alert, membership, token)
    STAFF = "staff"  # site administrators (is_staff) only
    NONE = "none"  # the route takes no such method: 405


@dataclass(frozen=True)
class Rule:
    read: Need
    write: Need = Need.NONE
    # URL kwarg -> name of the sample to use instead of the kwarg's default one.
    samples: Mapping[str, str] = field(default_factory=dict)
    # Appended to a GET, for routes that need parameters; `{name}` is filled from the samples.
    query: str = ""


V, RC, N = Need.VIEW, Need.RECORD_CARE, Need.NONE
PAGES: dict[str, Rule] = {
    # Signing in and the person's own account: no patient data.
    "login": Rule(Need.PUBLIC, Need.PUBLIC),
    "logout": Rule(Need.PUBLIC, Need.PUBLIC),
    "admin-login": Rule(Need.PUBLIC, Need.PUBLIC),
    "two-factor-verify": Rule(Need.SIGNED_IN, Need.SIGNED_IN),
    "two-factor-setup": Rule(Need.SIGNED_IN, Need.SIGNED_IN),
    "account-security": Rule(Need.SIGNED_IN, Need.SIGNED_IN),
    "recovery-codes": Rule(Need.SIGNED_IN, Need.SIGNED_IN),
    "password-change": Rule(Need.SIGNED_IN, Need.SIGNED_IN),
    "api-token-revoke": Rule(N, Need.OWN),
    "calendar-feed-create": Rule(N, Need.SIGNED_IN),
    "calendar-feed-revoke": Rule(N, Need.OWN),
    # A calendar feed: shows its owner's patients, whoever presents the key.
    "calendar-feed": Rule(Need.KEY),
    # For a load balancer and monitoring: no patient data.
    "health": Rule(Need.PUBLIC),
    # Lists scoped to the user.
    "dashboard": Rule(Need.SIGNED_IN, Need.SIGNED_IN),  # a search is posted: its words stay out of logs
    "my-digest": Rule(Need.SIGNED_IN),
    "my-work": Rule(Need.SIGNED_IN),
    "referral-list": Rule(Need.SIGNED_IN, Need.SIGNED_IN),  # a search is posted
    "alert-list": Rule(Need.SIGNED_IN, Need.SIGNED_IN),  # a search is posted
    "milestones-due": Rule(Need.SIGNED_IN, Need.SIGNED_IN),  # a patient search is posted
    "handoff-template-list": Rule(Need.SIGNED_IN),
    "my-handoffs": Rule(Need.SIGNED_IN, Need.SIGNED_IN),  # a search is posted
    # The lists above as CSV files, with the filters of their addresses: as scoped as the lists.
    "patient-export": Rule(Need.SIGNED_IN),
    "referral-export": Rule(Need.SIGNED_IN),
    "alert-export": Rule(Need.SIGNED_IN),
    "milestones-due-export": Rule(Need.SIGNED_IN),
    "handoff-export": Rule(Need.SIGNED_IN),
    # Program metrics: counts over the person's own patients, and the paths of those infused
    # (named by MRN or initials); a table as CSV.
    "metrics": Rule(Need.SIGNED_IN),
    "metrics-export": Rule(Need.SIGNED_IN, query="table=access-funnel"),
    # A site's quarterly report: one of the person's own sites (their first by default).
    "metrics-report": Rule(Need.SIGNED_IN),
    # A patient.
    "patient-detail": Rule(V),
    "patient-contacts": Rule(V),
    "patient-edit": Rule(Need.CHANGE, Need.CHANGE),
    "patient-identifier": Rule(V, Need.CHANGE),
    "patient-point-persons": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-share": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-leave": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-timeline": Rule(V),
    "patient-timeline-earlier": Rule(V),
    "patient-timeline-milestones": Rule(V),
    "patient-comment": Rule(V, RC),
    "patient-calendar": Rule(V),
    # Referrals and milestones.
    "referral-create": Rule(Need.SIGNED_IN, Need.REFER),
    "referral-edit": Rule(Need.REFER, Need.REFER),  # the referring practice's draft; the center 403
    "referral-detail": Rule(V),
    "referral-move": Rule(V, RC),
    "referral-plan": Rule(V, RC),  # the center's side; the service refuses the practice
    "referral-document-add": Rule(V, RC),
    "referral-document": Rule(V),
    "referral-infusion": Rule(V, RC),  # the center's side; the practice is refused (403)
    "milestone-plan": Rule(V, RC),
    "milestone-complete": Rule(V, RC),
    "milestone-move": Rule(V, RC),
    "milestone-cancel": Rule(V, RC),
    "milestone-confirm": Rule(V, RC),
    "milestone-correct": Rule(V, RC),  # the infusion's: the center's side; the practice is refused (403)
    # The form of each action, opened from the timeline: as posting it, record care.
    "milestone-complete-form": Rule(RC),
    "milestone-move-form": Rule(RC),
    "milestone-cancel-form": Rule(RC),
    "milestone-confirm-form": Rule(RC),
    "milestone-correct-form": Rule(RC),
    "referral-infusion-form": Rule(RC),  # the center's side; the practice is refused (403)
    "milestone-plan-form": Rule(RC),
    # Toxicities and alerts.
    "toxicity-record": Rule(RC, RC),
    "toxicity-grade-preview": Rule(RC, RC),
    "toxicity-event": Rule(V),
    "toxicity-assess": Rule(V, RC),
    "toxicity-treatment": Rule(V, RC),
    "toxicity-resolve": Rule(V, RC),
    "lab-entry": Rule(RC, RC),
    "lab-flag-acknowledge": Rule(Need.OWN, Need.OWN),
    # A secondary malignancy's report to the manufacturer (any other event: 400 from the service).
    "toxicity-manufacturer-report": Rule(V, RC),
    "alert-acknowledge": Rule(Need.OWN, Need.OWN),
    # Infections, prophylaxis and vaccinations: both sites record, both see.
    "infections-patient": Rule(V),
    "infection-record": Rule(RC, RC),
    "prevention-plan": Rule(RC, RC),
    "prophylaxis-add": Rule(RC, RC),
    "vaccination-add": Rule(RC, RC),
    "infection-resolve": Rule(V, RC),
    "prophylaxis-stop": Rule(V, RC),
    "prophylaxis-review": Rule(V, RC),
    "vaccination-given": Rule(V, RC),
    # Hand-offs: filled in by the sending site, acknowledged by the receiving one.
    "handoff-list": Rule(V),
    "handoff-start": Rule(RC, RC),
    "handoff-detail": Rule(V),
    "handoff-edit": Rule(RC, RC, samples={"handoff_id": "draft_handoff_id"}),
    "handoff-preview": Rule(N, RC, samples={"handoff_id": "draft_handoff_id"}),
    "handoff-row": Rule(RC, samples={"handoff_id": "draft_handoff_id"}, query="field=medications.current&index=3"),
    "handoff-acknowledge": Rule(V, Need.SITE_COORDINATOR, samples={"handoff_id": "received_handoff_id"}),
    "handoff-question": Rule(V, RC),
    "handoff-pdf": Rule(V),
    # Hand-off templates: no patient data; a site's own ones are edited by its coordinators.
    "handoff-template-create": Rule(Need.SITE_COORDINATOR, Need.SITE_COORDINATOR),
    "handoff-template-edit": Rule(Need.SITE_COORDINATOR, Need.SITE_COORDINATOR),
    "handoff-template-preview": Rule(N, Need.SITE_COORDINATOR),
    "handoff-template-publish": Rule(N, Need.SITE_COORDINATOR),
    "handoff-template-version": Rule(Need.SITE_MEMBER),
    # Education material: no patient data, read by everyone signed in, edited by site administrators.
    "education-material-list": Rule(Need.SIGNED_IN),
    "education-material-create": Rule(Need.STAFF, Need.STAFF),
    "education-material-edit": Rule(Need.STAFF, Need.STAFF),
    "education-material-version": Rule(Need.SIGNED_IN),
    # A patient's education and wallet card.
    "education-patient": Rule(V, RC),
    "education-wallet-card": Rule(V),
    # A patient's treatment history and transplant candidacy (refer early).
    "candidates-history": Rule(V, RC),
    "candidates-transplant-candidacy": Rule(N, RC),
    "candidates-line-edit": Rule(RC, RC),
    # A patient's death: read by whoever sees the patient, recorded and withdrawn by a role
    # that records care.
    "patient-death": Rule(V, RC),
    "patient-death-withdraw": Rule(N, RC),
    # The audit trail: site administrators only.
    "audit-entries": Rule(Need.STAFF),
    "audit-export": Rule(Need.STAFF),
    "audit-find-patient": Rule(N, Need.STAFF),
}

API: dict[str, Rule] = {
    "api:api-root": Rule(Need.PUBLIC),
    "api:schema": Rule(Need.PUBLIC),
    "api:docs": Rule(Need.PUBLIC),
    "api:site-list": Rule(Need.SIGNED_IN),
    "api:site-detail": Rule(Need.SIGNED_IN),
    "api:product-list": Rule(Need.SIGNED_IN),
    "api:product-detail": Rule(Need.SIGNED_IN),
    "api:membership-list": Rule(Need.SIGNED_IN),
    "api:membership-detail": Rule(Need.OWN),
    # Creating: the patient is named in the body, so the matrix posts a valid one.
    "api:patient-list": Rule(Need.SIGNED_IN, Need.REGISTER),
    "api:patient-detail": Rule(V, Need.CHANGE),
    "api:patient-timeline": Rule(V),
    "api:patient-comments": Rule(V, RC),
    "api:patient-prevention-plan": Rule(V, RC),
    "api:care-team-link-list": Rule(Need.SIGNED_IN, Need.MANAGE_CARE_TEAM),
    "api:care-team-link-detail": Rule(V),
    # Ending a site's part is its own coordinators' move: the center's link, for the center's members.
    "api:care-team-link-end": Rule(N, Need.MANAGE_CARE_TEAM, samples={"link_id": "center_link_id"}),
    "api:point-person-list": Rule(Need.SIGNED_IN, Need.MANAGE_CARE_TEAM),
    "api:point-person-detail": Rule(V),
    # Referring from a practice where one works is checked as input (400), not as a gate.
    "api:referral-list": Rule(Need.SIGNED_IN, RC),
    "api:referral-detail": Rule(V),
    "api:referral-move": Rule(N, RC),
    "api:referral-plan": Rule(N, RC),
    "api:referral-documents": Rule(N, RC),
    "api:referral-infusion": Rule(N, RC),  # the center's side; the practice is refused (403)
    "api:referral-milestones": Rule(N, RC),
    "api:document-list": Rule(Need.SIGNED_IN),
    "api:document-detail": Rule(V),
    "api:document-download": Rule(V),
    "api:milestone-list": Rule(Need.SIGNED_IN),
    "api:milestone-detail": Rule(V),
    "api:milestone-complete": Rule(N, RC),
    "api:milestone-move": Rule(N, RC),
    "api:milestone-cancel": Rule(N, RC),
    "api:milestone-confirm": Rule(N, RC),
    "api:milestone-correct": Rule(N, RC),  # the infusion's: the center's side; the practice is refused (403)
    "api:toxicity-event-list": Rule(Need.SIGNED_IN, RC),
    "api:toxicity-event-detail": Rule(V),
    "api:toxicity-event-assessments": Rule(N, RC),
    "api:toxicity-event-treatments": Rule(N, RC),
    "api:toxicity-event-resolve": Rule(N, RC),
    "api:lab-result-list": Rule(Need.SIGNED_IN, RC),
    # The patient is named in the body and looked up first: 404 outside the care team, then 403.
    "api:lab-result-bulk": Rule(N, RC),
    "api:lab-result-detail": Rule(V),
    "api:lab-result-acknowledge": Rule(N, V),
    "api:toxicity-event-manufacturer-report": Rule(N, RC),
    "api:alert-list": Rule(Need.SIGNED_IN),
    "api:alert-detail": Rule(Need.OWN),
    "api:alert-acknowledge": Rule(Need.OWN, Need.OWN),
    "api:infection-list": Rule(Need.SIGNED_IN, RC),
    "api:infection-detail": Rule(V),
    "api:infection-resolve": Rule(N, RC),
    "api:prophylaxis-item-list": Rule(Need.SIGNED_IN, RC),
    "api:prophylaxis-item-detail": Rule(V),
    "api:prophylaxis-item-stop": Rule(N, RC),
    "api:prophylaxis-item-review": Rule(N, RC),
    "api:vaccination-list": Rule(Need.SIGNED_IN, RC),
    "api:vaccination-detail": Rule(V),
    "api:vaccination-given": Rule(N, RC),
    "api:handoff-template-list": Rule(Need.SIGNED_IN),
    "api:handoff-template-detail": Rule(Need.SITE_MEMBER),
    "api:handoff-list": Rule(Need.SIGNED_IN, RC),
    "api:handoff-detail": Rule(V),
    "api:handoff-values": Rule(N, RC, samples={"handoff_id": "draft_handoff_id"}),
    "api:handoff-send": Rule(N, RC, samples={"handoff_id": "draft_handoff_id"}),
    "api:handoff-acknowledge": Rule(N, Need.SITE_COORDINATOR, samples={"handoff_id": "received_handoff_id"}),
    "api:handoff-questions": Rule(N, RC),
    "api:handoff-pdf": Rule(V),
    "api:education-material-list": Rule(Need.SIGNED_IN),
    "api:education-material-detail": Rule(Need.SIGNED_IN),
    "api:education-given-list": Rule(Need.SIGNED_IN, RC),
    "api:education-given-detail": Rule(V),
    "api:therapy-line-list": Rule(Need.SIGNED_IN, RC),
    # Corrected with PUT or PATCH by a role that records care (no DELETE, as on the pages).
    "api:therapy-line-detail": Rule(V, RC),
    "api:patient-transplant-candidacy": Rule(V, RC),
    "api:patient-candidacy": Rule(V),
    "api:patient-death": Rule(V, RC),
    "api:patient-death-withdraw": Rule(N, RC),
}

# The FHIR export (fhir_api): read-only, a patient's data for who sees the patient; the
# CapabilityStatement and the site directory's Organizations carry no patient data.
FHIR_TYPES = (
    "patient",
    "organization",
    "practitionerrole",
    "careteam",
    "condition",
    "servicerequest",
    "task",
    "careplan",
    "adverseevent",
    "medicationadministration",
    "communication",
    "documentreference",
    "provenance",
)
FHIR: dict[str, Rule] = {
    "fhir-metadata": Rule(Need.PUBLIC),
    "fhir-everything": Rule(V),
    **{f"fhir-{name}": Rule(V) for name in FHIR_TYPES},
    "fhir-organization": Rule(Need.SIGNED_IN),
    "fhir-documentreference-handoff": Rule(V),
    # The referral intake: a practice's transaction Bundle (the patient is in the body, found by
    # the practice's MRN); only whoever may refer from a practice may post one.
    "fhir-bundle": Rule(N, Need.REFER),
    # Searched by patient only: the matrices name the sample patient (an outsider's search is 404).
    **{f"fhir-{name}-search": Rule(V, query="patient={patient_id}") for name in FHIR_TYPES},
}

ROUTE_RULES: dict[str, Rule] = PAGES | API | FHIR


METHODS = ("get", "post", "put", "patch", "delete", "options")


@dataclass(frozen=True)
class Route:
    name: str
    kwargs: frozenset[str]


def _walk(patterns: list[Any], namespace: str = "", kwargs: frozenset[str] = frozenset()) -> Iterator[Route]:
    for pattern in patterns:
        groups = frozenset(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner, kwargs | groups)
        elif isinstance(pattern, URLPattern):
            yield Route(f"{namespace}{pattern.name or ''}", kwargs | groups)


def all_routes() -> list[Route]:
    return sorted(set(_walk(get_resolver().url_patterns)), key=lambda r: (r.name, sorted(r.kwargs)))


def app_routes() -> list[Route]:
    routes = [r for r in all_routes() if not r.name.startswith("admin:")]
    unnamed = [r for r in routes if not r.name]
    assert not unnamed, "every route needs a name so the permission matrix can reach it"
    return routes


def build_samples(world: World) -> dict[str, Any]:
    """For each URL kwarg, an object of the shared patient (or of the center, for templates)."""
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    person = care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank=PointPerson.Rank.PRIMARY
    )
    referral = draft_referral(world)
    document = referral_attach_document(
        actor=world.community_coordinator,
        referral=referral,
        kind="pathology",
        upload=SimpleUploadedFile("pathology.pdf", b"%PDF-1.4 foreign", content_type="application/pdf"),
    )
    milestone = milestone_plan(
        actor=world.community_coordinator, referral=referral, kind="consult", planned_on=dt.date(2026, 12, 1)
    )
    event = toxicity_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        kind="infection",
        onset_at=timezone.now(),
        ctcae_grade=3,
        infection_site="Lung",
        organism="Aspergillus",
    )
    oncologist, practice = world.community_oncologist, world.practice
    treatment = toxicity_add_treatment(
        actor=oncologist, event=event, site=practice, kind="antimicrobial", given_at=timezone.now()
    )
    comment = comment_post(actor=oncologist, patient=world.shared_patient, site=practice, body="Hi")
    today = world.practice.today()
    infection = infection_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        body_site="lung",
        grade=2,
        setting="outpatient",
        onset_on=today,
    )
    prophylaxis = prophylaxis_add(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        item=ProphylaxisInput(kind="pjp", agent="TMP-SMX", start_on=today),
    )
    vaccination = vaccination_add(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        item=VaccinationInput(vaccine="Influenza (inactivated)", due_on=today),
    )
    # Entered at the center: the practice's point person is told, and has it to acknowledge.
    result = lab_results_record(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.center,
        entries=read_pasted("ANC 0.3", taken_on=timezone.localdate(timezone=world.center.zone), day_zero=None),
    ).created[0]
    # Templates hold no patient data, but one owned by the center is not the outsider's to see.
    center_template = template_create(
        actor=world.center_coordinator, name="Lakeside discharge", description="", owner_site=world.center
    )
    center_version = template_draft(
        actor=world.center_coordinator, template=center_template, schema={"sections": [_ONE_SECTION]}
    )
    # Sent, so acknowledging, asking and the PDF are reachable too.
    handoff = sent_handoff(world)
    # Education given to the shared patient, from the starter material's first version.
    ship_education()
    version = current_versions().first()
    assert version is not None
    given = education_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        version=version,
        recipient="patient",
        given_at=timezone.now() - dt.timedelta(hours=1),
    )
    # The practice's treatment history: a first line and the transplant candidacy.
    line = therapy_line_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        number=1,
        regimen="R-CHOP",
        drug_classes=["chemoimmunotherapy"],
        started_on=dt.date(2025, 3, 1),
    )
    transplant_candidacy_record(
        actor=world.community_coordinator, patient=world.shared_patient, site=world.practice, status="no"
    )
    # The practice's point person subscribes to the calendar feed.
    feed, feed_key = feed_create(user=world.community_oncologist, name="Phone")
    # Workers answer on both queues, so /health/ is 200 like any public page.
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_ALERT_QUEUE):
        heartbeat_record(queue)
    return {
        "event_id": event.pk,
        "treatment_id": treatment.pk,
        "comment_id": comment.pk,
        # A timeline entry (a Provenance in FHIR).
        "entry_id": comment.pk,
        "infection_id": infection.pk,
        "prophylaxis_id": prophylaxis.pk,
        "vaccination_id": vaccination.pk,
        "result_id": result.pk,
        "notice_id": LabFlagNotice.objects.get(result=result, recipient=world.community_oncologist).pk,
        "template_id": center_template.pk,
        "version_id": center_version.pk,
        "handoff_id": handoff.pk,
        "alert_id": Alert.objects.get(event=event, recipient=world.community_oncologist).pk,
        "patient_id": world.shared_patient.pk,
        "link_id": link.pk,
        "point_person_id": person.pk,
        "membership_id": SiteMembership.objects.get(user=world.center_coordinator).pk,
        "token_id": api_token_create(user=world.center_coordinator, name="EHR bridge")[0].pk,
        "feed_id": feed.pk,
        "feed_key": feed_key,
        "referral_id": referral.pk,
        "document_id": document.pk,
        "milestone_id": milestone.pk,
        "material_id": version.material_id,
        "material_version_id": version.pk,
        "given_id": given.pk,
        "line_id": line.pk,
        "product_id": Product.objects.order_by("pk").values_list("pk", flat=True)[0],
        "format": "json",
    }


_ONE_SECTION = {"key": "notes", "title": "Notes", "fields": [{"key": "note", "label": "Note", "type": "text"}]}


WRITE = re.compile(r'^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"(\w+)"', re.IGNORECASE)


# What any request may write, refused or not: its session, sign-in throttling, the audit trail.
BOOKKEEPING = ("django_session", "axes_", "audit_")


# The `format` suffix of API routes reaches the same view: one variant of each route is enough.
ROUTES: dict[str, Route] = {route.name: route for route in app_routes() if "format" not in route.kwargs}


CAPABILITY_NEEDS = {Need.VIEW, Need.RECORD_CARE, Need.CHANGE, Need.MANAGE_CARE_TEAM}
# Routes whose URL carries a secret key (`Need.KEY`), and a key nobody was given.
KEY_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.read is Need.KEY}
GUESSED_KEYS = {"feed_key": "cal_" + "G" * 40}


def url_of(route: Route, rule: Rule, samples: dict[str, Any]) -> str:
    kwargs = {name: samples[rule.samples.get(name, name)] for name in route.kwargs}
    return reverse(route.name, kwargs=kwargs)
