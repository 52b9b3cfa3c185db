"""Hand-offs across the viewer's patients as a CSV file: the rows and columns of the list,
all its pages (`carecoord.web.csv_export`, audited by `audit.exports`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from audit.exports import list_export
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column
from carecoord.web.shortcuts import viewer_zone
from handoffs.handoff_list import HandoffListForm, filtered_handoffs
from handoffs.models import Handoff
from handoffs.selectors import handoffs_visible_to


def _name(person: object) -> str:
    return str(getattr(person, "full_name", "") or "")


def handoff_columns(request: HttpRequest) -> list[Column[Handoff]]:
    """The list's columns (who sent and acknowledged apart from when), and the address."""
    return [
        Column("Hand-off", lambda h: h.pk),
        Column("Patient", lambda h: f"{h.patient.family_name}, {h.patient.given_name}"),
        Column("Template", lambda h: h.version.template.name),
        Column("Version", lambda h: h.version.number),
        Column("From", lambda h: h.from_site.name),
        Column("To", lambda h: h.to_site.name),
        Column("State", lambda h: h.get_state_display()),
        Column("Sent", lambda h: h.sent_at, moment=True),
        Column("Sent by", lambda h: _name(h.sent_by)),
        Column("Acknowledged", lambda h: h.acknowledged_at, moment=True),
        Column("Acknowledged by", lambda h: _name(h.acknowledged_by)),
        Column("Address", lambda h: request.build_absolute_uri(reverse("handoff-detail", args=[h.pk]))),
    ]


@login_required
@require_safe
def handoff_export(request: HttpRequest) -> StreamingHttpResponse:
    """The hand-offs to and from the viewer's sites with the filters of the list's address, as
    CSV (a search is not applied: its words are posted, never in an address)."""
    memberships = active_memberships_of(request.user)
    form = HandoffListForm(HandoffListForm.data_of(request))
    asked = form.asked()
    handoffs = filtered_handoffs(handoffs_visible_to(request.user), asked, user=request.user, memberships=memberships)
    return list_export(
        request,
        handoffs,
        form=form,
        name="handoffs",
        label="hand-off list",
        columns=handoff_columns(request),
        zone=viewer_zone(memberships),
        rows=list,
    )
