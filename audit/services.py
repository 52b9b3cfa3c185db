"""Writing audit entries: changes to patient data, and exports of the log.

Entries are written in the transaction of the change they record, so a change rolled back
leaves no entry and a committed one always has its entry. Reads are declared while a request
is served and written once it is answered (`audit.reads`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest

from audit.models import AuditEntry
from carecoord.patient_data import Tracked, tracked_or_error
from carecoord.request_context import Actor, acting_site_id, actor_of_request, current_actor

Changes = dict[str, list[Any]]

_VERBS = {
    AuditEntry.Action.CREATE: "created",
    AuditEntry.Action.UPDATE: "updated",
    AuditEntry.Action.DELETE: "deleted",
}


def json_safe(value: Any) -> Any:
    """`value` as JSON can hold it: dates as ISO 8601, ids and decimals as text, files by name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, models.Model):
        return json_safe(value.pk)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def _comparable(field: models.Field[Any, Any], value: Any) -> Any:
    # A service may assign "2026-01-02" where the database gives back a date.
    if field.is_relation or isinstance(value, FieldFile):
        return value
    try:
        return field.to_python(value)
    except ValidationError:
        return value


def diff(fields: Sequence[models.Field[Any, Any]], old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """{field name: [old, new]} of the fields whose value differs, JSON-safe."""
    changes: Changes = {}
    for field in fields:
        before, after = old.get(field.attname), new.get(field.attname)
        if _comparable(field, before) != _comparable(field, after):
            changes[field.name] = [json_safe(before), json_safe(after)]
    return changes


def _present(fields: Sequence[models.Field[Any, Any]], values: Mapping[str, Any], *, created: bool) -> Changes:
    """Changes from nothing (created) or to nothing (deleted), leaving out empty fields."""
    changes: Changes = {}
    for field in fields:
        value = json_safe(values.get(field.attname))
        if value in (None, "", {}, []):
            continue
        changes[field.name] = [None, value] if created else [value, None]
    return changes


def _entry(
    *,
    actor: Actor,
    action: str,
    what: str,
    patient_id: uuid.UUID | None,
    object_type: str,
    object_id: object = "",
    changes: Changes | None = None,
) -> AuditEntry:
    user = actor.user
    return AuditEntry(
        action=action,
        actor=user,
        actor_email=user.email if user is not None else "",
        site_id=acting_site_id(user, patient_id),
        patient_id=patient_id,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        what=what[:200],
        changes=changes or {},
        ip_address=actor.ip_address,
    )


def _change_entry(
    spec: Tracked, action: str, object_id: object, patient_id: uuid.UUID | None, changes: Changes, actor: Actor
) -> AuditEntry:
    return _entry(
        actor=actor,
        action=action,
        what=f"{_VERBS[AuditEntry.Action(action)]} {spec.label}{actor.label}",
        patient_id=patient_id,
        object_type=spec.model._meta.label_lower,
        object_id=object_id,
        changes=changes,
    )


@dataclasses.dataclass
class _Together:
    """Entries held back by `audited_atomic`, and the savepoint depth of its own block."""

    depth: int
    entries: list[AuditEntry] = dataclasses.field(default_factory=list)


_together: ContextVar[_Together | None] = ContextVar("audit_together", default=None)


@contextmanager
def audited_atomic() -> Iterator[None]:
    """`transaction.atomic()` whose audit entries are written together, in one INSERT as the
    block ends, rather than one INSERT per save: for a service making several writes at once.

    The entries stay in the block's transaction: an error leaving the block rolls back its rows
    and writes none. A save inside a savepoint opened in the block (a nested `atomic`, which
    may be rolled back while the block goes on) writes its entry at once, inside that savepoint.
    """
    with transaction.atomic():
        together = _Together(depth=len(transaction.get_connection().savepoint_ids))
        token = _together.set(together)
        try:
            yield
        finally:
            _together.reset(token)
        AuditEntry.objects.bulk_create(together.entries)


def _write(entries: Sequence[AuditEntry]) -> None:
    """Insert `entries`, or hold them for the `audited_atomic` block they belong to."""
    together = _together.get()
    if together is not None and len(transaction.get_connection().savepoint_ids) == together.depth:
        together.entries.extend(entries)
    elif entries:
        AuditEntry.objects.bulk_create(entries)


def values_of(instance: models.Model, fields: Iterable[models.Field[Any, Any]]) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in fields}


def record_saved(
    spec: Tracked, instance: models.Model, before: Mapping[str, Any] | None, fields: Sequence[Any]
) -> None:
    """Record a save: all it holds when it was created (`before` None), else what changed."""
    now = values_of(instance, fields)
    if before is None:
        action, changes = AuditEntry.Action.CREATE, _present(fields, now, created=True)
    else:
        action, changes = AuditEntry.Action.UPDATE, diff(fields, before, now)
        if not changes:
            return
    _write([_change_entry(spec, action, instance.pk, spec.patient_id_of(instance), changes, current_actor())])


def record_deleted(spec: Tracked, instance: models.Model, patient_id: uuid.UUID | None) -> None:
    fields = spec.fields()
    changes = _present(fields, values_of(instance, fields), created=False)
    _write([_change_entry(spec, AuditEntry.Action.DELETE, instance.pk, patient_id, changes, current_actor())])


def audited_update[M: models.Model](queryset: QuerySet[M], **values: Any) -> int:
    """`queryset.update(**values)`, recording each row changed (updates send no signal).

    The rows are locked while their old values are read, so a conditional update used as a
    claim ("only if still a draft") keeps its meaning: a concurrent claim waits, then finds
    the row no longer matching. Returns the number of rows updated, as `update()` does.
    """
    spec = tracked_or_error(queryset.model)
    fields = spec.fields(values)
    attnames = [f.attname for f in fields]
    with transaction.atomic():
        rows = list(
            queryset.select_for_update(of=("self",))
            .order_by("pk")
            .values("pk", *attnames, _audit_patient=F(spec.patient))
        )
        if not rows:
            return 0
        pks = [row["pk"] for row in rows]
        count = queryset.model._base_manager.filter(pk__in=pks).update(**values)
        if any(hasattr(v, "resolve_expression") for v in values.values()):
            after = {r["pk"]: r for r in queryset.model._base_manager.filter(pk__in=pks).values("pk", *attnames)}
        else:
            fixed = {f.attname: values[f.name] if f.name in values else values[f.attname] for f in fields}
            fixed = {k: v.pk if isinstance(v, models.Model) else v for k, v in fixed.items()}
            after = {pk: fixed for pk in pks}
        actor = current_actor()
        entries = []
        for row in rows:
            changes = diff(fields, row, after[row["pk"]])
            if changes:
                entries.append(
                    _change_entry(spec, AuditEntry.Action.UPDATE, row["pk"], row["_audit_patient"], changes, actor)
                )
        _write(entries)
    return count


def audited_bulk_create[M: models.Model](model: type[M], objs: Sequence[M]) -> list[M]:
    """`model.objects.bulk_create(objs)`, recording each row created."""
    spec = tracked_or_error(model)
    created = model._default_manager.bulk_create(objs)
    fields = spec.fields()
    actor = current_actor()
    _write(
        [
            _change_entry(
                spec,
                AuditEntry.Action.CREATE,
                obj.pk,
                spec.patient_id_of(obj),
                _present(fields, values_of(obj, fields), created=True),
                actor,
            )
            for obj in created
        ]
    )
    return created


def audited_bulk_update[M: models.Model](model: type[M], objs: Sequence[M], names: Sequence[str]) -> int:
    """`model.objects.bulk_update(objs, names)`, recording what changed in each row."""
    spec = tracked_or_error(model)
    if not objs:
        return 0
    fields = spec.fields(names)
    attnames = [f.attname for f in fields]
    before = {r["pk"]: r for r in model._base_manager.filter(pk__in=[o.pk for o in objs]).values("pk", *attnames)}
    count = model._default_manager.bulk_update(objs, names)
    actor = current_actor()
    entries = []
    for obj in objs:
        changes = diff(fields, before.get(obj.pk, {}), values_of(obj, fields))
        if changes:
            entries.append(
                _change_entry(spec, AuditEntry.Action.UPDATE, obj.pk, spec.patient_id_of(obj), changes, actor)
            )
    _write(entries)
    return count


def record_export(
    request: HttpRequest, *, patient_id: uuid.UUID | None, what: str, object_type: str = ""
) -> AuditEntry:
    """An export is itself an entry: of audit entries (the default), or of a list's rows
    (`object_type` the model of its rows, `audit.exports`)."""
    entry = _entry(
        actor=actor_of_request(request),
        action=AuditEntry.Action.EXPORT,
        what=what,
        patient_id=patient_id,
        object_type=object_type or AuditEntry._meta.label_lower,
    )
    entry.save()
    return entry
