from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson


def open_care_team_links() -> QuerySet[CareTeamLink]:
    return (
        CareTeamLink.objects.filter(ended_at__isnull=True)
        .select_related("site")
        .prefetch_related(Prefetch("point_persons", queryset=PointPerson.objects.select_related("user")))
    )


def patients_with_care_team(user: AnyUser) -> QuerySet[Patient]:
    """The user's patients with open care-team sites, point persons and identifiers prefetched.

    A fixed number of queries whatever the number of patients.
    """
    return patients_visible_to(user).prefetch_related(
        Prefetch("care_team", queryset=open_care_team_links(), to_attr="open_care_team"),
        Prefetch("identifiers", queryset=PatientIdentifier.objects.select_related("site")),
    )
