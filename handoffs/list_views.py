"""Hand-offs across the viewer's patients: the list to and from their sites."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from carecoord.reads import shown
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.list_forms import CappedPaginator, address_of, list_response
from carecoord.web.shortcuts import HtmxHttpRequest, viewer_zone
from handoffs.handoff_list import HandoffListForm, filtered_handoffs
from handoffs.selectors import for_list_rows, handoffs_visible_to, with_sites_and_people

HANDOFFS_PER_PAGE = 25


@vary_on_headers("HX-Request")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_handoffs(request: HtmxHttpRequest) -> HttpResponse:
    """Hand-offs to and from the viewer's sites, found by patient (posted words), filtered and
    sorted; an htmx request gets only the results, with the address-safe filters pushed."""
    memberships = active_memberships_of(request.user)
    form = HandoffListForm(HandoffListForm.data_of(request))
    asked = form.asked()
    visible = for_list_rows(handoffs_visible_to(request.user))
    handoffs = filtered_handoffs(visible, asked, user=request.user, memberships=memberships)
    page = CappedPaginator(handoffs, HANDOFFS_PER_PAGE).get_page(asked.get("page"))
    shown(page, verb="listed")
    context = {
        "memberships": memberships,
        "zone": viewer_zone(memberships),
        "form": form,
        "filtered": form.filtered(),
        "page": page,
        "handoffs": with_sites_and_people(list(page)),
        "export_url": address_of(form, "handoff-export", paged=False),
    }
    return list_response(request, "handoffs/my_handoffs.html", context, form=form, url_name="my-handoffs")
