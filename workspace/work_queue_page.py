"""The work queue at an address of its own (`/work/`).

The dashboard asks for it once its page has arrived (htmx), so the patient list is not held up
by the queue's eleven lists; a browser without scripts follows the dashboard's link to it as a
page of its own. Either way the same lists, read and recorded as read the same way.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.list_forms import results_only
from carecoord.web.shortcuts import HtmxHttpRequest, viewer_zone
from workspace.work_queue import queue_scope, work_queue_of


@vary_on_headers("HX-Request")
@login_required
@require_safe
def my_work(request: HtmxHttpRequest) -> HttpResponse:
    """The viewer's work queue: for htmx the lists alone, in place on the dashboard (whose
    actions come back to it); else a page of its own, whose actions come back to this page."""
    memberships = active_memberships_of(request.user)
    work_queue = work_queue_of(queue_scope(request.user, memberships))
    shown(work_queue.objects_shown, verb="listed")
    in_place = results_only(request)
    context = {
        "work_queue": work_queue,
        **work_queue.shared,
        "zone": viewer_zone(memberships),
        "queue_home": reverse("dashboard" if in_place else "my-work"),
    }
    return render(request, "carecoord/_work_queue.html" if in_place else "carecoord/my_work.html", context)
