"""Maintenance of django-guardian grants as care teams and memberships change.

Two moves keep access exact:
- a site joining (leaving) a patient's care team grants (revokes) each of the site's role
  groups the capabilities of that role on the patient;
- a person is in a site's role group exactly while a membership in that role is active.
Only the functions here write grants; reads go through `carecoord.access.scope`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from carecoord.access.scope import forget_access, forget_grants
from carecoord.accounts.sessions import end_sessions
from carecoord.models import (
    CareTeamLink,
    IdempotentRequest,
    Patient,
    PatientGroupObjectPermission,
    Site,
    SiteMembership,
    SiteRoleGroup,
    User,
)
from carecoord.roles import ROLE_CAPABILITIES


def site_role_groups(site: Site) -> dict[str, Group]:
    """The permission group of every role at `site`, created on first use.

    One query once they exist; the first time, the missing groups are made in bulk (a
    concurrent request making the same ones loses nothing: the rows are read back).
    """
    found = _site_role_groups_of(site)
    missing = [role for role in ROLE_CAPABILITIES if role not in found]
    if missing:
        with transaction.atomic():
            names = {role: f"site-{site.pk}-{role}" for role in missing}
            Group.objects.bulk_create([Group(name=name) for name in names.values()], ignore_conflicts=True)
            groups = Group.objects.in_bulk(list(names.values()), field_name="name")
            SiteRoleGroup.objects.bulk_create(
                [SiteRoleGroup(site=site, role=role, group=groups[name]) for role, name in names.items()],
                ignore_conflicts=True,
            )
        found = _site_role_groups_of(site)
    return found


def _site_role_groups_of(site: Site) -> dict[str, Group]:
    return {row.role: row.group for row in SiteRoleGroup.objects.select_related("group").filter(site=site)}


def site_role_group(site: Site, role: str) -> Group:
    """The permission group of `site`'s members in `role`, created on first use."""
    return site_role_groups(site)[role]


def _patient_permissions() -> dict[str, Permission]:
    content_type = ContentType.objects.get_for_model(Patient)
    return {p.codename: p for p in Permission.objects.filter(content_type=content_type)}


def grant_site_on_patient(*, site: Site, patient: Patient) -> None:
    permissions = _patient_permissions()
    groups = site_role_groups(site)
    rows = [
        PatientGroupObjectPermission(group=groups[role], permission=permissions[codename], content_object=patient)
        for role, codenames in ROLE_CAPABILITIES.items()
        for codename in codenames
    ]
    PatientGroupObjectPermission.objects.bulk_create(rows, ignore_conflicts=True)
    forget_grants()


def revoke_site_on_patient(*, site: Site, patient: Patient) -> None:
    PatientGroupObjectPermission.objects.filter(content_object=patient, group__site_role__site=site).delete()
    forget_grants()


def sync_user_access(user: User, now: dt.datetime | None = None) -> None:
    """Put `user` in exactly the site-role groups of their memberships active `now`."""
    memberships = SiteMembership.objects.filter(user=user).select_related("site")
    wanted = {(m.site_id, m.role) for m in memberships if user.is_active and m.is_active_today(now)}
    current = {
        (srg.site_id, srg.role): srg.group
        for srg in SiteRoleGroup.objects.filter(group__user=user).select_related("group")
    }
    stale = [group for key, group in current.items() if key not in wanted]
    if stale:
        user.groups.remove(*stale)
        # A membership ended or the account closed: sessions opened under the old access end
        # too, and no stored API answer is replayed to them (carecoord.api.idempotency).
        end_sessions(user)
        IdempotentRequest.objects.filter(user=user).delete()
    sites = {m.site_id: m.site for m in memberships}
    for site_id, role in wanted - current.keys():
        user.groups.add(site_role_group(sites[site_id], role))
    forget_access(user.pk)


def refresh_membership_access(now: dt.datetime | None = None) -> int:
    """Apply membership start and end dates that have come round; returns users updated.

    Run by Celery beat every quarter hour. It looks at people with a membership boundary
    near today and at anyone whose groups disagree with their memberships, so a pass missed
    while the scheduler was down is caught up by the next one.
    """
    now = now or timezone.now()
    today = now.date()
    # Any time zone's local date is within a day of UTC's.
    earliest, latest = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    possibly_active = SiteMembership.objects.filter(
        Q(starts_on__lte=latest), Q(ends_on__isnull=True) | Q(ends_on__gte=earliest)
    )
    at_boundary = SiteMembership.objects.filter(
        Q(starts_on__range=(earliest, latest)) | Q(ends_on__range=(earliest - dt.timedelta(days=1), latest))
    )
    in_group_without_membership = SiteRoleGroup.objects.filter(group__user=OuterRef("pk")).exclude(
        Exists(possibly_active.filter(user=OuterRef(OuterRef("pk")), site=OuterRef("site"), role=OuterRef("role")))
    )
    membership_without_group = possibly_active.filter(user=OuterRef("pk")).exclude(
        Exists(
            SiteRoleGroup.objects.filter(
                group__user=OuterRef(OuterRef("pk")), site=OuterRef("site"), role=OuterRef("role")
            )
        )
    )
    users = User.objects.filter(
        Q(pk__in=at_boundary.values("user_id")) | Exists(in_group_without_membership) | Exists(membership_without_group)
    )
    count = 0
    for user in users:
        sync_user_access(user, now)
        count += 1
    return count


def sync_patient_access(patient: Patient) -> None:
    """Make the patient's grants match its open care-team links exactly (used by the admin)."""
    open_sites = list(Site.objects.filter(pk__in=CareTeamLink.objects.open().filter(patient=patient).values("site_id")))
    PatientGroupObjectPermission.objects.filter(content_object=patient).exclude(
        group__site_role__site__in=open_sites
    ).delete()
    forget_grants()
    for site in open_sites:
        grant_site_on_patient(site=site, patient=patient)
