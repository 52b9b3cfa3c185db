"""The dashboard's patient list as a CSV file: one line a patient, the columns of the list,
all its pages (`carecoord.web.csv_export`, audited by `audit.exports`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from audit.exports import list_export
from carecoord.access import patients_visible_to
from carecoord.selectors.patients import identifiers_with_sites
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column
from carecoord.web.shortcuts import viewer_zone
from workspace.patient_list import (
    PatientListForm,
    PatientListRow,
    filtered_patients,
    patient_rows,
    point_persons_at,
    sites_of_patients,
)
from workspace.work_queue import queue_scope


def patient_columns(request: HttpRequest) -> list[Column[PatientListRow]]:
    """What a line of the list shows (point persons, read on demand there, aside), and the
    patient's address to find them again."""
    return [
        Column("Patient", lambda r: f"{r.patient.family_name}, {r.patient.given_name}"),
        Column("MRN", lambda r: " ".join(r.own_mrns)),
        Column("MRN at other sites", lambda r: "; ".join(f"{i.site.name}: {i.mrn}" for i in r.other_mrns)),
        Column("Phase", lambda r: r.patient.get_phase_display()),
        Column("Day", lambda r: r.day),
        Column("Next step", lambda r: r.next_step.label if r.next_step else ""),
        Column("Next step planned for", lambda r: r.next_step.planned_on if r.next_step else None),
        Column("Next step overdue", lambda r: r.next_overdue),
        Column("Open alerts", lambda r: r.open_alerts),
        Column("No primary point person at", lambda r: "; ".join(r.without_primary)),
        Column("Address", lambda r: request.build_absolute_uri(reverse("patient-detail", args=[r.patient.pk]))),
    ]


@login_required
@require_safe
def patient_export(request: HttpRequest) -> StreamingHttpResponse:
    """The viewer's patients with the filters of the dashboard's address, as CSV (a search is
    not applied: its words are posted, never in an address)."""
    memberships = active_memberships_of(request.user)
    own_site_ids = {m.site_id for m in memberships}
    scope = queue_scope(request.user, memberships)
    form = PatientListForm(
        PatientListForm.data_of(request),
        sites=lambda: sites_of_patients(request.user),
        people=lambda: point_persons_at(list(own_site_ids)),
    )
    patients = filtered_patients(
        patients_visible_to(request.user).prefetch_related(identifiers_with_sites()),
        form.asked(),
        user=request.user,
        scope=scope,
    )
    return list_export(
        request,
        patients,
        form=form,
        name="patients",
        label="patient list",
        columns=patient_columns(request),
        zone=viewer_zone(memberships),
        rows=lambda batch: patient_rows(batch, own_site_ids=own_site_ids, today=scope.today),
    )
