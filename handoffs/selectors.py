"""Reads of hand-offs and templates, scoped through the patient's access path."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.http import Http404

from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from carecoord.selectors.sites import active_memberships_of
from handoffs.models import Handoff, HandoffTemplate, HandoffTemplateVersion


def handoffs_visible_to(user: AnyUser) -> QuerySet[Handoff]:
    return Handoff.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "patient", "version__template", "from_site", "to_site", "created_by", "sent_by", "acknowledged_by"
    )


def get_handoff_for_user(user: AnyUser, handoff_id: int | str) -> Handoff:
    try:
        return handoffs_visible_to(user).get(pk=int(handoff_id))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such hand-off.") from exc


def templates_visible_to(user: AnyUser) -> QuerySet[HandoffTemplate]:
    """Shared templates and those owned by the user's sites (templates hold no patient data)."""
    if not user.is_authenticated:
        return HandoffTemplate.objects.none()
    if user.is_staff:
        return HandoffTemplate.objects.all()
    site_ids = [m.site_id for m in active_memberships_of(user)]
    return HandoffTemplate.objects.filter(Q(owner_site__isnull=True) | Q(owner_site_id__in=site_ids))


def get_template_for_user(user: AnyUser, template_id: int | str) -> HandoffTemplate:
    try:
        return templates_visible_to(user).get(pk=int(template_id))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such template.") from exc


def get_version_for_user(user: AnyUser, version_id: int | str) -> HandoffTemplateVersion:
    try:
        return HandoffTemplateVersion.objects.select_related("template").get(
            pk=int(version_id), template__in=templates_visible_to(user)
        )
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such template version.") from exc
