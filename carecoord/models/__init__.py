"""The core domain shared by every app, one module per concept."""

from carecoord.models.access import PatientGroupObjectPermission, SiteRoleGroup
from carecoord.models.api_tokens import ApiToken
from carecoord.models.care_teams import CareTeamLink, PointPerson
from carecoord.models.deaths import DeathCause, PatientDeath
from carecoord.models.digests import DigestDelivery, DigestPreference
from carecoord.models.idempotency import IdempotentRequest
from carecoord.models.memberships import SiteMembership
from carecoord.models.outbox import OutageReport, OutgoingEmail, WorkerHeartbeat
from carecoord.models.patients import Patient, PatientIdentifier
from carecoord.models.products import LateEffectWatchItem, Product
from carecoord.models.second_factor import WrongSecondFactorCode
from carecoord.models.sites import Site
from carecoord.models.timeline import TimelineEntry
from carecoord.models.users import User

__all__ = [
    "ApiToken",
    "CareTeamLink",
    "DeathCause",
    "DigestDelivery",
    "DigestPreference",
    "IdempotentRequest",
    "LateEffectWatchItem",
    "OutageReport",
    "OutgoingEmail",
    "Patient",
    "PatientDeath",
    "PatientGroupObjectPermission",
    "PatientIdentifier",
    "PointPerson",
    "Product",
    "Site",
    "SiteMembership",
    "SiteRoleGroup",
    "TimelineEntry",
    "User",
    "WorkerHeartbeat",
    "WrongSecondFactorCode",
]
