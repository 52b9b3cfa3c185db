from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from carecoord.access import get_patient_for_user, patients_visible_to, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.lookups import AnyOf
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, Site
from carecoord.roles import Capability


def _point_persons_of_links() -> Prefetch:
    # By rank only: the model's default order goes through the link's own (capacity, site
    # name), which joins every care-team link and site into each list's prefetch.
    return Prefetch("point_persons", queryset=PointPerson.objects.select_related("user").order_by("rank"))


def open_care_team_links() -> QuerySet[CareTeamLink]:
    return CareTeamLink.objects.open().select_related("site").prefetch_related(_point_persons_of_links())


def patient_ids_matching(user: AnyUser, text: str) -> QuerySet[Patient, Any]:
    """The ids of `user`'s patients matching `text` (`patients_matching`), as a subquery for the
    lists found by patient (`patient_id__in=`)."""
    return patients_matching(patients_visible_to(user), text).values("pk")


def identifiers_with_sites() -> Prefetch:
    """Each patient's MRNs with their sites as `patient.listed_identifiers`, in one query for any
    number of patients. A list rather than the manager's cache: Django makes a queryset for every
    patient to hold its prefetched rows, about 2 ms on a page of fifty."""
    identifiers = PatientIdentifier.objects.select_related("site")
    return Prefetch("identifiers", queryset=identifiers, to_attr="listed_identifiers")


def _care_team_prefetches() -> list[Prefetch]:
    return [Prefetch("care_team", queryset=open_care_team_links(), to_attr="open_care_team"), identifiers_with_sites()]


def patients_with_care_team(user: AnyUser) -> QuerySet[Patient]:
    """The user's patients with open care-team sites, point persons and identifiers prefetched.

    A fixed number of queries whatever the number of patients.
    """
    return patients_visible_to(user).prefetch_related(*_care_team_prefetches())


SEARCH_WORDS = 4  # "Sharon Sharedcare 10442" is three; more words add nothing but work


def patients_matching(patients: QuerySet[Patient], text: str) -> QuerySet[Patient]:
    """Those of `patients` whose given or family name, or MRN at any site, holds each word of
    `text` (any part of it, any case): "shar 1044" finds Sharon Sharedcare, MRN 104423.

    Each word is read through the trigram indexes (migration 0016). `patients` is already scoped
    to what the viewer sees, so an MRN at a site the viewer does not work at finds only a
    patient the viewer shares care of anyway.
    """
    for word in text.replace(",", " ").split()[:SEARCH_WORDS]:
        by_mrn = PatientIdentifier.objects.filter(mrn__icontains=word).values("patient_id")
        patients = patients.filter(Q(family_name__icontains=word) | Q(given_name__icontains=word) | Q(pk__in=by_mrn))
    return patients


def patients_with_identifiers(user: AnyUser) -> QuerySet[Patient]:
    """The user's patients with their identifiers (and each identifier's site) prefetched."""
    return patients_visible_to(user).prefetch_related(identifiers_with_sites())


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


def sites_without_primary(patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For each of `patient_ids` with any, the names of the care-team sites that name no active
    primary point person (alerts there reach only coordinators), in one query."""
    primary = PointPerson.objects.filter(link=OuterRef("pk"), rank=PointPerson.Rank.PRIMARY, user__is_active=True)
    rows = (
        CareTeamLink.objects.open()
        .filter(AnyOf(F("patient_id"), patient_ids))
        .exclude(Exists(primary))
        .order_by("site__name")
        .values_list("patient_id", "site__name")
    )
    by_patient: dict[uuid.UUID, list[str]] = {}
    for patient_id, site_name in rows:
        by_patient.setdefault(patient_id, []).append(site_name)
    return by_patient


def treating_center_of(patient_id: uuid.UUID) -> Site | None:
    """The site treating the patient now (an open treating-center link), or None: one query.
    The caller has loaded the patient through the access path."""
    link = (
        CareTeamLink.objects.open()
        .filter(patient_id=patient_id, capacity=CareTeamLink.Capacity.TREATING_CENTER)
        .select_related("site")
        .order_by("joined_at", "pk")
        .first()
    )
    return link.site if link is not None else None
