"""Saves and deletes of patient data, recorded through model signals.

The old values are read in pre_save (one query per update, on write paths only) and
compared in post_save. Queryset updates and bulk writes send no signal: the services that
make them go through `audit.services.audited_update` and friends instead.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from audit.services import record_deleted, record_saved
from carecoord.patient_data import Tracked, tracked

_BEFORE = "_audit_before"
_PATIENT = "_audit_patient_id"


def _fields(spec: Tracked, update_fields: Any) -> list[Any]:
    return spec.fields(update_fields) if update_fields else spec.fields()


def before_save(sender: type[models.Model], instance: models.Model, update_fields: Any = None, **kwargs: Any) -> None:
    spec = tracked(sender)
    if spec is None:
        return
    before = None
    if not instance._state.adding:
        attnames = [f.attname for f in _fields(spec, update_fields)]
        before = sender._base_manager.filter(pk=instance.pk).values(*attnames).first()
    instance.__dict__[_BEFORE] = before


def after_save(sender: type[models.Model], instance: models.Model, update_fields: Any = None, **kwargs: Any) -> None:
    spec = tracked(sender)
    if spec is None:
        return
    before = instance.__dict__.pop(_BEFORE, None)
    record_saved(spec, instance, before, _fields(spec, update_fields if before is not None else None))


def before_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    # While every row of a cascade still exists, so that the path to the patient resolves.
    spec = tracked(sender)
    if spec is not None:
        instance.__dict__[_PATIENT] = spec.patient_id_of(instance)


def after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    spec = tracked(sender)
    if spec is not None:
        record_deleted(spec, instance, instance.__dict__.pop(_PATIENT, None))


def connect() -> None:
    """Receive the signals of every model and record those registered as patient data, so an
    app registering its models in its own `ready` needs no order among the apps."""
    pre_save.connect(before_save, dispatch_uid="audit:pre_save")
    post_save.connect(after_save, dispatch_uid="audit:post_save")
    pre_delete.connect(before_delete, dispatch_uid="audit:pre_delete")
    post_delete.connect(after_delete, dispatch_uid="audit:post_delete")
