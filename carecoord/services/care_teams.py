"""Writes of care teams: which sites share a patient's care, and whom each site names to call.

Every change is on the patient's shared timeline, so both sites see who joined, who left and
who is now the person to call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from carecoord.access import acting_site_for, membership_at, require_acting_site
from carecoord.access.grants import grant_site_on_patient, revoke_site_on_patient
from carecoord.emails import email_queue
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


def _check_point_persons(site: Site, point_persons: Mapping[str, User | None]) -> dict[str, User]:
    named = {rank: user for rank, user in point_persons.items() if user is not None}
    for rank, user in named.items():
        point_person_check(site=site, user=user, rank=rank, field=f"{rank}_point_person")
    if len({user.pk for user in named.values()}) < len(named):
        raise ValidationError({"backup_point_person": "Choose someone other than the primary point person."})
    return named


def _tell_coordinators(link: CareTeamLink, shared_by: Site | None, acknowledge_by: dt.datetime | None) -> None:
    """Email the joining site's coordinators: a patient's care now includes them, name the
    point persons (and acknowledge an urgent referral by `acknowledge_by`). Initials only (the
    email leaves carecoord)."""
    coordinators = SiteMembership.objects.active_at(link.site).filter(role=Role.COORDINATOR, user__is_active=True)
    people = User.objects.filter(pk__in=coordinators.values("user_id"))
    path = reverse("patient-detail", kwargs={"patient_id": link.patient_id})
    for user in people:
        email_queue(
            recipient=user,
            template="care-team-joined",
            context={
                "link": link,
                "shared_by": shared_by,
                "initials": link.patient.initials,
                "path": path,
                "acknowledge_by": acknowledge_by,
            },
            dedupe_key=f"care-team-joined:{link.pk}:{user.pk}",
        )


def care_team_join(
    *,
    actor: User | None,
    patient: Patient,
    site: Site,
    capacity: str,
    shared_by: Site | None = None,
    point_persons: Mapping[str, User | None] | None = None,
    title: str = "",
    notify: bool = False,
    acknowledge_by: dt.datetime | None = None,
) -> CareTeamLink:
    """`site` joins the patient's care team: its link, the grants that let its members in as
    their roles allow, its point persons and the timeline entry, always together.

    The one way a site joins: registering a patient, sharing it, submitting a referral and the
    admin all come here. `shared_by` is the site that brought it in (it signs the entry; the
    caller has checked that the actor may act for it). The joining site's coordinators are
    emailed when another site shares the patient, or with `notify` (a site administrator adds
    the site), since nobody there has seen the patient yet; `acknowledge_by`, the deadline of
    an urgent referral that brings the site in, which the email states.
    """
    if capacity not in CareTeamLink.Capacity.values:
        raise ValidationError({"capacity": "Choose the part the site takes in the patient's care."})
    if capacity == CareTeamLink.Capacity.TREATING_CENTER and not site.is_academic_center:
        raise ValidationError({"capacity": "Only an academic CAR-T center can be the treating center."})
    named = _check_point_persons(site, point_persons or {})
    if CareTeamLink.objects.open().filter(patient=patient, site=site).exists():
        raise ValidationError({"site": f"{site} is already on this patient's care team."})
    try:
        with transaction.atomic():
            link = CareTeamLink.objects.create(patient=patient, site=site, capacity=capacity, added_by=actor)
            grant_site_on_patient(site=site, patient=patient)
            for rank, user in named.items():
                PointPerson.objects.create(link=link, user=user, rank=rank)
            people = "; ".join(f"{PointPerson.Rank(r).label.lower()}: {u.full_name}" for r, u in named.items())
            _record(
                actor=actor,
                link=link,
                title=title or f"{site} joined the care team as {link.get_capacity_display().lower()}",
                body=f"Point persons at {site}: {people}." if people else f"No point person named at {site} yet.",
                site=shared_by or site,
            )
            if notify or (shared_by is not None and shared_by != site):
                _tell_coordinators(link, shared_by, acknowledge_by)
    except IntegrityError:  # a concurrent request added the same site first
        raise ValidationError({"site": f"{site} is already on this patient's care team."}) from None
    return link


def care_team_add_site(
    *, actor: User, patient: Patient, site: Site, capacity: str, from_site: Site | None = None
) -> CareTeamLink:
    """Share the patient's care with `site`, on behalf of `from_site` (by default the first of the
    actor's sites on the care team whose role may manage it)."""
    if from_site is not None:
        acting = require_acting_site(actor, patient, from_site, Capability.MANAGE_CARE_TEAM, field="from_site")
    else:
        acting = acting_site_for(actor, patient, Capability.MANAGE_CARE_TEAM)
    return care_team_join(actor=actor, patient=patient, site=site, capacity=capacity, shared_by=acting.site)


def may_administer_site(user: User, site: Site) -> bool:
    """A site administrator of `site`: staff working there today, or a superuser."""
    return user.is_active and (user.is_superuser or (user.is_staff and membership_at(user, site) is not None))


def care_team_end_site(*, actor: User, link: CareTeamLink, in_admin: bool = False) -> CareTeamLink:
    """`link`'s site stops taking part in the patient's care: its own coordinators' move (or, in
    the admin, a site administrator's). The link stays for the record; access is withdrawn.
    The last site cannot leave: the patient would be nobody's."""
    if in_admin:
        if not may_administer_site(actor, link.site):
            raise PermissionDenied(f"Only site administrators of {link.site} end its participation.")
    else:
        require_acting_site(actor, link.patient, link.site, Capability.MANAGE_CARE_TEAM, field="link")
    with transaction.atomic():
        # Two sites leaving at once must not leave the patient with none: one at a time.
        Patient.objects.select_for_update().filter(pk=link.patient_id).first()
        link.refresh_from_db(fields=["ended_at"])
        if not link.is_open:
            raise ValidationError({"link": "This site has already left the care team."})
        if not CareTeamLink.objects.open().filter(patient=link.patient).exclude(pk=link.pk).exists():
            raise ValidationError({"link": "A patient's care team needs at least one site."})
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
    members = SiteMembership.objects.active_at(site).filter(user=user, user__is_active=True)
    if not members.exclude(role=Role.READ_ONLY).exists():
        raise ValidationError({field: f"{user} does not work at {site} in a role that can act."})


def _coordinator_of_link(actor: User, link: CareTeamLink) -> None:
    """Only the site's own coordinators (its role that manages the care team) name its point persons."""
    if not link.is_open:
        raise ValidationError({"link": "This site has left the care team."})
    require_acting_site(actor, link.patient, link.site, Capability.MANAGE_CARE_TEAM, field="link")


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
