"""Writes of care teams: which sites share a patient's care, and whom each site names to call.

Every change is on the patient's shared timeline, so both sites see who joined, who left and
who is now the person to call.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carecoord.access import require_capability
from carecoord.access.grants import grant_site_on_patient, local_today, revoke_site_on_patient
from carecoord.models import CareTeamLink, Patient, PointPerson, Site, SiteMembership, TimelineEntry, User
from carecoord.roles import Capability, Role
from carecoord.timeline import timeline_record


def _record(*, actor: User | None, link: CareTeamLink, title: str, body: str = "", site: Site | None = None) -> None:
    timeline_record(
        patient=link.patient,
        kind=TimelineEntry.Kind.CARE_TEAM,
        actor=actor,
        site=site or link.site,
        title=title,
        body=body,
    )


def care_team_add_site(
    *, actor: User, patient: Patient, site: Site, capacity: str, from_site: Site | None = None
) -> CareTeamLink:
    """Share the patient's care with `site`: its members gain access as their roles allow.

    `from_site` is the actor's site that shares it, to sign the timeline entry.
    """
    require_capability(actor, patient, Capability.MANAGE_CARE_TEAM)
    if capacity not in CareTeamLink.Capacity.values:
        raise ValidationError({"capacity": "Choose the part the site takes in the patient's care."})
    if capacity == CareTeamLink.Capacity.TREATING_CENTER and not site.is_academic_center:
        raise ValidationError({"capacity": "Only an academic CAR-T center can be the treating center."})
    if CareTeamLink.objects.filter(patient=patient, site=site, ended_at__isnull=True).exists():
        raise ValidationError({"site": f"{site} is already on this patient's care team."})
    try:
        with transaction.atomic():
            link = CareTeamLink.objects.create(patient=patient, site=site, capacity=capacity, added_by=actor)
            grant_site_on_patient(site=site, patient=patient)
            title = f"{site} joined the care team as {link.get_capacity_display().lower()}"
            _record(actor=actor, link=link, title=title, site=from_site or site)
    except IntegrityError:  # a concurrent request added the same site first
        raise ValidationError({"site": f"{site} is already on this patient's care team."}) from None
    return link


def care_team_end_site(*, actor: User, link: CareTeamLink) -> CareTeamLink:
    """Stop sharing care with a site; the link stays for the record, access is withdrawn."""
    require_capability(actor, link.patient, Capability.MANAGE_CARE_TEAM)
    if not link.is_open:
        raise ValidationError({"link": "This site has already left the care team."})
    others = CareTeamLink.objects.filter(patient=link.patient, ended_at__isnull=True).exclude(pk=link.pk)
    if not others.exists():
        raise ValidationError({"link": "A patient's care team needs at least one site."})
    with transaction.atomic():
        link.ended_at = timezone.now()
        link.save(update_fields=["ended_at"])
        link.point_persons.all().delete()
        revoke_site_on_patient(site=link.site, patient=link.patient)
        _record(actor=actor, link=link, title=f"{link.site} left the care team")
    return link


def point_person_check(*, site: Site, user: User, rank: str, field: str = "user") -> None:
    """Refuse a point person who does not work at `site` today in a role that can act."""
    if rank not in PointPerson.Rank.values:
        raise ValidationError({"rank": "Choose primary or backup."})
    members = SiteMembership.objects.active_on(local_today(site)).filter(site=site, user=user, user__is_active=True)
    if not members.exclude(role=Role.READ_ONLY).exists():
        raise ValidationError({field: f"{user} does not work at {site} in a role that can act."})


def _coordinator_of_link(actor: User, link: CareTeamLink) -> None:
    require_capability(actor, link.patient, Capability.MANAGE_CARE_TEAM)
    coordinators = SiteMembership.objects.active_on(local_today(link.site)).filter(
        site=link.site, user=actor, role=Role.COORDINATOR
    )
    if not coordinators.exists():
        raise ValidationError({"link": "Only a coordinator at this site names its point persons."})
    if not link.is_open:
        raise ValidationError({"link": "This site has left the care team."})


def care_team_name_point_person(*, actor: User, link: CareTeamLink, user: User, rank: str) -> PointPerson:
    """Name the primary or backup point person of a care-team site.

    The site's own coordinators choose its point persons, among people actively working there
    in a role that can act (not read-only). Naming someone who held the other rank moves them.
    """
    _coordinator_of_link(actor, link)
    point_person_check(site=link.site, user=user, rank=rank)
    with transaction.atomic():
        before = PointPerson.objects.filter(link=link, rank=rank).select_related("user").first()
        PointPerson.objects.filter(link=link, user=user).exclude(rank=rank).delete()
        point_person, _ = PointPerson.objects.update_or_create(link=link, rank=rank, defaults={"user": user})
        if before is None or before.user_id != user.pk:
            label = PointPerson.Rank(rank).label.lower()
            was = f" (was {before.user.full_name})" if before is not None else ""
            _record(actor=actor, link=link, title=f"{user.full_name} is now {label} point person at {link.site}{was}")
    return point_person


def care_team_remove_backup(*, actor: User, link: CareTeamLink) -> None:
    """The site no longer names a backup point person (the primary cannot be removed, only replaced)."""
    _coordinator_of_link(actor, link)
    with transaction.atomic():
        backup = PointPerson.objects.filter(link=link, rank=PointPerson.Rank.BACKUP).select_related("user").first()
        if backup is None:
            raise ValidationError({"backup": "No backup point person is named here."})
        backup.delete()
        _record(
            actor=actor, link=link, title=f"{backup.user.full_name} is no longer backup point person at {link.site}"
        )


def care_team_set_point_persons(*, actor: User, link: CareTeamLink, primary: User, backup: User | None) -> None:
    """A site's coordinator names its primary and backup (None: no backup) in one go."""
    _coordinator_of_link(actor, link)
    point_person_check(site=link.site, user=primary, rank=PointPerson.Rank.PRIMARY, field="primary")
    if backup is not None:
        point_person_check(site=link.site, user=backup, rank=PointPerson.Rank.BACKUP, field="backup")
        if backup.pk == primary.pk:
            raise ValidationError({"backup": "Choose someone other than the primary point person, or no backup."})
    with transaction.atomic():
        care_team_name_point_person(actor=actor, link=link, user=primary, rank=PointPerson.Rank.PRIMARY)
        if backup is not None:
            care_team_name_point_person(actor=actor, link=link, user=backup, rank=PointPerson.Rank.BACKUP)
        elif PointPerson.objects.filter(link=link, rank=PointPerson.Rank.BACKUP).exists():
            care_team_remove_backup(actor=actor, link=link)
