from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carecoord.access import require_capability
from carecoord.access.grants import grant_site_on_patient, local_today, revoke_site_on_patient
from carecoord.models import CareTeamLink, Patient, PointPerson, Site, SiteMembership, User
from carecoord.roles import Capability, Role


def care_team_add_site(*, actor: User, patient: Patient, site: Site, capacity: str) -> CareTeamLink:
    """Share the patient's care with `site`: its members gain access as their roles allow."""
    require_capability(actor, patient, Capability.MANAGE_CARE_TEAM)
    if capacity == CareTeamLink.Capacity.TREATING_CENTER and not site.is_academic_center:
        raise ValidationError({"capacity": "Only an academic CAR-T center can be the treating center."})
    if CareTeamLink.objects.filter(patient=patient, site=site, ended_at__isnull=True).exists():
        raise ValidationError({"site": f"{site} is already on this patient's care team."})
    try:
        with transaction.atomic():
            link = CareTeamLink.objects.create(patient=patient, site=site, capacity=capacity, added_by=actor)
            grant_site_on_patient(site=site, patient=patient)
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
    return link


def care_team_name_point_person(*, actor: User, link: CareTeamLink, user: User, rank: str) -> PointPerson:
    """Name the primary or backup point person of a care-team site.

    The site's own coordinators choose its point persons, among people actively working there
    in a role that can act (not read-only).
    """
    require_capability(actor, link.patient, Capability.MANAGE_CARE_TEAM)
    today = local_today(link.site)
    site_members = SiteMembership.objects.active_on(today).filter(site=link.site)
    if not site_members.filter(user=actor, role=Role.COORDINATOR).exists():
        raise ValidationError({"link": "Only a coordinator at this site names its point persons."})
    if not link.is_open:
        raise ValidationError({"link": "This site has left the care team."})
    if rank not in PointPerson.Rank.values:
        raise ValidationError({"rank": "Choose primary or backup."})
    if not site_members.filter(user=user).exclude(role=Role.READ_ONLY).exists():
        raise ValidationError({"user": f"{user} does not work at {link.site} in a role that can act."})
    with transaction.atomic():
        PointPerson.objects.filter(link=link, user=user).exclude(rank=rank).delete()
        point_person, _ = PointPerson.objects.update_or_create(link=link, rank=rank, defaults={"user": user})
    return point_person
