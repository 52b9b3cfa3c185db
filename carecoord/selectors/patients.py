from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, prefetch_related_objects

from carecoord.access import get_patient_for_user, patients_visible_to, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson
from carecoord.roles import Capability


def _point_persons_of_links() -> Prefetch:
    # By rank only: the model's default order goes through the link's own (capacity, site
    # name), which joins every care-team link and site into each list's prefetch.
    return Prefetch("point_persons", queryset=PointPerson.objects.select_related("user").order_by("rank"))


def open_care_team_links() -> QuerySet[CareTeamLink]:
    return CareTeamLink.objects.open().select_related("site").prefetch_related(_point_persons_of_links())


def _identifiers() -> Prefetch:
    return Prefetch("identifiers", queryset=PatientIdentifier.objects.select_related("site"))


def _care_team_prefetches() -> list[Prefetch]:
    return [Prefetch("care_team", queryset=open_care_team_links(), to_attr="open_care_team"), _identifiers()]


def patients_with_care_team(user: AnyUser) -> QuerySet[Patient]:
    """The user's patients with open care-team sites, point persons and identifiers prefetched.

    A fixed number of queries whatever the number of patients.
    """
    return patients_visible_to(user).prefetch_related(*_care_team_prefetches())


def patients_with_identifiers(user: AnyUser) -> QuerySet[Patient]:
    """The user's patients with their identifiers (and each identifier's site) prefetched."""
    return patients_visible_to(user).prefetch_related(_identifiers())


def patient_with_care_team(user: AnyUser, patient_id: uuid.UUID | str, capability: str = Capability.VIEW) -> Patient:
    """One patient through `get_patient_for_user` (404 / 403), prefetched like the list."""
    patient = get_patient_for_user(user, patient_id, capability)
    prefetch_related_objects([patient], *_care_team_prefetches())
    return patient


def care_team_links_visible_to(user: AnyUser) -> QuerySet[CareTeamLink]:
    """Every care-team link, open or ended, of the patients the user sees."""
    return (
        CareTeamLink.objects.filter(patient_id__in=visible_patient_ids(user))
        .select_related("site")
        .prefetch_related(_point_persons_of_links())
    )


def point_persons_visible_to(user: AnyUser) -> QuerySet[PointPerson]:
    """The point persons named on the care teams of the patients the user sees."""
    visible = visible_patient_ids(user)
    return PointPerson.objects.filter(link__patient_id__in=visible).select_related("user", "link__site")


def links_without_primary(user: AnyUser, site_ids: list[int]) -> QuerySet[CareTeamLink]:
    """Open care-team links of `site_ids` (the user's sites) naming no active primary point person:
    the patients whose alerts reach nobody named at those sites."""
    primary = PointPerson.objects.filter(link=OuterRef("pk"), rank=PointPerson.Rank.PRIMARY, user__is_active=True)
    return (
        CareTeamLink.objects.open()
        .filter(patient_id__in=visible_patient_ids(user), site_id__in=site_ids)
        .exclude(Exists(primary))
        .select_related("patient", "site")
        .order_by("joined_at")
    )
