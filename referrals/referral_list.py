"""The referral list: what the viewer asks of it (find by patient, filter, sort), read a page at
a time in a fixed number of queries whatever the number of referrals.

Search words are posted, never put in the address (`carecoord.web.list_forms`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from django import forms
from django.db.models import F, Q, QuerySet

from carecoord.access.scope import AnyUser
from carecoord.models import Site, SiteMembership
from carecoord.roles import Capability
from carecoord.selectors.patients import patient_ids_matching
from carecoord.selectors.sites import sites_where_role_can
from carecoord.web.list_forms import ListForm, lazy_choices, patient_search_field
from referrals.models import ReferralQuerySet, acknowledgement_overdue
from referrals.selectors import referrals_overdue_for, referrals_waiting_on
from referrals.workflow import STATE_LABELS

TO_ME = "to-me"
FROM_ME = "from-me"


class Sort:
    NEWEST = "newest"
    OLDEST = "oldest"
    DEADLINE = "deadline"
    PATIENT = "patient"
    CHOICES = [
        (NEWEST, "Newest first"),
        (OLDEST, "Oldest first"),
        (DEADLINE, "Acknowledgement deadline"),
        (PATIENT, "Patient name"),
    ]


class ReferralListForm(ListForm):
    address_fields = ("state", "site", "needs_action", "overdue", "sort")
    defaults: ClassVar[dict[str, str]] = {"sort": Sort.NEWEST}

    q = patient_search_field()
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "All states"), *((s.value, label) for s, label in STATE_LABELS.items())],
    )
    site = forms.ChoiceField(label="Site", required=False)
    needs_action = forms.BooleanField(label="Needs my action", required=False)
    overdue = forms.BooleanField(label="Overdue only", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=Sort.CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self, data: Mapping[str, Any] | None, *, sites: Callable[[], Iterable[tuple[int, str]]], **kwargs: Any
    ) -> None:
        """`sites` reads the site filter's (id, name) choices when the form needs them."""
        super().__init__(data, **kwargs)
        self.fields["site"].choices = lazy_choices(  # type: ignore[attr-defined]
            lambda: [
                ("", "Any direction"),
                (TO_ME, "To my center"),
                (FROM_ME, "From my practice"),
                *((str(pk), name) for pk, name in sites()),
            ]
        )


def sites_of_referrals(referrals: QuerySet[Any]) -> QuerySet[Site, tuple[int, str]]:
    """The sites that send or receive the viewer's referrals, (id, name): the site filter's choices."""
    return (
        Site.objects.filter(
            Q(pk__in=referrals.order_by().values("from_site_id"))
            | Q(pk__in=referrals.order_by().values("to_center_id"))
        )
        .order_by("name")
        .values_list("pk", "name")
    )


def needing_action(user: AnyUser, memberships: list[SiteMembership]) -> Q:
    """The referrals in the viewer's work queue: waiting on a move of one of their sites, or with
    an overdue acknowledgement to or from one (the work queue's own rules)."""
    recording = sites_where_role_can(memberships, Capability.RECORD_CARE)
    waiting = referrals_waiting_on(user, recording).order_by().values("pk")
    overdue = referrals_overdue_for(user, recording).order_by().values("pk")
    return Q(pk__in=waiting) | Q(pk__in=overdue)


def filtered_referrals(
    referrals: ReferralQuerySet,
    asked: Mapping[str, Any],
    *,
    user: AnyUser,
    memberships: list[SiteMembership],
    now: dt.datetime,
) -> ReferralQuerySet:
    """`referrals` (already the viewer's) narrowed and ordered as `asked` (`ReferralListForm.asked`)."""
    if asked.get("q"):
        referrals = referrals.filter(patient_id__in=patient_ids_matching(user, asked["q"]))
    if asked.get("state"):
        referrals = referrals.filter(state=asked["state"])
    own = [m.site_id for m in memberships]
    if (site := asked.get("site")) == TO_ME:
        referrals = referrals.filter(to_center_id__in=own)
    elif site == FROM_ME:
        referrals = referrals.filter(from_site_id__in=own)
    elif site:
        referrals = referrals.filter(Q(to_center_id=site) | Q(from_site_id=site))
    if asked.get("needs_action"):
        referrals = referrals.filter(needing_action(user, memberships))
    if asked.get("overdue"):
        referrals = referrals.filter(acknowledgement_overdue(now))
    newest = ("-created_at", "-pk")
    if asked.get("sort") == Sort.OLDEST:
        return referrals.order_by("created_at", "pk")
    if asked.get("sort") == Sort.DEADLINE:
        return referrals.order_by(F("acknowledge_by").asc(nulls_last=True), *newest)
    if asked.get("sort") == Sort.PATIENT:
        return referrals.order_by("patient__family_name", "patient__given_name", "patient_id", *newest)
    return referrals.order_by(*newest)
