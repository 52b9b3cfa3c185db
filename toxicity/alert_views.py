"""The user's toxicity alerts: the list and acknowledging one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.list_forms import CappedPaginator, address_of, list_response
from carecoord.web.shortcuts import POST, HtmxHttpRequest, actor, loads, next_or, viewer_zone
from toxicity.alert_list import AlertListForm, Show, filtered_alerts
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert
from toxicity.selectors import alerts_visible_to, get_alert_for_user, waiting_alert_count

ALERTS_PER_PAGE = 50


@vary_on_headers("HX-Request")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def alert_list(request: HtmxHttpRequest) -> HttpResponse:
    """The user's alerts, unacknowledged first (the in-app notifications), found by patient
    (posted words), filtered and sorted, a page at a time; each open one acknowledged in place."""
    form = AlertListForm(AlertListForm.data_of(request))
    asked = form.asked()
    visible = alerts_visible_to(request.user)
    alerts_asked = filtered_alerts(visible, asked, user=request.user)
    listed = CappedPaginator(alerts_asked, ALERTS_PER_PAGE)
    page = listed.get_page(asked.get("page"))
    alerts = list(page)
    shown(alerts, verb="listed")
    waiting = waiting_alert_count(request.user)  # the header's badge reads it too (`open_alert_count`)
    memberships = active_memberships_of(request.user)
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "form": form,
        "filtered": form.filtered(),
        "show": asked.get("show") or Show.ALL,
        "page": page,
        "open_alert_count": waiting,
        "acknowledged": acknowledged_of(listed, waiting),
        "open_alerts": [a for a in alerts if not a.is_acknowledged],
        "seen_alerts": [a for a in alerts if a.is_acknowledged],
        "export_url": address_of(form, "alert-export", paged=False),
        "back_here": address_of(form, "alert-list"),  # where an acknowledgement brings the person back to
    }
    return list_response(request, "toxicity/alert_list.html", context, form=form, url_name="alert-list")


def acknowledged_of(listed: CappedPaginator, waiting: int) -> int | None:
    """The status line's second number: how many of the person's alerts are acknowledged, read
    off the unfiltered list's count (every alert) less those `waiting`, without counting them
    again; None when the list holds more than it counts (the line then says "more than N in all")."""
    return None if listed.capped else listed.count - waiting


@login_required
def alert_acknowledge_view(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge one of the viewer's alerts. An alert they no longer see (a button left on a
    page while their site left the patient's care team, or the alert withdrawn) is still a 404,
    but one that says so and leads back to the alerts, the same for an alert that never was."""
    try:
        return _acknowledge(request, alert_id=alert_id)
    except Http404:
        template = "toxicity/alert_unavailable.html" + ("#unavailable" if request.htmx else "")
        return render(request, template, status=404)


@loads(get_alert_for_user, "alert_id", methods=POST)
def _acknowledge(request: HttpRequest, alert: Alert) -> HttpResponse:
    try:
        person = actor(request)
        acknowledged = alert_acknowledge(actor=person, alert=alert)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, acknowledged.message_for(person))
    return redirect(next_or(request, reverse("toxicity-event", kwargs={"event_id": alert.event_id})))
