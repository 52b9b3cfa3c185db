"""Reads of hand-offs and templates, scoped through the patient's access path."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import Patient
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
