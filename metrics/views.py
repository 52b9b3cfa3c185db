"""The metrics page and its tables as CSV files: thin, the figures come from the blocks.

Everyone signed in may open them: the figures count only the patients the person already sees
(`metrics.scope`), small counts shown as "<5". A CSV file is recorded in the audit trail as an
export (which table, which filters). The counts name no patient; the patient paths name each
of theirs (by MRN or initials), so the page records a read of each patient it lists, and the
CSV file and the report an export or a download of each.
"""

from __future__ import annotations

import zoneinfo
from operator import itemgetter

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit.models import AuditEntry
from audit.services import record_export
from carecoord.access.scope import access_key
from carecoord.downloads import attachment_disposition
from carecoord.models import Site
from carecoord.reads import VIEW, shown_patient
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column, csv_lines, csv_response, export_filename
from carecoord.zones import viewer_zone
from metrics.forms import MetricsForm
from metrics.report import quarter_period, recent_quarters, report_blocks, report_pdf
from metrics.scope import Cohort, Period
from metrics.tables import Table, every_block, table_of
from referrals.models import Referral


def _shown(tables: list[Table], *, what: str, action: str = VIEW) -> None:
    """The patients the tables name (the patient paths), declared read through their referral."""
    for table in tables:
        for patient_id, referral_id in table.patients:
            shown_patient(patient_id, Referral(pk=referral_id), what=what, action=action)


def _asked(request: HttpRequest) -> tuple[MetricsForm, Cohort, zoneinfo.ZoneInfo]:
    memberships = active_memberships_of(request.user)
    zone = viewer_zone(memberships)
    now = timezone.now()
    form = MetricsForm(request.GET, user=request.user, today=timezone.localdate(now, zone))
    asked = form.asked()
    cohort = Cohort.for_user(
        request.user,
        Period(asked["start"], asked["end"], zone),
        now,
        site_id=asked["site"],
        partner_id=asked["partner"],
        product_id=asked["product"],
    )
    return form, cohort, zone


@login_required
@require_safe
def metrics_page(request: HttpRequest) -> HttpResponse:
    form, cohort, zone = _asked(request)
    own = sorted(access_key(request.user).site_names.items(), key=lambda pair: pair[1])
    blocks = every_block(cohort)
    _shown([table for block in blocks for table in block.tables], what="listed in the metrics' patient paths")
    context = {
        "form": form,
        "blocks": blocks,
        "address": form.address(),
        "zone": zone,
        "report_sites": own,
        "quarters": recent_quarters(cohort.today),
    }
    return render(request, "metrics/page.html", context)


@login_required
@require_safe
def metrics_report(request: HttpRequest) -> HttpResponse:
    """One of the viewer's sites' quarterly report as a PDF (`?site=<id>&quarter=2026Q3`; by
    default their first site and the last complete quarter)."""
    own = access_key(request.user).site_names
    asked_site = request.GET.get("site", "")
    site_id = min(own, default=None) if not asked_site else int(asked_site) if asked_site.isdigit() else None
    site = Site.objects.filter(pk=site_id).first() if site_id in own else None
    if site is None:
        raise Http404("No such site.")
    quarter = request.GET.get("quarter") or recent_quarters(site.today())[0]
    try:
        quarter_period(quarter, site)
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    quarter = quarter.strip().upper()
    now = timezone.now()
    blocks = report_blocks(site, quarter, now, user=request.user)
    _shown(
        [table for block in blocks for table in block.tables],
        what=f"listed in the metrics report of {quarter}",
        action=AuditEntry.Action.DOWNLOAD,
    )
    pdf = report_pdf(site, quarter, now, user=request.user, blocks=blocks)
    record_export(request, patient_id=None, what=f"downloaded the metrics report of site {site.pk} for {quarter}")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = attachment_disposition(f"carecoord-metrics-{site.pk}-{quarter}.pdf", "pdf")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_safe
def metrics_export(request: HttpRequest) -> StreamingHttpResponse:
    """One table of the page as CSV (`?table=access-times` and the page's filters)."""
    form, cohort, zone = _asked(request)
    slug = request.GET.get("table", "")
    try:
        table = table_of(slug, cohort)
    except KeyError:
        raise Http404("No such table.") from None
    _shown([table], what="exported in the metrics' patient paths", action=AuditEntry.Action.EXPORT)
    record_export(request, patient_id=None, what=f"exported metrics table {slug} as CSV; filters: {form.address()}")
    columns = [Column[list[str]](header, itemgetter(index)) for index, header in enumerate(table.headers)]
    lines = csv_lines(columns, table.rows, zone)
    return csv_response(lines, export_filename(f"metrics-{slug}", timezone.localdate(timezone=zone)))
