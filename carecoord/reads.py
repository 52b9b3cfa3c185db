"""Reads of patient data, declared while a request is served.

A view says which patients its answer shows with `shown` (objects of the models registered in
`carecoord.patient_data`) or `shown_patient` (a patient id and the object it was read
through), after the objects came through the access path; an API serializer of patient data
declares each object it serializes (`ShownWhenSerialized`). The audit app writes the declared
reads once the request has been answered (`audit.reads`).

The first declaration for a patient names what was read; later ones in the same request add
nothing, so a page that shows a patient in several places records one read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from rest_framework import serializers

from carecoord.patient_data import tracked_or_error
from carecoord.request_context import Read, current

VIEW = "view"


def shown_patient(patient_id: uuid.UUID, obj: models.Model, *, what: str, action: str = VIEW) -> None:
    """Declare that the answer being prepared shows `patient_id`'s data, read through `obj`.

    `what` says what was read, without patient data. Outside a request (a task, a command)
    there is nobody reading, and nothing is declared.
    """
    context = current()
    if context is None or patient_id in context.reads:
        return
    context.reads[patient_id] = Read(
        action=action, what=what[:200], object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


def shown(
    objects: models.Model | Iterable[models.Model],
    *,
    what: str = "",
    verb: str = "viewed",
    action: str = VIEW,
) -> None:
    """Declare that the answer shows `objects` (a model instance or several, of registered models).

    Each object's patient is found as the registry says; what was read is `what`, else the
    `verb` and the registry's label ("viewed referral"). Relations on the way to the patient
    must be loaded already, or each costs a query.
    """
    for obj in [objects] if isinstance(objects, models.Model) else objects:
        spec = tracked_or_error(type(obj))
        patient_id = spec.patient_id_of(obj)
        if patient_id is not None:
            shown_patient(patient_id, obj, what=what or f"{verb} {spec.label}", action=action)


class ShownWhenSerialized(serializers.Serializer[Any]):
    """A serializer of patient data: every object it serializes for an answer is declared shown.

    Put first among the bases of the outermost serializer of a registered model; nested
    serializers of the same patient's data need not declare again.
    """

    def to_representation(self, instance: Any) -> Any:
        shown(instance, verb="listed" if isinstance(self.parent, serializers.ListSerializer) else "viewed")
        return super().to_representation(instance)
