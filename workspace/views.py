"""Server-rendered pages: parse the request, call a selector, render. No access rules here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from carecoord.access import patients_visible_to, visible_patient_count
from carecoord.reads import shown
from carecoord.selectors.patients import identifiers_with_sites
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.choice_cache import cached_choices
from carecoord.web.list_forms import CappedPaginator, address_of, list_response, results_only
from carecoord.web.shortcuts import HtmxHttpRequest
from referrals.selectors import can_refer
from workspace.patient_list import (
    PatientListForm,
    filtered_patients,
    patient_rows,
    point_persons_at,
    sites_of_patients,
)
from workspace.work_queue import queue_scope

PATIENTS_PER_PAGE = 50


@vary_on_headers("HX-Request")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """My patients, under my work (whose queue arrives after the page: `work_queue_page`). The
    list is found, filtered and sorted by a form that posts its search words (never in the
    address) and may carry its other filters in the address; an htmx request gets only the
    results, with the address-safe filters pushed to the address bar."""
    memberships = active_memberships_of(request.user)
    own_site_ids = [m.site_id for m in memberships]
    scope = queue_scope(request.user, memberships)
    form = PatientListForm(
        PatientListForm.data_of(request),
        sites=lambda: cached_choices("patient-sites", request.user.pk, lambda: sites_of_patients(request.user)),
        people=lambda: cached_choices("point-persons", request.user.pk, lambda: point_persons_at(own_site_ids)),
    )
    asked = form.asked()
    patients = filtered_patients(
        # The day of death, if recorded, in place of the phase (one join).
        patients_visible_to(request.user)
        .prefetch_related(identifiers_with_sites())
        .annotate(died_on=F("death__died_on")),
        asked,
        user=request.user,
        scope=scope,
    )
    # Unfiltered, every patient the viewer sees: counted on the grants alone.
    counter = None if form.filtered() else (lambda cap: visible_patient_count(request.user, up_to=cap))
    page = CappedPaginator(patients, PATIENTS_PER_PAGE, counter=counter).get_page(asked.get("page"))
    context = {
        "memberships": memberships,
        "form": form,
        "asked": asked,
        "filtered": form.filtered(),
        "page": page,
        "rows": patient_rows(list(page), own_site_ids=set(own_site_ids), today=scope.today),
        "export_url": address_of(form, "patient-export", paged=False),
    }
    shown(page, verb="listed")
    if not results_only(request):  # the work queue comes after the page (`work_queue_page`)
        context["can_refer"] = can_refer(memberships)
    return list_response(request, "carecoord/dashboard.html", context, form=form, url_name="dashboard")
