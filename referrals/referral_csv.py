"""The referral list as a CSV file: the rows and columns the list page shows, all its pages
(`carecoord.web.csv_export`, audited by `audit.exports`)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit.exports import list_export
from carecoord.selectors.sites import active_memberships_of
from carecoord.web.csv_export import Column
from carecoord.web.shortcuts import viewer_zone
from referrals.models import Referral
from referrals.referral_list import ReferralListForm, filtered_referrals, sites_of_referrals
from referrals.selectors import referrals_visible_to


def referral_columns(request: HttpRequest, now: dt.datetime) -> list[Column[Referral]]:
    """The list's columns, and the referral's address to find it again."""
    return [
        Column("Referral", lambda r: r.pk),
        Column("Patient", lambda r: f"{r.patient.family_name}, {r.patient.given_name}"),
        Column("State", lambda r: r.get_state_display()),
        Column("Acknowledgement overdue", lambda r: r.is_acknowledgement_overdue(now)),
        Column("From", lambda r: r.from_site.name),
        Column("To", lambda r: r.to_center.name),
        Column("Urgency", lambda r: r.get_urgency_display()),
        Column("Submitted", lambda r: r.submitted_at, moment=True),
        Column("Address", lambda r: request.build_absolute_uri(reverse("referral-detail", args=[r.pk]))),
    ]


@login_required
@require_safe
def referral_export(request: HttpRequest) -> StreamingHttpResponse:
    """The referral list with the filters of its address, as CSV (a search is not applied:
    its words are posted, never in an address)."""
    memberships = active_memberships_of(request.user)
    visible = referrals_visible_to(request.user)
    form = ReferralListForm(ReferralListForm.data_of(request), sites=lambda: sites_of_referrals(visible))
    now = timezone.now()
    referrals = filtered_referrals(visible, form.asked(), user=request.user, memberships=memberships, now=now)
    return list_export(
        request,
        referrals,
        form=form,
        name="referrals",
        label="referral list",
        columns=referral_columns(request, now),
        zone=viewer_zone(memberships),
        rows=list,
    )
