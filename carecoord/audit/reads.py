"""Reads of patient data: declared while a request is served, written once it is answered.

A view says which patients its answer shows with `shown` (objects of the models registered in
`carecoord.audit.registry`) or `shown_patient` (a patient id and the object it was read
through), after the objects came through the access path; an API serializer of patient data
declares each object it serializes (`ShownWhenSerialized`). `AuditContextMiddleware` writes
the declared reads when a GET or HEAD has been answered 2xx: one entry per patient, all in
one INSERT, so a list page costs the same two queries (the acting sites and the INSERT)
whatever its number of rows. A refused request (403, 404), an error or a redirect writes
none, nor does a write: its own entries record the change.

The first declaration for a patient names what was read; later ones in the same request add
nothing, so a page that shows a patient in several places records one read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.http import HttpResponseBase
from rest_framework import serializers

from carecoord.audit.context import Read, RequestContext, acting_site_ids, actor_of_request, current
from carecoord.audit.models import AuditEntry
from carecoord.audit.services import tracked_or_error

READ_METHODS = frozenset({"GET", "HEAD"})


def shown_patient(patient_id: uuid.UUID, obj: models.Model, *, what: str, action: str = AuditEntry.Action.VIEW) -> None:
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
    action: str = AuditEntry.Action.VIEW,
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


def write_reads(context: RequestContext, response: HttpResponseBase) -> list[AuditEntry]:
    """The reads declared while `response` was prepared, written if it answered a read with 2xx."""
    reads, context.reads = context.reads, {}
    if not reads or context.request.method not in READ_METHODS or not 200 <= response.status_code < 300:
        return []
    return record_reads(context, reads)


def record_reads(context: RequestContext, reads: dict[uuid.UUID, Read]) -> list[AuditEntry]:
    """One entry per patient read, in one INSERT (and one query for the acting sites)."""
    actor = actor_of_request(context.request)
    user = actor.user
    sites = acting_site_ids(user, list(reads))
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            action=read.action,
            actor=user,
            actor_email=user.email if user is not None else "",
            site_id=sites.get(patient_id),
            patient_id=patient_id,
            object_type=read.object_type,
            object_id=read.object_id,
            what=read.what,
            ip_address=actor.ip_address,
        )
        for patient_id, read in reads.items()
    )


class ShownWhenSerialized(serializers.Serializer[Any]):
    """A serializer of patient data: every object it serializes for an answer is declared shown.

    Put first among the bases of the outermost serializer of a registered model; nested
    serializers of the same patient's data need not declare again.
    """

    def to_representation(self, instance: Any) -> Any:
        shown(instance, verb="listed" if isinstance(self.parent, serializers.ListSerializer) else "viewed")
        return super().to_representation(instance)
