"""The user's toxicity alerts: the list and acknowledging one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.shortcuts import POST, actor, loads, next_or, viewer_zone
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert
from toxicity.selectors import alerts_visible_to, get_alert_for_user

ALERTS_PER_PAGE = 50


@login_required
@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    """The user's alerts, unacknowledged first (the in-app notifications), a page at a time."""
    page = Paginator(alerts_visible_to(request.user), ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    alerts = list(page)
    shown(alerts, verb="listed")
    memberships = active_memberships_of(request.user)
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "page": page,
        "open_alerts": [a for a in alerts if not a.is_acknowledged],
        "seen_alerts": [a for a in alerts if a.is_acknowledged],
    }
    return render(request, "toxicity/alert_list.html", context)


@login_required
@loads(get_alert_for_user, "alert_id", methods=POST)
def alert_acknowledge_view(request: HttpRequest, alert: Alert) -> HttpResponse:
    try:
        alert_acknowledge(actor=actor(request), alert=alert)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "Alert acknowledged. The other site sees it on the timeline.")
    return redirect(next_or(request, reverse("toxicity-event", kwargs={"event_id": alert.event_id})))
