"""The alerts page as a CSV file: the viewer's alerts it lists, all its pages
(`carecoord.web.csv_export`, audited by `audit.exports`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from audit.exports import list_export
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column
from carecoord.web.shortcuts import viewer_zone
from toxicity.alert_list import AlertListForm, filtered_alerts
from toxicity.models import Alert
from toxicity.selectors import alerts_visible_to


def alert_columns(request: HttpRequest) -> list[Column[Alert]]:
    """What the page says of each alert, and the event's address to find it again."""
    return [
        Column("Alert", lambda a: a.pk),
        Column("Kind", lambda a: a.event.get_kind_display()),
        Column("Grade", lambda a: a.grade),
        Column("Reason", lambda a: a.get_reason_display()),
        Column("Patient", lambda a: a.event.patient.full_name),
        Column("Raised", lambda a: a.created_at, moment=True),
        Column("Acknowledged", lambda a: a.acknowledged_at, moment=True),
        Column("Address", lambda a: request.build_absolute_uri(reverse("toxicity-event", args=[a.event_id]))),
    ]


@login_required
@require_safe
def alert_export(request: HttpRequest) -> StreamingHttpResponse:
    """The viewer's alerts with the filters of the page's address, as CSV (a search is not
    applied: its words are posted, never in an address)."""
    form = AlertListForm(AlertListForm.data_of(request))
    alerts = filtered_alerts(alerts_visible_to(request.user), form.asked(), user=request.user)
    return list_export(
        request,
        alerts,
        form=form,
        name="alerts",
        label="alert list",
        columns=alert_columns(request),
        zone=viewer_zone(active_memberships_of(request.user)),
        rows=list,
    )
