"""Server-rendered pages: parse the request, call a selector, render. No access rules here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Model, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.access.scope import AnyUser
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, SiteMembership
from carecoord.models.patients import Phase
from carecoord.reads import shown
from carecoord.roles import Capability
from carecoord.selectors.patients import links_without_primary, patients_with_care_team
from carecoord.selectors.sites import active_memberships_of, sites_where_role_can
from carecoord.web.forms import PhaseFilterForm
from carecoord.web.shortcuts import HtmxHttpRequest
from referrals.forms import can_refer
from referrals.milestones.kinds import milestone_label
from referrals.models import Milestone, Referral
from referrals.selectors import milestones_due, milestones_in_conflict, referrals_visible_to, referrals_waiting_on
from toxicity.models import Alert
from toxicity.selectors import undelivered_alerts

PATIENTS_PER_PAGE = 50
WORK_QUEUE_LIMIT = 10


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


@dataclass(frozen=True)
class WorkQueue:
    """The dashboard's three short lists of what needs doing; each read in one query."""

    waiting: list[Referral]
    overdue: list[Referral]
    milestones_due: list[tuple[Milestone, str]]
    conflicts: list[tuple[Milestone, str]]
    unnamed: list[CareTeamLink]  # the viewer's sites that name no primary point person for a patient
    undelivered: list[Alert]  # alert emails for the viewer's sites that have not gone out
    week_start: dt.date
    week_end: dt.date
    limit: int = WORK_QUEUE_LIMIT

    def objects_shown(self) -> list[Model]:
        """What the page shows of the queue (each list up to `limit`), for the audit trail."""
        milestones = [m for m, _label in self.conflicts[: self.limit] + self.milestones_due[: self.limit]]
        referrals = self.waiting[: self.limit] + self.overdue[: self.limit]
        return [*self.undelivered, *self.unnamed[: self.limit], *milestones, *referrals]


def _safe_label(kind: str) -> str:
    try:
        return milestone_label(kind)
    except ValueError:
        return kind.replace("_", " ").capitalize()


def _work_queue(user: AnyUser, memberships: list[SiteMembership]) -> WorkQueue:
    # One extra row tells the template that the list goes on.
    limit = WORK_QUEUE_LIMIT + 1
    today = memberships[0].site.today() if memberships else timezone.localdate()
    week_end = today + dt.timedelta(days=6)
    # Work is listed for the sites where the person's role there may do it.
    recording = sites_where_role_can(memberships, Capability.RECORD_CARE)
    waiting = referrals_waiting_on(user, recording)[:limit]
    overdue = (
        referrals_visible_to(user)
        .acknowledgement_overdue()
        # The center acknowledges; the referring practice chases.
        .filter(Q(to_center_id__in=recording) | Q(from_site_id__in=recording))
        .order_by("acknowledge_by")[:limit]
    )
    due = milestones_due(user, today, week_end)[:limit]
    conflicts = milestones_in_conflict(user)[:limit]
    unnamed = links_without_primary(user, sites_where_role_can(memberships, Capability.MANAGE_CARE_TEAM))[:limit]
    return WorkQueue(
        waiting=list(waiting),
        overdue=list(overdue),
        milestones_due=[(m, _safe_label(m.kind)) for m in due],
        conflicts=[(m, _safe_label(m.kind)) for m in conflicts],
        unnamed=list(unnamed),
        undelivered=undelivered_alerts(user, site_ids=[m.site_id for m in memberships]),
        week_start=today,
        week_end=week_end,
    )


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
        context["work_queue"] = work_queue = _work_queue(request.user, memberships)
        shown(work_queue.objects_shown(), verb="listed")
        context["can_refer"] = can_refer(memberships)
        context["zone"] = memberships[0].site.time_zone if memberships else timezone.get_default_timezone_name()
    return render(request, template, context)
