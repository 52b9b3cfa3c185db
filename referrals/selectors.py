"""Reads of referrals, documents and milestones: always scoped through the patient's access path."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from carecoord.access import get_visible_or_404, sites_that_can, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.clinical_dates import RecordDates
from carecoord.lookups import AnyOf
from carecoord.models import Patient, Product, Site, SiteMembership, User
from carecoord.models.patients import Phase
from carecoord.roles import Capability, capabilities_of
from referrals.day_zero import day_zero_in
from referrals.milestones.kinds import milestone_label_or_kind
from referrals.models import Milestone, MilestoneQuerySet, Referral, ReferralDocument, ReferralQuerySet
from referrals.phase import PathStep, patient_path, patient_phase
from referrals.workflow import Side, State


def referrals_visible_to(user: AnyUser) -> ReferralQuerySet:
    return Referral.objects.filter(patient_id__in=visible_patient_ids(user)).select_related(
        "patient", "from_site", "to_center", "referring_physician", "product"
    )


def referrals_of_patient(user: AnyUser, patient: Patient) -> ReferralQuerySet:
    """The referrals of `patient` that `user` may see (none outside the care team), newest first."""
    return referrals_visible_to(user).filter(patient=patient).order_by("-created_at", "-id")


def get_referral_for_user(user: AnyUser, referral_id: int | str) -> Referral:
    return get_visible_or_404(referrals_visible_to(user), referral_id, "referral")


def documents_visible_to(user: AnyUser) -> QuerySet[ReferralDocument]:
    return ReferralDocument.objects.filter(referral__patient_id__in=visible_patient_ids(user)).select_related(
        "referral", "uploaded_by"
    )


def get_document_for_user(user: AnyUser, document_id: int | str) -> ReferralDocument:
    return get_visible_or_404(documents_visible_to(user), document_id, "document")


def milestones_visible_to(user: AnyUser) -> MilestoneQuerySet:
    return Milestone.objects.filter(referral__patient_id__in=visible_patient_ids(user)).select_related(
        "referral", "given_at"
    )


def get_milestone_for_user(user: AnyUser, milestone_id: int | str) -> Milestone:
    return get_visible_or_404(milestones_visible_to(user), milestone_id, "milestone")


def referral_sides(user: AnyUser, referral: Referral) -> list[tuple[Side, Site]]:
    """The sides of `referral` (center first) that `user` may act for: those of its two sites
    where their role allows recording care (`carecoord.access.acting`)."""
    if not isinstance(user, User):
        return []
    mine = {site.pk for site in sites_that_can(user, referral.patient, Capability.RECORD_CARE)}
    parties = ((Side.CENTER, referral.to_center), (Side.PRACTICE, referral.from_site))
    return [(side, site) for side, site in parties if site.pk in mine]


# Longest waiting first.
WAITING_ORDER = ("acknowledge_by", "created_at", "pk")


def referrals_waiting_on(user: AnyUser, site_ids: list[int]) -> QuerySet[Referral]:
    """Open referrals whose next move belongs to one of `site_ids` (the user's sites)."""
    return referrals_visible_to(user).filter(_waiting_at(site_ids)).order_by(*WAITING_ORDER)


def referrals_waiting_at(site_ids: list[int]) -> QuerySet[Referral]:
    """`referrals_waiting_on` before the access check: for `first_visible`, which makes it."""
    return Referral.objects.filter(_waiting_at(site_ids)).order_by(*WAITING_ORDER)


def _waiting_at(site_ids: list[int]) -> Q:
    center_turn = Q(to_center_id__in=site_ids, state__in=[State.SUBMITTED, State.RECEIVED, State.UNDER_REVIEW])
    return center_turn | Q(from_site_id__in=site_ids, state=State.DRAFT)


def referrals_to_or_from(user: AnyUser, site_ids: list[int]) -> ReferralQuerySet:
    """Referrals to or from `site_ids` (the user's sites), as `referrals_overdue_for` reads them
    before the clock (the work queue keeps this part built, `carecoord.work_queue.built_per_shape`)."""
    return referrals_visible_to(user).filter(Q(to_center_id__in=site_ids) | Q(from_site_id__in=site_ids))


def referrals_overdue_for(user: AnyUser, site_ids: list[int]) -> ReferralQuerySet:
    """Referrals whose acknowledgement is overdue, to or from `site_ids` (the user's sites): the
    center acknowledges, the referring practice chases."""
    return referrals_to_or_from(user, site_ids).acknowledgement_overdue()


def milestones_due(user: AnyUser, start: dt.date | None, end: dt.date) -> QuerySet[Milestone]:
    """Planned milestones of the user's patients due between `start` and `end` inclusive; from
    any day before `end` (the overdue too) when `start` is None; with the referral and patient
    their lists show (not the site a step was given at: none of them shows it)."""
    planned = milestones_visible_to(user).due_by(end)
    if start is not None:
        planned = planned.filter(planned_on__gte=start)
    return planned.select_related(None).select_related("referral__patient").order_by("planned_on", "pk")


@dataclass(frozen=True)
class PatientTimeline:
    """A patient's referrals and planned course, for the shared timeline, read in two queries.

    The timeline's entries are read apart (`carecoord.timeline`): the page shows the last days,
    the API one page at a time."""

    patient: Patient
    referrals: list[Referral]
    milestones: list[Milestone]
    infusion_on: dt.date | None

    def _planned(self) -> list[tuple[dt.date, Milestone]]:
        return sorted(
            ((m.planned_on, m) for m in self.milestones if m.status == Milestone.Status.PLANNED and m.planned_on),
            key=lambda pair: (pair[0], pair[1].pk),
        )

    def upcoming(self, today: dt.date, limit: int = 5) -> list[Milestone]:
        """What comes next: planned milestones from today on."""
        return [m for on, m in self._planned() if on >= today][:limit]

    def overdue(self, today: dt.date) -> list[Milestone]:
        """Planned milestones whose date has passed without being marked done or cancelled."""
        return [m for _, m in self._planned() if m.is_overdue(today)]

    def conflicts(self) -> list[Milestone]:
        """Planned dates that no longer fit their course, nobody having confirmed them."""
        return [m for _, m in self._planned() if m.has_open_conflict]

    def phase(self, now: dt.datetime | None = None) -> Phase:
        """Where the patient stands now (`referrals.phase`), from what is already loaded."""
        return patient_phase(self.referrals, self.milestones, now or timezone.now())

    def path(self, now: dt.datetime | None = None) -> list[tuple[Phase, PathStep]]:
        """Each phase with where it stands (`referrals.phase.phase_path`): done only if recorded."""
        return patient_path(self.referrals, self.milestones, now or timezone.now())


def patient_timeline(patient: Patient) -> PatientTimeline:
    """The timeline of a patient the caller has already loaded through the access path."""
    referrals = list(Referral.objects.filter(patient=patient).select_related("from_site", "to_center", "product"))
    milestones = list(Milestone.objects.filter(referral__patient=patient).select_related("given_at"))
    # Each milestone and referral points at what is loaded already: reading `milestone.referral`
    # or `referral.patient` costs no query per row.
    by_pk = {referral.pk: referral for referral in referrals}
    for referral in referrals:
        referral.patient = patient
    for milestone in milestones:
        milestone.referral = by_pk[milestone.referral_id]
    return PatientTimeline(
        patient=patient,
        referrals=referrals,
        milestones=milestones,
        infusion_on=day_zero_in(milestones),
    )


def milestones_in_conflict(user: AnyUser) -> QuerySet[Milestone]:
    """Planned dates of the user's patients that no longer fit their course, not yet confirmed."""
    return (
        Milestone.objects.with_open_conflict()
        .filter(referral__patient_id__in=visible_patient_ids(user))
        .select_related("referral__patient")
        .order_by("planned_on")
    )


def record_dates(patient: Patient, zone: zoneinfo.ZoneInfo) -> RecordDates:
    """What a date of `patient`'s care is checked against, from `zone`: one query, for the day
    the patient's first referral was started and the day of their death, if recorded."""
    first = Referral.objects.filter(patient=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    row = Patient.objects.filter(pk=patient.pk).values_list(Subquery(first), "death__died_on").get()
    referred_on = timezone.localdate(row[0], zone) if row[0] else None
    return RecordDates(born_on=patient.date_of_birth, referred_on=referred_on, zone=zone, died_on=row[1])


class NextStep(NamedTuple):
    """A patient's earliest planned milestone not yet recorded: the next thing to do, or overdue."""

    kind: str
    planned_on: dt.date

    @property
    def label(self) -> str:
        return milestone_label_or_kind(self.kind)

    def is_overdue(self, today: dt.date) -> bool:
        return self.planned_on < today


def next_steps(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, NextStep]:
    """Each patient's `NextStep` among `patient_ids` (those with one), in one query."""
    rows = (
        Milestone.objects.filter(
            AnyOf(F("referral__patient_id"), list(patient_ids)),
            status=Milestone.Status.PLANNED,
            planned_on__isnull=False,
        )
        .order_by("referral__patient_id", "planned_on", "pk")
        .distinct("referral__patient_id")
        .values_list("referral__patient_id", "kind", "planned_on")
    )
    return {patient_id: NextStep(kind, planned_on) for patient_id, kind, planned_on in rows if planned_on}


def accepted_referral(patient_id: uuid.UUID) -> Referral | None:
    """The patient's latest accepted referral, with its product and center: the course being
    treated (one query). The caller has loaded the patient through the access path."""
    return (
        Referral.objects.filter(patient_id=patient_id, state=State.ACCEPTED)
        .select_related("product", "to_center")
        .order_by("-created_at")
        .first()
    )


def treated_product(patient_id: uuid.UUID) -> Product | None:
    """The product of the patient's accepted referral, if it names one (one query)."""
    referral = accepted_referral(patient_id)
    return referral.product if referral is not None else None


def course_milestone_on(patient_id: uuid.UUID, kind: str) -> dt.date | None:
    """The date of a milestone of the course that day 0 belongs to (done: when it was done;
    else when planned), or None (one query)."""
    course = Milestone.objects.filter(referral__patient_id=patient_id).infusions().values("referral_id")[:1]
    milestone = (
        Milestone.objects.filter(referral_id__in=course, kind=kind).exclude(status=Milestone.Status.CANCELLED).first()
    )
    return (milestone.actual_on or milestone.planned_on) if milestone else None


# Who may refer: the one rule, read by the referral page, the dashboard and the FHIR intake.
def referring_practices(memberships: list[SiteMembership]) -> list[Site]:
    """Community practices where the user works (active memberships) in a role that records care."""
    return [
        m.site
        for m in memberships
        if not m.site.is_academic_center and Capability.RECORD_CARE in capabilities_of(m.role)
    ]


def can_refer(memberships: list[SiteMembership]) -> bool:
    return bool(referring_practices(memberships))
