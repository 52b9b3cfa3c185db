"""Reads of the treatment history, always scoped through the patient's access path."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import F, QuerySet
from django.utils import timezone

from candidates.first_met import DatedHistory
from candidates.matching import Assessment, History, Line, RefractoryTo, Rule, Transplant, assess
from candidates.models import IndicationRule, TherapyLine, TransplantCandidacy
from carecoord.access import get_visible_or_404, visible_patient_ids
from carecoord.access.scope import AnyUser
from carecoord.local_date import LocalDate
from carecoord.lookups import AnyOf
from carecoord.models import Patient, PatientDeath


def therapy_lines_visible_to(user: AnyUser) -> QuerySet[TherapyLine]:
    """The lines of the user's patients, by patient and line number."""
    return (
        TherapyLine.objects.filter(patient_id__in=visible_patient_ids(user))
        .select_related("site", "recorded_by")
        .order_by("patient_id", "number")
    )


def get_therapy_line_for_user(user: AnyUser, line_id: int | str) -> TherapyLine:
    """One line, with its patient; 404 outside the user's scope."""
    return get_visible_or_404(therapy_lines_visible_to(user).select_related("patient"), line_id, "therapy line")


def therapy_lines_of(patient_id: uuid.UUID) -> list[TherapyLine]:
    """The lines of a patient already loaded through the access path, first line first."""
    return list(TherapyLine.objects.filter(patient_id=patient_id).select_related("site", "recorded_by"))


def transplant_candidacy_of(patient_id: uuid.UUID) -> TransplantCandidacy | None:
    """The patient's transplant candidacy, if recorded (a patient already loaded through the access path)."""
    return TransplantCandidacy.objects.filter(patient_id=patient_id).select_related("site", "recorded_by").first()


def active_rules() -> list[Rule]:
    """Every active labelled use, as the matching reads it: one query."""
    rules = IndicationRule.objects.filter(is_active=True, product__is_active=True).select_related("product")
    return [
        Rule(
            id=rule.pk,
            product=rule.product.brand_name,
            disease_area=rule.disease_area,
            summary=rule.summary,
            min_prior_lines=rule.min_prior_lines,
            required_classes=frozenset(rule.required_classes),
            refractory_to=RefractoryTo(rule.refractory_to),
            relapse_within_months=rule.relapse_within_months,
            min_relapses=rule.min_relapses,
            relapsed_or_refractory=rule.relapsed_or_refractory,
            min_age=rule.min_age,
            max_age=rule.max_age,
            requires_transplant_ineligible=rule.requires_transplant_ineligible,
            label_source=rule.label_source,
            label_date=rule.label_date,
        )
        for rule in rules
    ]


def line_of(line: TherapyLine) -> Line:
    """A recorded line as the matching reads it."""
    return Line(
        number=line.number,
        classes=frozenset(line.drug_classes),
        started_on=line.started_on,
        ended_on=line.ended_on,
        lenalidomide=line.lenalidomide,
        refractory=line.refractory,
        progressed_on=line.progressed_on,
        regimen=line.regimen,
    )


def dated_histories_of(patients: Iterable[Patient]) -> dict[uuid.UUID, DatedHistory]:
    """The treatment history of patients already loaded through the access path (with their
    disease area and date of birth), with the days its undated facts became known
    (`candidates.first_met`): a refractory line from its relapse, else its end, else the day it
    was recorded; the transplant candidacy from the day it was recorded, at the recording site.
    Two queries whatever their number; patients with no line are left out."""
    by_id = {patient.pk: patient for patient in patients}
    lines: dict[uuid.UUID, list[Line]] = defaultdict(list)
    refractory_on: dict[uuid.UUID, dict[int, dt.date]] = defaultdict(dict)
    recorded = (
        TherapyLine.objects.filter(AnyOf(F("patient_id"), list(by_id)))
        .annotate(recorded_on=LocalDate(F("created_at"), F("site__time_zone")))
        .order_by("patient_id", "number")
    )
    for line in recorded:
        lines[line.patient_id].append(line_of(line))
        refractory_on[line.patient_id][line.number] = line.progressed_on or line.ended_on or line.recorded_on
    candidacies = {
        patient_id: (Transplant(status), recorded_on)
        for patient_id, status, recorded_on in TransplantCandidacy.objects.filter(AnyOf(F("patient_id"), list(lines)))
        .annotate(recorded_on=LocalDate(F("updated_at"), F("site__time_zone")))
        .values_list("patient_id", "status", "recorded_on")
    }
    dated = {}
    for patient_id, patient_lines in lines.items():
        patient = by_id[patient_id]
        transplant, transplant_on = candidacies.get(patient_id, (Transplant.UNKNOWN, None))
        history = History(patient.disease_area, patient.date_of_birth, tuple(patient_lines), transplant)
        dated[patient_id] = DatedHistory(history, refractory_on[patient_id], transplant_on)
    return dated


def deceased_among(patient_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the patients whose death is recorded: nobody's candidate (one query)."""
    deaths = PatientDeath.objects.filter(AnyOf(F("patient_id"), list(patient_ids)))
    return set(deaths.values_list("patient_id", flat=True))


def assessments_of(patients: Iterable[Patient], today: dt.date) -> dict[uuid.UUID, Assessment]:
    """Whether each patient is, or is about to be, a candidate on `today`: four queries whatever
    the number of patients (their lines, their transplant candidacy, the active rules, their
    deaths). A patient with no line recorded, or who died, is neither."""
    patients = list(patients)
    rules = active_rules()
    dated = dated_histories_of(patients)
    deceased = deceased_among(dated)
    return {
        patient.pk: assess(dated[patient.pk].history, rules, today)
        if patient.pk in dated and patient.pk not in deceased
        else Assessment()
        for patient in patients
    }


def history_days(patient_ids: Iterable[uuid.UUID], now: dt.datetime | None = None) -> dict[uuid.UUID, dt.date]:
    """Each patient's today at the site that recorded their latest line of therapy (the
    practice, as a rule), in one query: the day a candidacy is assessed for on the patient page,
    in the API, in the referral's prefill and in the cached standing alike. Patients with no
    line are left out (nothing to assess)."""
    zones: dict[uuid.UUID, str] = {}
    lines = TherapyLine.objects.filter(AnyOf(F("patient_id"), list(patient_ids))).order_by("patient_id", "number")
    for patient_id, zone in lines.values_list("patient_id", "site__time_zone"):
        zones[patient_id] = zone  # the last line's site wins
    now = now or timezone.now()
    return {patient_id: timezone.localdate(now, zoneinfo.ZoneInfo(zone)) for patient_id, zone in zones.items()}


def assessment_of(patient: Patient) -> Assessment:
    """The patient's candidacy today, with the reasons (a patient loaded through the access path)."""
    day = history_days([patient.pk]).get(patient.pk, timezone.localdate())
    return assessments_of([patient], day)[patient.pk]
