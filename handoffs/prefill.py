"""What carecoord already knows, put into a new hand-off so nobody types it twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Max
from django.utils import timezone

from carecoord.models import Patient, PointPerson
from carecoord.selectors.patients import treating_center_of
from handoffs.schema import NONE_RECORDED, accepts, fields_of
from infections.models import ProphylaxisItem, VaccinationItem
from labs.summary import counts_trend, icaht_grade_now, latest_igg
from referrals.day_zero import day_zero_of
from referrals.models import Milestone
from referrals.schedule import MilestoneKind
from referrals.selectors import course_milestone_on, treated_product
from toxicity.models import ToxicityEvent, ToxicityKind, ToxicityTreatment


def _product(patient: Patient) -> str | None:
    product = treated_product(patient.pk)
    return f"{product.brand_name} ({product.generic_name})" if product is not None else None


def _late_effect_watch_items(patient: Patient) -> str | None:
    """The late effects to watch for after the patient's product, one per line (its label's)."""
    product = treated_product(patient.pk)
    if product is None:
        return None
    lines = [f"{item.line}{' [boxed warning]' if item.boxed_warning else ''}" for item in product.watch_items.all()]
    return "\n".join(lines) or None


def _infusion(patient: Patient) -> str | None:
    day0 = day_zero_of(patient)
    return day0.isoformat() if day0 else None


def _highest(kind: str) -> Callable[[Patient], int | str]:
    """The highest grade of the kind recorded, or "none recorded": never a 0 that nobody graded."""

    def read(patient: Patient) -> int | str:
        value = ToxicityEvent.objects.filter(patient=patient, kind=kind).aggregate(Max("highest_grade"))
        highest = value["highest_grade__max"]
        return NONE_RECORDED if highest is None else int(highest)

    return read


def _toxicity_treatments(patient: Patient) -> str | None:
    treatments = ToxicityTreatment.objects.filter(
        event__patient=patient, event__kind__in=[ToxicityKind.CRS, ToxicityKind.ICANS]
    ).select_related("event")
    lines = [
        f"{t.given_at:%d %b %Y}: {t.get_kind_display()}{f' ({t.detail})' if t.detail else ''} "
        f"for {t.event.kind.upper()}"
        for t in treatments
    ]
    return "\n".join(lines) or None


def _milestone(kind: str) -> Callable[[Patient], str | None]:
    """The date of a milestone of the course that day 0 belongs to (done: when it was done)."""

    def read(patient: Patient) -> str | None:
        on = course_milestone_on(patient.pk, kind)
        return on.isoformat() if on else None

    return read


def _next_visit(patient: Patient) -> str | None:
    visit = (
        Milestone.objects.filter(
            referral__patient=patient,
            kind__startswith="visit_",
            status=Milestone.Status.PLANNED,
            planned_on__gte=timezone.localdate(),
        )
        .order_by("planned_on")
        .first()
    )
    return visit.planned_on.isoformat() if visit and visit.planned_on else None


def _center_phone(patient: Patient) -> str | None:
    center = treating_center_of(patient.pk)
    return f"{center.name}: {center.phone_24_7}" if center else None


def _point_persons(patient: Patient) -> str | None:
    persons = (
        PointPerson.objects.open()
        .filter(link__patient=patient)
        .select_related("link__site", "user")
        .order_by("link__site__name", "-rank")
    )
    lines = [
        f"{p.link.site.name}, {p.get_rank_display().lower()}: {p.user.full_name}"
        f"{f' ({p.user.phone})' if p.user.phone else ''}"
        for p in persons
    ]
    return "\n".join(lines) or None


def _prophylaxis_plan(patient: Patient) -> str | None:
    """Each prophylaxis not stopped, one line: kind, agent, start, planned stop and its condition."""
    items = ProphylaxisItem.objects.filter(patient=patient).active().exclude(kind=ProphylaxisItem.Kind.IVIG)
    return "\n".join(item.plan_line for item in items) or None


def _ivig(patient: Patient) -> str | None:
    """IVIG given or planned (stopped ones too: the receiving site needs to know it was given)."""
    items = ProphylaxisItem.objects.filter(patient=patient, kind=ProphylaxisItem.Kind.IVIG)
    return "\n".join(item.plan_line for item in items) or None


def _vaccinations_due(patient: Patient) -> str | None:
    """The vaccines of the revaccination plan not given yet, by due date."""
    vaccines = VaccinationItem.objects.filter(patient=patient, given_on__isnull=True).order_by("due_on", "pk")
    lines = [f"{v.vaccine}{' (live)' if v.live else ''}: due {v.due_on:%d %b %Y}" for v in vaccines]
    return "\n".join(lines) or None


def _icaht(patient: Patient) -> int | str:
    """The ICAHT grade from the ANC recorded (the higher of early and late), or "none recorded"."""
    grade = icaht_grade_now(patient)
    return NONE_RECORDED if grade is None else grade


SOURCES: dict[str, Callable[[Patient], Any]] = {
    "product": _product,
    "infusion_date": _infusion,
    "highest_crs_grade": _highest(ToxicityKind.CRS),
    "highest_icans_grade": _highest(ToxicityKind.ICANS),
    "toxicity_treatments": _toxicity_treatments,
    "driving_end": _milestone(MilestoneKind.NO_DRIVING_END),
    "proximity_end": _milestone(MilestoneKind.STAY_NEAR_CENTER_END),
    "next_visit": _next_visit,
    "center_24_7": _center_phone,
    "point_persons": _point_persons,
    "prophylaxis_plan": _prophylaxis_plan,
    "ivig": _ivig,
    "vaccinations_due": _vaccinations_due,
    "counts_trend": counts_trend,
    "icaht_grade": _icaht,
    "igg": latest_igg,
    "late_effect_watch_items": _late_effect_watch_items,
}


def prefill_values(patient: Patient, schema: dict[str, Any]) -> dict[str, Any]:
    """Values for every field of `schema` whose `prefill` names something carecoord knows.

    A value the field would refuse is left out (a "none recorded" grade in an older template's
    number field stays empty rather than becoming 0).
    """
    values: dict[str, Any] = {}
    for field in fields_of(schema):
        source = SOURCES.get(field.prefill)
        if source is None:
            continue
        value = source(patient)
        if value is not None and accepts(field, value):
            values[field.path] = value
    return values
