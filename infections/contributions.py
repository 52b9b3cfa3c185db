"""What infections contribute to the combined pages: the prophylaxis stops and vaccines due or
overdue, on the work queue and in the weekly digest. Registered in `InfectionsConfig.ready`.

Both read a fixed number of queries whatever the number of rows: the work queue two (the
prophylaxis items, the vaccinations), the digest one (the two as one list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet, Value

from carecoord.digest_sections import DigestScope, DigestSection, SectionRead, register_digest_section
from carecoord.models import Patient
from carecoord.models.deaths import alive
from carecoord.roles import Capability
from carecoord.work_queue import QueueList, QueueScope, Slot, read_per_shape, register_queue_list
from infections.models import ProphylaxisItem, VaccinationItem
from infections.rules import Due, due_state
from infections.selectors import prophylaxis_visible_to, vaccinations_visible_to

KIND_LABELS: dict[str, str] = dict(ProphylaxisItem.Kind.choices)


@dataclass(frozen=True)
class PreventionDue:
    """A row of the work queue: a prophylaxis stop to decide or a vaccine to give."""

    item: ProphylaxisItem | VaccinationItem
    patient: Patient
    on: dt.date
    label: str
    state: Due


def _prophylaxis_label(kind: str, agent: str = "") -> str:
    """The line of a stop to decide; the email digest leaves the agent out (the minimum)."""
    line = f"Decide the stop of {KIND_LABELS.get(kind, kind)} prophylaxis"
    return f"{line} ({agent})" if agent else line


def _vaccine_label(vaccine: str) -> str:
    return f"Vaccine due: {vaccine}"


# --- the work queue ------------------------------------------------------------------------

# What a row shows of the patient (of the item: its kind and agent or vaccine, and its day). Each
# list is joined to the patient the rows show, not to the site that planned the item (not shown).
PATIENT_SHOWN = ("patient__given_name", "patient__family_name")


@read_per_shape(dated=True)
def _stops_due(scope: QueueScope) -> QuerySet[ProphylaxisItem]:
    return (
        prophylaxis_visible_to(scope.user, Capability.RECORD_CARE)
        .due_by(scope.today)
        .select_related(None)
        .select_related("patient")
        .only("kind", "agent", "planned_stop_on", *PATIENT_SHOWN)
        .order_by("planned_stop_on", "pk")[: scope.limit]
    )


@read_per_shape(dated=True)
def _vaccines_due(scope: QueueScope) -> QuerySet[VaccinationItem]:
    return (
        vaccinations_visible_to(scope.user, Capability.RECORD_CARE)
        .due_by(scope.today)
        .select_related(None)
        .select_related("patient")
        .only("vaccine", "due_on", *PATIENT_SHOWN)
        .order_by("due_on", "pk")[: scope.limit]
    )


def queue_prevention_due(scope: QueueScope) -> Sequence[PreventionDue]:
    """Prophylaxis stops and vaccines of the patients the viewer records care for, due in the
    next two weeks or overdue, the earliest first: two queries."""
    rows: list[PreventionDue] = []
    for item in _stops_due(scope):
        on = item.planned_stop_on or scope.today  # due_by reads only dated items
        state = due_state(on, scope.today, done=False) or Due.DUE
        rows.append(PreventionDue(item, item.patient, on, _prophylaxis_label(item.kind, item.agent), state))
    for vaccine in _vaccines_due(scope):
        state = due_state(vaccine.due_on, scope.today, done=False) or Due.DUE
        rows.append(PreventionDue(vaccine, vaccine.patient, vaccine.due_on, _vaccine_label(vaccine.vaccine), state))
    rows.sort(key=lambda row: (row.on, row.patient.family_name, row.label))
    return rows[: scope.limit]


def prevention_patients(scope: QueueScope) -> QuerySet[Any]:
    """Patients with a prophylaxis stop or a vaccine due today or overdue: work for today."""
    stops = (
        prophylaxis_visible_to(scope.user, Capability.RECORD_CARE)
        .active()
        .filter(alive(), planned_stop_on__lte=scope.today)
    )
    vaccines = vaccinations_visible_to(scope.user, Capability.RECORD_CARE).filter(
        alive(), given_on__isnull=True, due_on__lte=scope.today
    )
    return Patient.objects.filter(
        Q(pk__in=stops.order_by().values("patient_id")) | Q(pk__in=vaccines.order_by().values("patient_id"))
    ).values("pk")


def _item_of(row: PreventionDue) -> Model:
    return row.item


# --- the weekly digest ---------------------------------------------------------------------


def digest_prevention_due(scope: DigestScope) -> SectionRead:
    """Prophylaxis stops and vaccines due in the coming two weeks or overdue: one query, the
    stops and the vaccines as one list in the order of their dates (on one day, the stops
    first, each in the order recorded)."""
    read = SectionRead()
    stops = (
        ProphylaxisItem.objects.filter(scope.of_patients())
        .due_by(scope.today)
        .annotate(vaccination=Value(False))
        .values_list("patient_id", "kind", "planned_stop_on", "vaccination", "pk")
    )
    vaccines = (
        VaccinationItem.objects.filter(scope.of_patients())
        .due_by(scope.today)
        .annotate(vaccination=Value(True))
        .values_list("patient_id", "vaccine", "due_on", "vaccination", "pk")
    )
    for patient_id, what, on, vaccination, _pk in stops.union(vaccines, all=True).order_by(
        "planned_stop_on", "vaccination", "pk"
    ):
        label = _vaccine_label(what) if vaccination else _prophylaxis_label(what)
        on = on or scope.today  # a stop always has its day here (`due_by`): for the type
        if on < scope.today:
            read.overdue.append((patient_id, f"{label}, was due {scope.day_text(on)}"))
        else:
            read.due.append((patient_id, f"{scope.day_text(on)}: {label}"))
    return read


def register_infections_contributions() -> None:
    register_digest_section(DigestSection(name="prophylaxis and vaccines due", order=36, read=digest_prevention_due))
    register_queue_list(
        QueueList(
            name="prevention_due",
            slot=Slot.LISTS,
            order=36,
            read_order=46,
            template="infections/_queue_prevention_due.html",
            items=queue_prevention_due,
            object_of=_item_of,
            patients=prevention_patients,
        )
    )
