"""Who is told at once about a patient: the same rule for a toxicity's alert, a flagged lab
value and a death, so that a site naming no primary point person still hears through its
coordinators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from carecoord.models import CareTeamLink, PatientIdentifier, PointPerson, Site, User
from carecoord.selectors.sites import coordinators_by_site

# Why a person is told for a site where no primary point person is named.
COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Recipient:
    user: User
    site: Site
    role: str  # why: "primary", "backup" (their rank) or "coordinator" (`toxicity.Alert.Role`)
    mrn: str = ""  # the patient's MRN at `site`, if it has one


def with_mrn(links: QuerySet[CareTeamLink]) -> QuerySet[CareTeamLink]:
    """Each link with the patient's MRN at its site (`mrn`, None without one)."""
    mrn = PatientIdentifier.objects.filter(patient_id=OuterRef("patient_id"), site_id=OuterRef("site_id"))
    return links.annotate(mrn=Subquery(mrn.values("mrn")[:1]))


def mrn_of(link: CareTeamLink) -> str:
    """The MRN `with_mrn` read for the link's site, "" without one."""
    return getattr(link, "mrn", None) or ""


def alert_recipients(patient_id: uuid.UUID) -> list[Recipient]:
    """Who is told at once about the patient (a toxicity, a flagged lab value, a death): at each
    care-team site its named point persons, and its active coordinators when it names no active
    primary. A site with neither is left out. Each comes with the patient's MRN at their site,
    which their email names."""
    links = list(with_mrn(CareTeamLink.objects.open().filter(patient_id=patient_id).select_related("site")))
    persons = PointPerson.objects.filter(link__in=links, user__is_active=True).select_related("user")
    named: dict[int, list[PointPerson]] = {link.pk: [] for link in links}
    for person in sorted(persons, key=lambda p: p.rank != PointPerson.Rank.PRIMARY):
        named[person.link_id].append(person)
    unnamed = [link.site for link in links if not any(p.rank == PointPerson.Rank.PRIMARY for p in named[link.pk])]
    coordinators = coordinators_by_site(unnamed)
    recipients = []
    for link in links:
        recipients += [Recipient(p.user, link.site, p.rank, mrn_of(link)) for p in named[link.pk]]
        if link.site_id in coordinators:
            already = {p.user_id for p in named[link.pk]}
            recipients += [
                Recipient(user, link.site, COORDINATOR, mrn_of(link))
                for user in coordinators[link.site_id]
                if user.pk not in already
            ]
    return recipients
