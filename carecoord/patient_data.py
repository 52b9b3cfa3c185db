"""Which models hold patient data, and how to reach the patient from each of them.

Each app registers its own models in its `AppConfig.ready`. The audit app records every
create, update and delete of a registered model (`audit.signals` for saves and deletes,
`audit.services.audited_update` and friends for the queryset writes that send no signal),
and `carecoord.reads` declares the reads of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class Tracked:
    """How one model is audited.

    `patient` is the lookup from the model to its patient ("pk" for the patient itself,
    "patient", "referral__patient"): it serves both in a queryset and on an instance.
    `ignore` names fields whose changes are bookkeeping, not patient data.
    """

    model: type[models.Model]
    patient: str
    label: str
    ignore: frozenset[str] = frozenset()

    def fields(self, names: Iterable[str] | None = None) -> list[models.Field[object, object]]:
        """The concrete fields recorded (of `names` only, when given: a save's update_fields)."""
        opts = self.model._meta
        chosen = [opts.get_field(name) for name in names] if names is not None else list(opts.concrete_fields)
        return [
            f
            for f in chosen
            if isinstance(f, models.Field) and f.concrete and not f.primary_key and f.name not in self.ignore
        ]

    def patient_id_of(self, instance: models.Model) -> uuid.UUID | None:
        """The patient's id, following cached relations (one query at most when not cached)."""
        *hops, last = self.patient.split("__")
        target: models.Model | None = instance
        for hop in hops:
            target = getattr(target, hop)
            if target is None:
                return None
        if target is None:
            return None
        value = target.pk if last == "pk" else getattr(target, f"{last}_id")
        return value if isinstance(value, uuid.UUID) or value is None else uuid.UUID(str(value))


_registry: dict[type[models.Model], Tracked] = {}


def tracked(model: type[models.Model]) -> Tracked | None:
    return _registry.get(model)


def tracked_models() -> list[Tracked]:
    return list(_registry.values())


def register(label: str, *, patient: str, name: str, ignore: Iterable[str] = ()) -> Tracked:
    model = apps.get_model(label)
    entry = Tracked(model=model, patient=patient, label=name, ignore=frozenset(ignore))
    _registry[model] = entry
    return entry


def tracked_or_error(model: type[models.Model]) -> Tracked:
    spec = tracked(model)
    if spec is None:
        raise LookupError(f"{model._meta.label} is not registered as patient data (carecoord.patient_data).")
    return spec


def register_core_patient_data() -> None:
    """The core's models holding patient data (see docs/SECURITY.md for why each one); each
    domain app registers its own in its `AppConfig.ready`."""
    # `updated_at` changes with every save; its news is the save itself.
    # The phase is derived from referrals and milestones (referrals.phase), whose changes are recorded.
    register("carecoord.Patient", patient="pk", name="patient", ignore={"updated_at", "phase"})
    register("carecoord.PatientIdentifier", patient="patient", name="patient identifier")
    register("carecoord.CareTeamLink", patient="patient", name="care-team link")
    register("carecoord.PointPerson", patient="link__patient", name="point person")
    register("carecoord.TimelineEntry", patient="patient", name="timeline entry")
    register("carecoord.PatientDeath", patient="patient", name="death", ignore={"updated_at"})
