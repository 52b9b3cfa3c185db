"""Reads of infections, prophylaxis and vaccinations, always scoped through the patient's access path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.models import Patient
from carecoord.roles import Capability
from carecoord.selectors.patients import treating_center_of
from infections.models import (
    InfectionEvent,
    InfectionQuerySet,
    ProphylaxisDefaults,
    ProphylaxisItem,
    ProphylaxisQuerySet,
    VaccinationItem,
    VaccinationQuerySet,
)
from infections.rules import (
    DEFAULT_PLAN,
    PlanDefaults,
    ProposedItem,
    ProposedVaccination,
    standard_prophylaxis,
    standard_vaccinations,
)
from referrals.day_zero import day_zero_of
from referrals.models import Milestone
from referrals.schedule import MilestoneKind


def infections_visible_to(user: AnyUser) -> InfectionQuerySet:
    """The infections of the user's patients, with their day 0 (for day +N)."""
    return (
        InfectionEvent.objects.filter(patient_id__in=visible_patient_ids(user))
        .with_day_zero()
        .select_related("patient", "reporting_site", "recorded_by")
    )


def get_infection_for_user(user: AnyUser, infection_id: int | str) -> InfectionEvent:
    return get_visible_or_404(infections_visible_to(user), infection_id, "infection")


def prophylaxis_visible_to(user: AnyUser, capability: str = Capability.VIEW) -> ProphylaxisQuerySet:
    return ProphylaxisItem.objects.filter(patient_id__in=visible_patient_ids(user, capability)).select_related(
        "patient", "site"
    )


def get_prophylaxis_for_user(user: AnyUser, item_id: int | str) -> ProphylaxisItem:
    return get_visible_or_404(prophylaxis_visible_to(user), item_id, "prophylaxis item")


def vaccinations_visible_to(user: AnyUser, capability: str = Capability.VIEW) -> VaccinationQuerySet:
    return VaccinationItem.objects.filter(patient_id__in=visible_patient_ids(user, capability)).select_related(
        "patient", "site"
    )


def get_vaccination_for_user(user: AnyUser, item_id: int | str) -> VaccinationItem:
    return get_visible_or_404(vaccinations_visible_to(user), item_id, "vaccination")


@dataclass(frozen=True)
class CourseDates:
    """What the standard plans are counted from."""

    day_zero: dt.date | None
    lymphodepletion_on: dt.date | None


def course_dates(patient: Patient) -> CourseDates:
    """Day 0 and the start of lymphodepletion of the course day 0 belongs to: two queries."""
    day_zero = day_zero_of(patient)
    if day_zero is None:
        return CourseDates(None, None)
    course = Milestone.objects.filter(referral__patient=patient).infusions().values("referral_id")[:1]
    start = (
        Milestone.objects.filter(referral_id__in=course, kind=MilestoneKind.LYMPHODEPLETION_START)
        .exclude(status=Milestone.Status.CANCELLED)
        .values_list("actual_on", "planned_on")
        .first()
    )
    return CourseDates(day_zero, (start[0] or start[1]) if start else None)


@dataclass(frozen=True)
class InfectionRecord:
    """A patient's infections, prophylaxis plan and vaccinations, for their page: three queries."""

    infections: list[InfectionEvent]
    prophylaxis: list[ProphylaxisItem]
    vaccinations: list[VaccinationItem]


def infection_record_of(patient: Patient) -> InfectionRecord:
    """Everything of an already-authorised patient, whatever its size, in three queries."""
    return InfectionRecord(
        infections=list(
            InfectionEvent.objects.filter(patient=patient)
            .with_day_zero()
            .select_related("reporting_site", "recorded_by")
        ),
        prophylaxis=list(ProphylaxisItem.objects.filter(patient=patient).select_related("site")),
        vaccinations=list(VaccinationItem.objects.filter(patient=patient).select_related("site")),
    )


def plan_defaults_for(patient: Patient) -> PlanDefaults:
    """What the proposed plan holds for an already-authorised patient: their treating center's
    own defaults, else the consensus ones (also while no center treats them). Two queries at most."""
    center = treating_center_of(patient.pk)
    own = ProphylaxisDefaults.objects.filter(site=center).first() if center is not None else None
    if own is None or center is None:
        return DEFAULT_PLAN
    own.site = center
    return own.plan()


@dataclass(frozen=True)
class ProposedPlan:
    """The standard prevention plan proposed for a patient (nothing kept): empty before day 0."""

    day_zero: dt.date | None
    lymphodepletion_on: dt.date | None
    prophylaxis: list[ProposedItem]
    vaccinations: list[ProposedVaccination]
    set_by: str = ""  # the treating center whose own defaults these are; "" for the consensus


def proposed_plan(patient: Patient) -> ProposedPlan:
    """The plan counted from the patient's day 0 by their treating center's defaults."""
    dates = course_dates(patient)
    if dates.day_zero is None:
        return ProposedPlan(None, None, [], [])
    defaults = plan_defaults_for(patient)
    return ProposedPlan(
        dates.day_zero,
        dates.lymphodepletion_on,
        standard_prophylaxis(dates.day_zero, dates.lymphodepletion_on, defaults),
        standard_vaccinations(dates.day_zero, defaults),
        defaults.set_by,
    )
