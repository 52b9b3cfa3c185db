"""Hand-offs across patients, to and from the viewer's sites: what the viewer asks of them (the
patient, direction, state, "needs my action", the order), read a page at a time in a fixed
number of queries.

Search words are posted, never put in the address (`carecoord.web.list_forms`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.db.models import F, Q

from carecoord.access.scope import AnyUser
from carecoord.models import SiteMembership
from carecoord.roles import Capability
from carecoord.selectors.patients import patient_ids_matching
from carecoord.selectors.sites import sites_where_role_can
from carecoord.web.list_forms import ListForm, patient_search_field
from handoffs.models import QUEUE_ORDER, Handoff, HandoffQuerySet

TO_ME = "to-me"
FROM_ME = "from-me"


class Sort:
    NEWEST = "newest"
    DEADLINE = "deadline"
    LONGEST_WAITING = "waiting"
    CHOICES = [
        (NEWEST, "Newest first"),
        (DEADLINE, "Acknowledgement deadline"),
        (LONGEST_WAITING, "Longest waiting first"),
    ]


class HandoffListForm(ListForm):
    address_fields = ("direction", "state", "needs_action", "sort")
    defaults: ClassVar[dict[str, str]] = {"sort": Sort.NEWEST}

    q = patient_search_field()
    direction = forms.ChoiceField(
        label="Direction",
        required=False,
        choices=[("", "To or from my site"), (TO_ME, "To my site"), (FROM_ME, "From my site")],
    )
    state = forms.ChoiceField(label="State", required=False, choices=[("", "All states"), *Handoff.State.choices])
    needs_action = forms.BooleanField(label="Needs my action", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=Sort.CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        # Asked for what needs the viewer's action without an order (the work queue's link), the
        # list is in the queue's order, and its sort field says so.
        if data is not None and data.get("needs_action") and not data.get("sort"):
            data = {**{name: data.get(name) for name in data}, "sort": Sort.LONGEST_WAITING}
        super().__init__(data)


def filtered_handoffs(
    handoffs: HandoffQuerySet, asked: Mapping[str, Any], *, user: AnyUser, memberships: list[SiteMembership]
) -> HandoffQuerySet:
    """`handoffs` (already the viewer's) to or from the viewer's sites, narrowed and ordered as
    `asked` (`HandoffListForm.asked`)."""
    own = [m.site_id for m in memberships]
    recording = sites_where_role_can(memberships, Capability.RECORD_CARE)
    # Each row says whether a question from the other site waits for the viewer's answer.
    handoffs = handoffs.with_to_answer(recording)
    if asked.get("direction") == TO_ME:
        handoffs = handoffs.filter(to_site_id__in=own)
    elif asked.get("direction") == FROM_ME:
        handoffs = handoffs.filter(from_site_id__in=own)
    else:
        handoffs = handoffs.filter(Q(to_site_id__in=own) | Q(from_site_id__in=own))
    if asked.get("q"):
        handoffs = handoffs.filter(patient_id__in=patient_ids_matching(user, asked["q"]))
    if asked.get("state"):
        handoffs = handoffs.filter(state=asked["state"])
    if asked.get("needs_action"):
        # The work queue's rule: sent to one of the sites where the viewer records care and not
        # acknowledged, or a question from the other site waiting for an answer.
        handoffs = handoffs.awaiting(recording)
    if asked.get("sort") == Sort.LONGEST_WAITING:
        return handoffs.order_by(*QUEUE_ORDER)
    if asked.get("sort") == Sort.DEADLINE:
        return handoffs.order_by(F("acknowledge_by").asc(nulls_last=True), "-created_at", "-pk")
    return handoffs.order_by("-created_at", "-pk")
