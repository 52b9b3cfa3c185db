"""Acting for a site: which of a person's sites may act on a patient, and with what.

A person may work at several sites, in a different role at each. Whatever they write about a
patient they write on behalf of one site, and the role at *that* site decides what they may
do: someone read-only at the center and coordinator at a practice acts as the practice, never
as the center. The union of their roles decides nothing.

One source answers: the grant table. A site's role group holds the role's capabilities on each
patient whose care team the site is on (while its link is open), and a person is in that group
exactly while their membership there is active (`carecoord.access.grants`). So one query says,
site by site, what a person may do for a patient.

Every service that writes for a site calls `require_acting_site` (the site is chosen by the
person) or `acting_site_for` (the site follows from what is done, e.g. a referral's side).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from carecoord.access.scope import AnyUser, access_key, capabilities_by_site
from carecoord.models import Patient, Site, SiteMembership, User
from carecoord.request_context import note_acting_site
from carecoord.roles import Capability


@dataclass(frozen=True)
class ActingSite:
    """A site the person may act for on one patient, with what their role there allows."""

    site: Site
    capabilities: frozenset[str]

    def can(self, capability: str) -> bool:
        return capability in self.capabilities


def acting_capabilities(user: AnyUser, patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[int, set[str]]]:
    """For lists: each patient's acting site ids with what the role there allows, in one query
    (none for patients already looked up while serving this request)."""
    return capabilities_by_site(user, patient_ids)


def acting_sites(user: AnyUser, patient: Patient | uuid.UUID) -> list[ActingSite]:
    """The sites on the patient's open care team where `user` works today, by name, each with
    the capabilities of the role held there (two queries)."""
    patient_id = patient.pk if isinstance(patient, Patient) else patient
    capabilities = acting_capabilities(user, [patient_id])[patient_id]
    sites = Site.objects.in_bulk(list(capabilities))
    acting = [ActingSite(site, frozenset(capabilities[site.pk])) for site in sites.values()]
    return sorted(acting, key=lambda a: (a.site.name, a.site.pk))


def first_acting_site_ids(user: AnyUser, patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For each patient, the first site by name that `user` may act for: whom a read, or a write
    no service named a site for, is attributed to. Patients with none are left out. One query
    (the names come with the user's access key)."""
    by_patient = acting_capabilities(user, patient_ids)
    rank: dict[int, int] = {}
    for _group, site_id in acting_order(user):  # every site of a grant of theirs is one of their sites
        rank.setdefault(site_id, len(rank))
    return {patient_id: min(sites, key=rank.__getitem__) for patient_id, sites in by_patient.items() if sites}


def acting_order(user: AnyUser) -> list[tuple[int, int]]:
    """`user`'s site-role groups with their sites, in the order a site is chosen to act for
    (`first_acting_site_ids`): by the site's name, then its id. The audit of reads chooses in
    its INSERT with it (`audit.reads`), the first holding a grant on the patient."""
    key = access_key(user)
    return sorted(key.site_of_group.items(), key=lambda pair: (key.site_names[pair[1]], pair[1], pair[0]))


def sites_that_can(user: AnyUser, patient: Patient, capability: str) -> list[Site]:
    """The sites `user` may act for on `patient` to do `capability` (for a form's site choice)."""
    return [a.site for a in acting_sites(user, patient) if a.can(capability)]


# What a refusal says the role would have had to allow.
_DOING = {
    Capability.VIEW: "see this patient",
    Capability.RECORD_CARE: "record care for this patient",
    Capability.CHANGE: "change this patient's details",
    Capability.MANAGE_CARE_TEAM: "manage this patient's care team",
}


def _refusal(site: Site, capability: str) -> PermissionDenied:
    return PermissionDenied(f"Your role at {site} does not allow you to {_DOING[Capability(capability)]}.")


def require_acting_site(
    user: User, patient: Patient, site: Site, capability: str, *, field: str = "site", not_yours: str = ""
) -> ActingSite:
    """Let `user` act for `site` on `patient` only if the role at `site` allows `capability`.

    A site where the person does not work today, or that is not on the care team, is an input
    error on `field` (400; `not_yours` says it in the caller's words); a site where they work
    in a role that does not allow it is refused (403). The audit trail records the request as
    acting for the site.
    """
    acting = next((a for a in acting_sites(user, patient) if a.site.pk == site.pk), None)
    if acting is None:
        raise ValidationError(
            {field: not_yours or f"You can only act for a site where you work on this patient's care team, not {site}."}
        )
    if not acting.can(capability):
        raise _refusal(site, capability)
    note_acting_site(user.pk, patient.pk, site.pk)
    return acting


def acting_site_for(
    user: User, patient: Patient, capability: str, *, among: Sequence[Site] = (), prefer: Sequence[Site] = ()
) -> ActingSite:
    """The site `user` acts for when what is done decides it, not a choice on a form.

    With `among` (e.g. a referral's center and practice), only those sites may act, in that
    order; otherwise any of the person's sites on the care team, those in `prefer` first, then by
    name. The first whose role allows `capability` is chosen; none is refused, naming the role
    that stood in the way.
    """
    mine = acting_sites(user, patient)
    order = [site.pk for site in (among or prefer)]

    def rank(acting: ActingSite) -> int:
        return order.index(acting.site.pk) if acting.site.pk in order else len(order)

    if among:
        mine = [a for a in mine if a.site.pk in order]
        if not mine:
            raise PermissionDenied(f"Only the staff of {' or '.join(str(site) for site in among)} do this.")
    mine.sort(key=rank)  # stable: by name within the same rank
    for acting in mine:
        if acting.can(capability):
            note_acting_site(user.pk, patient.pk, acting.site.pk)
            return acting
    if mine:
        raise _refusal(mine[0].site, capability)
    raise PermissionDenied("You do not work at a site on this patient's care team.")


def membership_at(user: User, site: Site) -> SiteMembership | None:
    """`user`'s membership at `site` active today in the site's time zone (the first by role),
    for what belongs to a site rather than a patient: registering, its templates."""
    return SiteMembership.objects.active_at(site).filter(user=user).order_by("role").first()
