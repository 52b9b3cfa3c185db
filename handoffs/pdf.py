"""A hand-off as a PDF, made by `carecoord.pdf` (WeasyPrint, fetching only the static files)."""

from __future__ import annotations

import zoneinfo

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from rest_framework.request import Request

from audit.models import AuditEntry
from carecoord.downloads import attachment_disposition
from carecoord.models import PatientIdentifier
from carecoord.pdf import html_to_document, html_to_pdf, static_base_url
from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.zones import viewer_zone
from handoffs.forms import section_views
from handoffs.models import Handoff

__all__ = ["handoff_pdf_download", "handoff_pdf_html", "html_to_document", "html_to_pdf", "static_base_url"]


def handoff_pdf_download(request: HttpRequest | Request, handoff: Handoff) -> HttpResponse:
    """A sent hand-off as a PDF attachment, times in the downloader's zone, its download recorded
    (the page and the API both hand it out this way). `handoff` must have come through the
    access path and be sent: a draft has no PDF."""
    pdf = html_to_pdf(handoff_pdf_html(handoff, viewer_zone(active_memberships_of(request.user))))
    shown(handoff, what="downloaded hand-off PDF", action=AuditEntry.Action.DOWNLOAD)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = attachment_disposition(f"handoff-{handoff.pk}", "pdf")
    return response


def handoff_pdf_html(handoff: Handoff, zone: zoneinfo.ZoneInfo) -> str:
    """What the PDF of a sent hand-off shows, times in `zone` (the viewer's): the stamp, every
    section, and on every page's header the patient's name, date of birth and MRN at the
    receiving site, so a loose page is never filed against the wrong chart."""
    mrn = PatientIdentifier.objects.filter(patient=handoff.patient_id, site=handoff.to_site_id).values_list(
        "mrn", flat=True
    )
    context = {
        "handoff": handoff,
        "patient": handoff.patient,
        "receiving_mrn": next(iter(mrn), ""),
        "zone": zone,
        "sections": section_views(handoff.version.schema, handoff.values),
    }
    return render_to_string("handoffs/pdf.html", context)
