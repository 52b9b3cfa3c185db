"""Saves and deletes of patient data, recorded through model signals.

The old values are read in pre_save (one query per update, on write paths only) and
compared in post_save. Queryset updates and bulk writes send no signal: the services that
make them go through `carecoord.audit.services.audited_update` and friends instead.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from carecoord.audit.registry import Tracked, tracked_models
from carecoord.audit.services import record_deleted, record_saved, tracked_or_error

_BEFORE = "_audit_before"
_PATIENT = "_audit_patient_id"


def _fields(spec: Tracked, update_fields: Any) -> list[Any]:
    return spec.fields(update_fields) if update_fields else spec.fields()


def before_save(sender: type[models.Model], instance: models.Model, update_fields: Any = None, **kwargs: Any) -> None:
    spec = tracked_or_error(sender)
    before = None
    if not instance._state.adding:
        attnames = [f.attname for f in _fields(spec, update_fields)]
        before = sender._base_manager.filter(pk=instance.pk).values(*attnames).first()
    instance.__dict__[_BEFORE] = before


def after_save(sender: type[models.Model], instance: models.Model, update_fields: Any = None, **kwargs: Any) -> None:
    spec = tracked_or_error(sender)
    before = instance.__dict__.pop(_BEFORE, None)
    record_saved(spec, instance, before, _fields(spec, update_fields if before is not None else None))


def before_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    # While every row of a cascade still exists, so that the path to the patient resolves.
    instance.__dict__[_PATIENT] = tracked_or_error(sender).patient_id_of(instance)


def after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    record_deleted(tracked_or_error(sender), instance, instance.__dict__.pop(_PATIENT, None))


def connect() -> None:
    for spec in tracked_models():
        uid = f"audit:{spec.model._meta.label_lower}"
        pre_save.connect(before_save, sender=spec.model, dispatch_uid=uid)
        post_save.connect(after_save, sender=spec.model, dispatch_uid=uid)
        pre_delete.connect(before_delete, sender=spec.model, dispatch_uid=uid)
        post_delete.connect(after_delete, sender=spec.model, dispatch_uid=uid)
