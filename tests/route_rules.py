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

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from carecoord.roles import Capability


class Need(StrEnum):
    PUBLIC = "public"  # anyone, even signed out: no patient data
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
    query: str = ""  # appended to a GET, for routes that need parameters


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
    # For a load balancer and monitoring: no patient data.
    "health": Rule(Need.PUBLIC),
    # Lists scoped to the user.
    "dashboard": Rule(Need.SIGNED_IN),
    "my-digest": Rule(Need.SIGNED_IN),
    "referral-list": Rule(Need.SIGNED_IN),
    "alert-list": Rule(Need.SIGNED_IN),
    "handoff-template-list": Rule(Need.SIGNED_IN),
    # A patient.
    "patient-detail": Rule(V),
    "patient-edit": Rule(Need.CHANGE, Need.CHANGE),
    "patient-identifier": Rule(V, Need.CHANGE),
    "patient-point-persons": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-share": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-leave": Rule(V, Need.MANAGE_CARE_TEAM),
    "patient-timeline": Rule(V),
    "patient-comment": Rule(V, RC),
    # Referrals and milestones.
    "referral-create": Rule(Need.SIGNED_IN, Need.REFER),
    "referral-detail": Rule(V),
    "referral-move": Rule(V, RC),
    "referral-plan": Rule(V, RC),  # the center's side; the service refuses the practice
    "referral-document-add": Rule(V, RC),
    "referral-document": Rule(V),
    "referral-infusion": Rule(V, RC),
    "milestone-plan": Rule(V, RC),
    "milestone-complete": Rule(V, RC),
    "milestone-move": Rule(V, RC),
    "milestone-cancel": Rule(V, RC),
    "milestone-confirm": Rule(V, RC),
    # Toxicities and alerts.
    "toxicity-record": Rule(RC, RC),
    "toxicity-grade-preview": Rule(RC, RC),
    "toxicity-event": Rule(V),
    "toxicity-assess": Rule(V, RC),
    "toxicity-treatment": Rule(V, RC),
    "toxicity-resolve": Rule(V, RC),
    "alert-acknowledge": Rule(Need.OWN, Need.OWN),
    # Hand-offs: filled in by the sending site, acknowledged by the receiving one.
    "handoff-list": Rule(V),
    "handoff-start": Rule(RC, RC),
    "handoff-detail": Rule(V),
    "handoff-edit": Rule(RC, RC, samples={"handoff_id": "draft_handoff_id"}),
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
    "api:membership-list": Rule(Need.SIGNED_IN),
    "api:membership-detail": Rule(Need.OWN),
    # Creating: the patient is named in the body, so the matrix posts a valid one.
    "api:patient-list": Rule(Need.SIGNED_IN, Need.REGISTER),
    "api:patient-detail": Rule(V, Need.CHANGE),
    "api:patient-timeline": Rule(V),
    "api:patient-comments": Rule(N, RC),
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
    "api:referral-infusion": Rule(N, RC),
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
    "api:toxicity-event-list": Rule(Need.SIGNED_IN, RC),
    "api:toxicity-event-detail": Rule(V),
    "api:toxicity-event-assessments": Rule(N, RC),
    "api:toxicity-event-treatments": Rule(N, RC),
    "api:toxicity-event-resolve": Rule(N, RC),
    "api:alert-list": Rule(Need.SIGNED_IN),
    "api:alert-detail": Rule(Need.OWN),
    "api:alert-acknowledge": Rule(Need.OWN, Need.OWN),
    "api:handoff-template-list": Rule(Need.SIGNED_IN),
    "api:handoff-template-detail": Rule(Need.SITE_MEMBER),
    "api:handoff-list": Rule(Need.SIGNED_IN, RC),
    "api:handoff-detail": Rule(V),
    "api:handoff-values": Rule(N, RC, samples={"handoff_id": "draft_handoff_id"}),
    "api:handoff-send": Rule(N, RC, samples={"handoff_id": "draft_handoff_id"}),
    "api:handoff-acknowledge": Rule(N, Need.SITE_COORDINATOR, samples={"handoff_id": "received_handoff_id"}),
    "api:handoff-questions": Rule(N, RC),
}

ROUTE_RULES: dict[str, Rule] = PAGES | API
