"""The audit page for site administrators: search the trail, export it as CSV. Never edit it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zoneinfo
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from audit.forms import AuditFilterForm, PatientLookupForm
from audit.models import AuditEntry
from audit.selectors import audit_entries_filtered, audit_entries_for, audit_patients_for, with_display
from audit.services import record_export
from carecoord.downloads import attachment_disposition
from carecoord.models import Patient
from carecoord.reports_database import reports_database
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import LineEcho, formula_safe
from carecoord.web.shortcuts import viewer_zone

ENTRIES_PER_PAGE = 100
CSV_COLUMNS = [
    "at_utc",
    "action",
    "actor_email",
    "site",
    "patient_id",
    "object_type",
    "object_id",
    "what",
    "changes",
    "ip_address",
    # Last, so that programs reading the columns by position still find theirs: the moment
    # on the exporter's clock (carecoord.zones), with its offset, and that clock's name.
    "at_local",
    "time_zone",
]


def _administrator_only(request: HttpRequest) -> None:
    # A list, not an object: refused with 403 like the other collections staff alone may read.
    if not request.user.is_staff:
        raise PermissionDenied("The audit trail is for site administrators.")


def _filter_form(request: HttpRequest, zone: Any) -> AuditFilterForm:
    return AuditFilterForm(request.GET, patients=audit_patients_for(request.user), zone=zone)


def _entries_page(
    request: HttpRequest, lookup: PatientLookupForm | None = None, matches: list[Patient] | None = None
) -> HttpResponse:
    memberships = active_memberships_of(request.user)
    zone = viewer_zone(memberships)
    form = _filter_form(request, zone)
    entries = audit_entries_for(request.user).using(reports_database())  # the replica, when there is one
    status = 200
    if form.is_valid():
        entries = audit_entries_filtered(entries, **form.filters())
    else:
        entries, status = entries.none(), 400
    if lookup is not None and lookup.errors:
        status = 400
    page = Paginator(with_display(entries, request.user), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "memberships": memberships,
        "form": form,
        "chosen_patient": form.cleaned_data.get("patient") if form.is_valid() else None,
        "lookup": lookup or PatientLookupForm(),
        "matches": matches or [],
        "page": page,
        "zone": zone,
    }
    return render(request, "audit/entries.html", context, status=status)


@login_required
@require_safe
def audit_entries(request: HttpRequest) -> HttpResponse:
    """Entries in the administrator's scope, newest first, 100 a page, whatever the total in fixed queries."""
    _administrator_only(request)
    return _entries_page(request)


@login_required
@require_POST
def audit_find_patient(request: HttpRequest) -> HttpResponse:
    """Find the patient to filter by from an MRN; one match goes straight to its entries."""
    _administrator_only(request)
    lookup = PatientLookupForm(request.POST)
    matches = lookup.matches(audit_patients_for(request.user)) if lookup.is_valid() else []
    if len(matches) == 1:
        return redirect(f"{reverse('audit-entries')}?{urlencode({'patient': matches[0].pk})}")
    return _entries_page(request, lookup=lookup, matches=matches)


def _rows(entries: Iterable[AuditEntry], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    writer = csv.writer(LineEcho())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = [
            entry.at.astimezone(dt.UTC).isoformat(),
            entry.action,
            entry.actor_email,
            entry.site.name if entry.site else "",
            str(entry.patient_id or ""),
            entry.object_type,
            entry.object_id,
            entry.what,
            json.dumps(entry.changes, sort_keys=True, ensure_ascii=False) if entry.changes else "",
            entry.ip_address or "",
            entry.at.astimezone(zone).isoformat(),
            zone.key,
        ]
        yield writer.writerow([formula_safe(str(value)) for value in row])


@login_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The same filtered entries as CSV, streamed; the export is itself recorded."""
    _administrator_only(request)
    zone = viewer_zone(active_memberships_of(request.user))
    form = _filter_form(request, zone)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label if name in form.fields else 'Filter'}: {' '.join(str(m) for m in messages)}"
            for name, messages in form.errors.items()
        )
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    entries = audit_entries_filtered(audit_entries_for(request.user).using(reports_database()), **filters)
    record_export(request, patient_id=filters["patient_id"], what=f"exported audit entries ({form.summary()})")
    rows = _rows(entries.select_related("site").iterator(chunk_size=2000), zone)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = attachment_disposition(f"audit-{stamp}", "csv")
    return response
