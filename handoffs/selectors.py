"""Reads of hand-offs and templates, scoped through the patient's access path."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import Patient, Site, User
from carecoord.selectors.sites import active_memberships_of
from handoffs.models import Handoff, HandoffQuerySet, HandoffTemplate, HandoffTemplateVersion


def handoffs_visible_to(user: AnyUser) -> HandoffQuerySet:
    return Handoff.objects.filter(patient_id__in=visible_patient_ids(user)).select_related(
        "patient", "version__template", "from_site", "to_site", "created_by", "sent_by", "acknowledged_by"
    )


def get_handoff_for_user(user: AnyUser, handoff_id: int | str) -> Handoff:
    return get_visible_or_404(handoffs_visible_to(user), handoff_id, "hand-off")


def templates_visible_to(user: AnyUser) -> QuerySet[HandoffTemplate]:
    """Shared templates and those owned by the user's sites (templates hold no patient data)."""
    if not user.is_authenticated:
        return HandoffTemplate.objects.none()
    if user.is_staff:
        return HandoffTemplate.objects.all()
    site_ids = [m.site_id for m in active_memberships_of(user)]
    return HandoffTemplate.objects.filter(Q(owner_site__isnull=True) | Q(owner_site_id__in=site_ids))


def get_template_for_user(user: AnyUser, template_id: int | str) -> HandoffTemplate:
    return get_visible_or_404(templates_visible_to(user), template_id, "template")


def get_version_for_user(user: AnyUser, version_id: int | str) -> HandoffTemplateVersion:
    versions = HandoffTemplateVersion.objects.select_related("template").filter(template__in=templates_visible_to(user))
    return get_visible_or_404(versions, version_id, "template version")


def open_handoffs_of(patient: Patient) -> QuerySet[Handoff]:
    """The hand-offs of an already-authorised patient sent and not yet acknowledged, oldest
    first, with what a summary names: one query."""
    return (
        Handoff.objects.filter(patient=patient, state=Handoff.State.SENT)
        .select_related("version__template", "from_site", "to_site")
        .order_by("sent_at", "pk")
    )


# What a row of a list of hand-offs reads in its own query: no values, no people, no sites.
LIST_ROW_JOINS = ("patient", "version__template")


def for_list_rows(handoffs: HandoffQuerySet) -> HandoffQuerySet:
    """`handoffs` joined only to their patient and template, without their values: a list's rows.

    Joining the two sites and the three people as well (ten tables with the access filter)
    took PostgreSQL 35-50 ms to plan for a page it ran in under 1 ms; `with_sites_and_people`
    reads those for the page instead, in two small queries."""
    return handoffs.select_related(None).select_related(*LIST_ROW_JOINS).defer("values")


def with_sites_and_people(handoffs: list[Handoff]) -> list[Handoff]:
    """`handoffs` (a page) with their sites and the people who sent and acknowledged them set,
    read in two queries whatever the number of rows."""
    site_ids = {h.from_site_id for h in handoffs} | {h.to_site_id for h in handoffs}
    sites = Site.objects.in_bulk(site_ids) if site_ids else {}
    people_ids = {h.sent_by_id for h in handoffs} | {h.acknowledged_by_id for h in handoffs}
    people_ids.discard(None)
    people = User.objects.only("full_name").in_bulk(people_ids) if people_ids else {}
    for handoff in handoffs:
        handoff.from_site = sites[handoff.from_site_id]
        handoff.to_site = sites[handoff.to_site_id]
        handoff.sent_by = people.get(handoff.sent_by_id) if handoff.sent_by_id else None
        handoff.acknowledged_by = people.get(handoff.acknowledged_by_id) if handoff.acknowledged_by_id else None
    return handoffs
