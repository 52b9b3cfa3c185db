"""The patient page and what a care-team site does there: its details, its own MRN, whom to call
at each site, sharing the patient with another site and leaving the care team.

Every route loads the patient through the access path first (404 outside the care team, for
every method); an action checks the capability it needs before reading the body (403); a form
the service refuses comes back on the page with the error next to its field (400); a success
redirects to the page with a message. Every change is on the shared timeline (the services).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from candidates.selectors import assessment_of
from carecoord.access import ActingSite, acting_sites, get_patient_for_user, patient_capabilities, require_capability
from carecoord.models import CareTeamLink, Patient, PointPerson, Site
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import open_care_team_links
from carecoord.selectors.sites import (
    active_memberships_of,
    people_who_can_act_at,
    roles_of_people_at,
    sites_directory,
)
from carecoord.services.care_teams import care_team_add_site, care_team_end_site, care_team_set_point_persons
from carecoord.services.patients import patient_set_identifier, patient_update
from carecoord.web.forms import add_service_errors
from carecoord.web.shortcuts import POST, SAFE_AND_POST, actor, loads, viewer_zone
from referrals.deaths import death_of
from referrals.phase import phases_now
from referrals.selectors import can_refer, referrals_of_patient
from toxicity.selectors import undelivered_alerts
from workspace.patient_forms import (
    IdentifierForm,
    LeaveForm,
    PatientDetailsForm,
    PointPersonsForm,
    ShareForm,
)


@dataclass(frozen=True)
class TeamSite:
    """One site of the care team as the page shows it, with what the viewer may do there."""

    link: CareTeamLink
    point_persons: list[PointPerson]
    form: PointPersonsForm | None  # the viewer coordinates this site

    @property
    def has_primary(self) -> bool:
        return any(p.rank == PointPerson.Rank.PRIMARY and p.user.is_active for p in self.point_persons)


@dataclass(frozen=True)
class Failure:
    """A form that did not go through, shown again where it was filled in."""

    action: str  # "identifier", "point_persons", "share" or "leave"
    form: forms.Form
    site_id: int | None = None


def _primary_first(people: list[PointPerson]) -> list[PointPerson]:
    return sorted(people, key=lambda person: person.rank != PointPerson.Rank.PRIMARY)


def _failed(failure: Failure | None, action: str, site_id: int | None = None) -> forms.Form | None:
    """The form of `action` (at `site_id`) as it was posted, if that is what failed."""
    if failure and failure.action == action and (site_id is None or failure.site_id == site_id):
        return failure.form
    return None


def _point_persons_form(link: CareTeamLink, data: Any = None, initial: Any = None) -> PointPersonsForm:
    """The site's people who can act, each offered with their role there."""
    people = people_who_can_act_at(link.site)
    return PointPersonsForm(data, link=link, people=people, roles=roles_of_people_at([link.site]), initial=initial)


def _team(links: list[CareTeamLink], managing: list[Site], failure: Failure | None) -> list[TeamSite]:
    """The care team's sites, with the point-persons form at the sites the viewer coordinates."""
    team = []
    for link in links:
        form = None
        if link.site in managing:
            people = _primary_first(list(link.point_persons.all()))
            initial = {p.rank: p.user_id for p in people}
            failed = cast(PointPersonsForm | None, _failed(failure, "point_persons", link.site_id))
            form = failed or _point_persons_form(link, initial=initial)
        team.append(TeamSite(link, _primary_first(list(link.point_persons.all())), form))
    return team


def patient_context(request: HttpRequest, patient: Patient, failure: Failure | None = None) -> dict[str, Any]:
    memberships = active_memberships_of(request.user)
    links = list(open_care_team_links().filter(patient=patient))
    acting = acting_sites(request.user, patient)
    capabilities = frozenset().union(*(a.capabilities for a in acting))
    managing = _sites_that(acting, Capability.MANAGE_CARE_TEAM)
    team = _team(links, managing, failure)
    context: dict[str, Any] = {
        "memberships": memberships,
        "patient": patient,
        "phase": phases_now([patient.pk])[patient.pk],
        "identifiers": patient.identifiers.select_related("site"),
        "team": team,
        "without_primary": [site for site in team if not site.has_primary],
        "undelivered": undelivered_alerts(patient),
        "zone": viewer_zone(memberships),
        "can_change": Capability.CHANGE in capabilities,
        "can_record": Capability.RECORD_CARE in capabilities,
        "death": death_of(patient),
        "referrals": list(referrals_of_patient(request.user, patient)),
        "failure": failure,
    }
    if context["death"] is not None:
        context["without_primary"] = []  # nobody is to be alerted about a patient who died
    # Advisory: whether the history meets, or is one step from, a labelled use (never a gate).
    context["candidacy"] = assessment_of(patient)
    context["can_refer"] = can_refer(memberships)
    own_sites = _sites_that(acting, Capability.CHANGE)
    if own_sites:
        mrns = {identifier.site_id: identifier.mrn for identifier in context["identifiers"]}
        context["identifier_form"] = _failed(failure, "identifier") or IdentifierForm(
            sites=own_sites, initial={"mrn": mrns.get(own_sites[0].pk, "")}
        )
    if managing:
        on_team = {link.site_id for link in links}
        context["share_form"] = _failed(failure, "share") or ShareForm(
            sites=[site for site in sites_directory() if site.pk not in on_team]
        )
        if len(links) > 1:
            context["leave_form"] = _failed(failure, "leave") or LeaveForm(sites=managing)
    return context


def render_patient(
    request: HttpRequest, patient: Patient, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    # A failed form's error summary takes the focus (`{% form_top %}`).
    return render(request, "carecoord/patient_detail.html", patient_context(request, patient, failure), status=status)


def patient_url(patient_id: uuid.UUID, anchor: str = "") -> str:
    url = reverse("patient-detail", kwargs={"patient_id": patient_id})
    return f"{url}#{anchor}" if anchor else url


@login_required
@require_safe
def patient_detail(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """One patient's page: 404 unless a site where the user works is on the care team."""
    patient = get_patient_for_user(request.user, patient_id)
    shown(patient)
    return render_patient(request, patient)


@login_required
@require_safe
def patient_contacts(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Whom to call at each care-team site, for the patient list's rows that open it (htmx)."""
    patient = get_patient_for_user(request.user, patient_id)
    links = list(open_care_team_links().filter(patient=patient))
    shown(patient, what="point persons")
    contacts = [(link, _primary_first(list(link.point_persons.all()))) for link in links]
    return render(request, "carecoord/_patient_contacts.html", {"patient": patient, "contacts": contacts})


def _sites_that(acting: list[ActingSite], capability: str) -> list[Site]:
    return [a.site for a in acting if a.can(capability)]


def _sites_allowed(request: HttpRequest, patient: Patient, capability: str) -> list[Site]:
    """The viewer's sites whose role there allows `capability` (the services check again);
    403 if no site may, before the body is read."""
    require_capability(request.user, patient, capability)
    return _sites_that(acting_sites(request.user, patient), capability)


def _act(
    request: HttpRequest, patient: Patient, failure: Failure, action: Callable[[], tuple[str, str]]
) -> HttpResponse:
    """Run the service if the form is valid: a message and the page (PRG), or the form again."""
    if failure.form.is_valid():
        try:
            message, anchor = action()
        except ValidationError as exc:
            add_service_errors(failure.form, exc)
        else:
            messages.success(request, message)
            return redirect(patient_url(patient.pk, anchor))
    return render_patient(request, patient, failure, status=400)


@login_required
@loads(partial(get_patient_for_user, capability=Capability.CHANGE), "patient_id", methods=SAFE_AND_POST)
def patient_edit(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Demographics and caregiver, for the roles that may change a patient's details."""
    shown(patient)
    form = PatientDetailsForm(request.POST if request.method == "POST" else None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            patient_update(actor=actor(request), patient=patient, **form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "The patient's details are saved. The other sites see the change on the timeline."
            )
            return redirect(patient_url(patient.pk))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "carecoord/patient_edit.html",
        {"memberships": active_memberships_of(request.user), "patient": patient, "form": form},
        status=status,
    )


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_identifier(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Record or correct the MRN of one of the viewer's sites."""
    sites = _sites_allowed(request, patient, Capability.CHANGE)
    form = IdentifierForm(request.POST, sites=sites)

    def action() -> tuple[str, str]:
        site = form.chosen_site()
        patient_set_identifier(actor=actor(request), patient=patient, site=site, mrn=form.cleaned_data["mrn"])
        return f"The MRN at {site} is saved.", "identifiers-heading"

    return _act(request, patient, Failure("identifier", form), action)


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_point_persons(request: HttpRequest, patient: Patient) -> HttpResponse:
    """A site's coordinator names its primary and backup point persons."""
    sites = _sites_allowed(request, patient, Capability.MANAGE_CARE_TEAM)
    links = {link.site_id: link for link in open_care_team_links().filter(patient=patient)}
    posted = request.POST.get("site", "")
    link = links.get(int(posted)) if posted.isdigit() else None
    if link is None:
        # Not a site on this care team: nothing to show a form for.
        messages.error(request, "Choose a site on this patient's care team.")
        return redirect(patient_url(patient.pk, "care-team-heading"))
    if link.site not in sites:
        raise PermissionDenied(f"Only a coordinator of {link.site} names its point persons.")
    form = _point_persons_form(link, request.POST)

    def action() -> tuple[str, str]:
        care_team_set_point_persons(
            actor=actor(request), link=link, primary=form.cleaned_data["primary"], backup=form.cleaned_data["backup"]
        )
        return f"Point persons at {link.site} saved. Alerts about this patient go to them.", f"site-{link.site_id}"

    return _act(request, patient, Failure("point_persons", form, link.site_id), action)


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_share(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Share the patient's care with another site (a center, or another practice)."""
    sharing = _sites_allowed(request, patient, Capability.MANAGE_CARE_TEAM)
    on_team = set(open_care_team_links().filter(patient=patient).values_list("site_id", flat=True))
    form = ShareForm(request.POST, sites=[site for site in sites_directory() if site.pk not in on_team])

    def action() -> tuple[str, str]:
        site: Site = form.cleaned_data["site"]
        care_team_add_site(
            actor=actor(request),
            patient=patient,
            site=site,
            capacity=form.cleaned_data["capacity"],
            from_site=sharing[0],
        )
        return f"{site} is on the care team now; its coordinators name their point persons.", "care-team-heading"

    return _act(request, patient, Failure("share", form), action)


@login_required
@loads(get_patient_for_user, "patient_id", methods=POST)
def patient_leave(request: HttpRequest, patient: Patient) -> HttpResponse:
    """One of the viewer's sites, which they coordinate, stops taking part in the patient's care."""
    leaving = _sites_allowed(request, patient, Capability.MANAGE_CARE_TEAM)
    form = LeaveForm(request.POST, sites=leaving)

    def action() -> tuple[str, str]:
        site = form.chosen_site()
        care_team_end_site(actor=actor(request), link=open_care_team_links().get(patient=patient, site=site))
        return f"{site} has left the care team.", ""

    response = _act(request, patient, Failure("leave", form), action)
    # Leaving may take the patient out of the viewer's sight: go to the dashboard then.
    if response.status_code == 302 and not patient_capabilities(request.user, patient):
        return redirect("dashboard")
    return response
