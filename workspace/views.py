"""Server-rendered pages: parse the request, call a selector, render. No access rules here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, SiteMembership
from carecoord.models.patients import Phase
from carecoord.reads import shown
from carecoord.selectors.patients import patients_with_care_team
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.forms import PhaseFilterForm
from carecoord.web.shortcuts import HtmxHttpRequest
from referrals.forms import can_refer
from workspace.work_queue import work_queue_of

PATIENTS_PER_PAGE = 50


@dataclass(frozen=True)
class PatientRow:
    """A dashboard row: the patient, their MRNs at the viewer's own sites, and whom to call."""

    patient: Patient
    own_identifiers: list[PatientIdentifier]
    point_persons: list[tuple[CareTeamLink, PointPerson]]
    without_primary: list[CareTeamLink]  # sites whose alerts reach nobody named there


def _primary_first(point_persons: Iterable[PointPerson]) -> list[PointPerson]:
    # The model orders ranks alphabetically, which would put the backup first.
    return sorted(point_persons, key=lambda person: person.rank != PointPerson.Rank.PRIMARY)


def _has_primary(link: CareTeamLink) -> bool:
    return any(p.rank == PointPerson.Rank.PRIMARY and p.user.is_active for p in link.point_persons.all())


def _rows(patients: Iterable[Patient], memberships: list[SiteMembership]) -> list[PatientRow]:
    # Everything used here is prefetched, so building rows costs no query per patient.
    own_sites = {m.site_id for m in memberships}
    rows = []
    for patient in patients:
        links = patient.open_care_team  # type: ignore[attr-defined]  # Prefetch to_attr
        point_persons = [(link, person) for link in links for person in _primary_first(link.point_persons.all())]
        own_identifiers = [i for i in patient.identifiers.all() if i.site_id in own_sites]
        without_primary = [link for link in links if not _has_primary(link)]
        rows.append(PatientRow(patient, own_identifiers, point_persons, without_primary))
    return rows


@vary_on_headers("HX-Request")
@login_required
@require_safe
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """My patients, filterable by phase; an htmx request gets only the results partial."""
    memberships = active_memberships_of(request.user)
    filter_form = PhaseFilterForm(request.GET)
    patients = patients_with_care_team(request.user)
    phase = filter_form.selected_phase()
    if phase:
        patients = patients.filter(phase=phase)
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "memberships": memberships,
        "filter_form": filter_form,
        "phase": phase,
        "phase_label": Phase(phase).label if phase else "",
        "page": page,
        "rows": _rows(page, memberships),
    }
    shown(page, verb="listed")
    # A history restore after a cache miss needs the whole page, not the fragment.
    template = "carecoord/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    else:
        context["work_queue"] = work_queue = work_queue_of(request.user, memberships)
        shown(work_queue.objects_shown, verb="listed")
        context["can_refer"] = can_refer(memberships)
        context["zone"] = memberships[0].site.time_zone if memberships else timezone.get_default_timezone_name()
    return render(request, template, context)
