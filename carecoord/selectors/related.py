"""The objects rows point to, read beside the rows rather than joined into their query.

Each join PostgreSQL is given multiplies the orders it weighs: a page of hand-offs joined to
its two sites and three people (8 tables with the access filter) took 60-110 ms to plan and
5 ms to run on the benchmark network. `load_related` reads what the rows' foreign keys point
to in one query per model (the sites of both ends in one, every person named in another) and
caches each on its row, as `select_related` would have.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import ForeignKey, Model


def load_related(rows: Sequence[Model], *names: str) -> None:
    """Read the objects the foreign keys `names` of `rows` point to, one query per model (none
    for a model no row points to, as `prefetch_related`), and cache them on the rows (a null
    key caches None). All rows are of one model."""
    if not rows:
        return
    fields = [_foreign_key(type(rows[0]), name) for name in names]
    wanted: dict[type[Model], set[object]] = defaultdict(set)
    for field in fields:
        wanted[field.related_model].update(getattr(row, field.attname) for row in rows)
    loaded = {model: model._base_manager.in_bulk([pk for pk in pks if pk is not None]) for model, pks in wanted.items()}
    for field in fields:
        objects = loaded[field.related_model]
        for row in rows:
            pk = getattr(row, field.attname)
            field.set_cached_value(row, None if pk is None else objects[pk])


def _foreign_key(model: type[Model], name: str) -> ForeignKey[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, ForeignKey):
        raise TypeError(f"{model.__name__}.{name} is not a foreign key")
    return field
