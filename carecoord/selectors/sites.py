from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce

from django.db.models import QuerySet

from carecoord.access.scope import AnyUser
from carecoord.models import Site, SiteMembership, User
from carecoord.roles import Role, capabilities_of


def sites_directory() -> QuerySet[Site]:
    """Every site: names, kinds and 24/7 numbers are not patient data, so all users see them."""
    return Site.objects.all()


def memberships_of(user: AnyUser) -> QuerySet[SiteMembership]:
    """The user's own memberships, past, present and future."""
    if not user.is_authenticated:
        return SiteMembership.objects.none()
    return SiteMembership.objects.filter(user=user).select_related("site").order_by("-starts_on")


def active_memberships_of(user: AnyUser) -> list[SiteMembership]:
    return [m for m in memberships_of(user) if m.is_active_today()]


def colleagues_of(user: AnyUser) -> QuerySet[User]:
    """Active people with a membership at a site where `user` has one (who they may name)."""
    if not user.is_authenticated:
        return User.objects.none()
    sites = SiteMembership.objects.filter(user=user).values("site_id")
    return User.objects.filter(is_active=True, memberships__site_id__in=sites).distinct()


def people_who_can_act_at(site: Site) -> list[User]:
    """Active people working at `site` today in a role that can act: who may be a point person."""
    memberships = SiteMembership.objects.active_at(site).filter(user__is_active=True)
    ids = memberships.exclude(role=Role.READ_ONLY).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("full_name", "email"))


def roles_of_people_at(sites: Sequence[Site], *, name_site: bool = False) -> dict[int, str]:
    """By user id, what each active person working at one of `sites` today does there, as a
    picker of people shows it next to the name: "Nurse", "Nurse (Nurse coordinator)" when the
    title says more, "Nurse at Riverside Oncology" with `name_site` (more than one site to pick
    from); several joined by "; ". One query whatever the sites."""
    if not sites:
        return {}
    active = reduce(operator.or_, (SiteMembership.objects.active_at(site) for site in sites))
    memberships = active.filter(user__is_active=True).select_related("site").order_by("site__name", "role")
    found: dict[int, list[str]] = {}
    for membership in memberships:
        role = membership.get_role_display()
        title = membership.title.strip()
        label = f"{role} ({title})" if title and title.lower() != role.lower() else role
        found.setdefault(membership.user_id, []).append(f"{label} at {membership.site.name}" if name_site else label)
    return {user_id: "; ".join(labels) for user_id, labels in found.items()}


def site_coordinators(site: Site) -> list[User]:
    """The active people working at `site` today as coordinators, by name: who is told about
    what belongs to the site rather than to a named point person (reminders, escalations)."""
    return coordinators_by_site([site])[site.pk]


def coordinators_by_site(sites: Sequence[Site]) -> dict[int, list[User]]:
    """`site_coordinators` of each site (each on its own today), in one query whatever their number."""
    found: dict[int, list[User]] = {site.pk: [] for site in sites}
    if not sites:
        return found
    active = reduce(operator.or_, (SiteMembership.objects.active_at(site) for site in sites))
    memberships = active.filter(role=Role.COORDINATOR, user__is_active=True).select_related("user")
    for membership in memberships.order_by("user__full_name"):
        found[membership.site_id].append(membership.user)
    return found


def sites_where_role_can(memberships: list[SiteMembership], capability: str) -> list[int]:
    """The ids of the sites where these (active) memberships' roles allow `capability`: where the
    person's work queue lists that work."""
    return [m.site_id for m in memberships if capability in capabilities_of(m.role)]
