"""Output serializers that read each field straight off the object.

DRF reads every field of every object through `Field.get_attribute`, which checks each value on
the way for a mapping and for a callable (inspecting the signature of any it meets), and renders
each datetime after looking the current time zone up again. For a page of 50 objects with a few
nested briefs that is most of an API list's time. `DirectOutput` works out once per answer how
each field is read: a path of attributes, ending on a model field or property, is read with
`getattr`; datetimes are rendered in the zone looked up once. A model serializer's fields are
built from the model once per class (`get_fields`), then copied for each answer: DRF builds them
again for every serializer made (a list of referrals made five, 4-5 ms of building, most of it
comparing each model field's translated label). Whatever else (a value that turns
out callable, a missing object on the path, a dict instead of an object) goes through DRF as
before, so the output is DRF's: `carecoord/tests/test_api_output.py` compares the two.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.settings import api_settings

_MISSING = object()
# Each model serializer class's fields as built from its Meta, never bound: copies are bound.
_BUILT_FIELDS: dict[type, dict[str, serializers.Field[Any, Any, Any, Any]]] = {}


class _Read(NamedTuple):
    """How one field is read: `attrs` off the object (none: the object itself), then `render`;
    `direct` False sends the field through DRF."""

    name: str
    field: serializers.Field[Any, Any, Any, Any]
    attrs: tuple[str, ...]
    direct: bool
    render: Callable[[Any], Any]


def _datetime_renderer(field: serializers.DateTimeField) -> Callable[[Any], Any] | None:
    """DRF's ISO 8601 rendering of an aware datetime, in the zone DRF would use, looked up once."""
    if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601:
        return None
    if hasattr(field, "timezone"):
        return None
    zone = field.default_timezone()
    if zone is None:
        return None
    fallback = field.to_representation

    def render(value: Any) -> Any:
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            return fallback(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return fallback(value)  # DRF's error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def _plan_field(field: serializers.Field[Any, Any, Any, Any]) -> _Read:
    name = str(field.field_name)
    attrs = tuple(field.source_attrs)
    render: Callable[[Any], Any] = field.to_representation
    if isinstance(field, PrimaryKeyRelatedField) and field.pk_field is None and len(attrs) == 1:
        # DRF reads the foreign key's column (PKOnlyObject) without loading the object.
        return _Read(name, field, (f"{attrs[0]}_id",), True, lambda value: value)
    if isinstance(field, serializers.RelatedField | serializers.ListSerializer | serializers.ManyRelatedField):
        return _Read(name, field, attrs, False, render)
    if isinstance(field, serializers.DateTimeField):
        render = _datetime_renderer(field) or render
    return _Read(name, field, attrs, True, render)


class DirectOutput(serializers.Serializer[Any]):
    """Renders objects as DRF does, reading each field straight off them (see the module)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """A model serializer's fields as DRF builds them from its `Meta`, built once for the
        class and copied (as DRF copies declared fields) for each serializer made."""
        if not isinstance(self, serializers.ModelSerializer):
            return super().get_fields()
        built = _BUILT_FIELDS.get(type(self))
        if built is None:
            built = _BUILT_FIELDS[type(self)] = super().get_fields()
        return copy.deepcopy(built)

    def _reads(self) -> list[_Read]:
        reads: list[_Read] | None = self.__dict__.get("_direct_reads")
        if reads is None:
            reads = [_plan_field(field) for field in self._readable_fields]
            self.__dict__["_direct_reads"] = reads
        return reads

    def to_representation(self, instance: Any) -> Any:
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        ret: dict[str, Any] = {}
        for read in self._reads():
            value = _read_directly(instance, read.attrs) if read.direct else _MISSING
            if value is _MISSING:
                try:
                    value = read.field.get_attribute(instance)
                except SkipField:
                    continue
                if isinstance(value, PKOnlyObject) and value.pk is None:
                    value = None
                ret[read.name] = None if value is None else read.field.to_representation(value)
            else:
                ret[read.name] = None if value is None else read.render(value)
        return ret


def _read_directly(instance: Any, attrs: tuple[str, ...]) -> Any:
    """The value at the end of `attrs`, or `_MISSING` where DRF must decide (a callable, a
    missing object or attribute on the way)."""
    value = instance
    try:
        for attr in attrs:
            value = getattr(value, attr)
            if callable(value):
                return _MISSING
    except (AttributeError, ObjectDoesNotExist):
        return _MISSING
    return value
