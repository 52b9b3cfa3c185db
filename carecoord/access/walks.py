"""Rows the viewer may see, found by checking each row's patient rather than by reading the
grants of every patient the viewer sees.

`visible_patient_ids` filters a list by the grants of every patient the viewer sees. For a
short list taken from a small set of rows (the hand-offs waiting at the viewer's sites) and a
viewer who sees the whole network, PostgreSQL hashed all 10,000 patients' grants to keep eleven
rows of 1,119 (11 ms); `first_visible` sorts the rows first and checks each one's patient in
the grants' index until it has enough (3 ms), whatever the number of patients behind them.
`seen_row_by_row` checks every row of a list that is small by itself (a person's own alerts).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull

from carecoord.access.scope import AnyUser, visible_patient_ids
from carecoord.roles import Capability


def seen_row_by_row(user: AnyUser, *, patient: str = "patient_id", capability: str = Capability.VIEW) -> Q | IsNull:
    """A filter keeping the rows whose patient (the field `patient`) `user` holds `capability`
    on, each row's patient looked up in the grants' index by patient (the grants of
    `visible_patient_ids`, for that patient): a subquery PostgreSQL runs for each row and never
    turns into a join of the grants.

    For a list that is small by itself and found through its own index (a person's own alerts,
    a few hundred to a thousand), whose cost then follows its rows, not the patients the person
    sees. With `visible_patient_ids`, PostgreSQL hashed the grants of all 10,000 patients to keep
    the network coordinator's 1,012 alerts: counting the first 501 took 3.7 ms against 1.1 row by
    row, a page of fifty 1.1 against 1.1, and for someone who sees 50 patients (178 alerts) a
    page 1.8 against 0.6 (server time, the counts 0.1-0.3 ms longer row by row). Not for a list
    of every row of the patients seen (every hand-off): each row would be looked up.
    """
    seen = visible_patient_ids(user, capability)
    if seen.query.is_empty():
        return Q(pk__in=[])  # nobody: no query at all
    return IsNull(Subquery(seen.filter(content_object_id=OuterRef(patient))[:1]), False)


def first_visible(
    rows: QuerySet[Any], user: AnyUser, limit: int, *, patient: str = "patient_id", capability: str = Capability.VIEW
) -> RawSQL | QuerySet[Any]:
    """The primary keys of the first `limit` of `rows` (ordered by fields) whose patient (the
    field `patient`) `user` holds `capability` on, as a subquery for `pk__in=`.

    The rows are sorted in a subquery PostgreSQL may not merge (`OFFSET 0`), then each row's
    patient is looked up in the grants until `limit` are found; the same order is asked again
    of the result, so the rows kept are the first ones whatever plan PostgreSQL takes (a small
    table may be joined the other way round), at no cost when the walk keeps the order. For
    lists whose rows, before the grants, are a few hundred or thousand (those of the viewer's
    sites): every one of them is sorted, and checked only as far as needed. Not for a list that
    an index already walks in its order over many rows (the links naming no primary point
    person, oldest first, over every open link of the sites): sorting them all first took 11 ms
    where the walk took 3.
    """
    if rows.query.is_sliced:
        raise ValueError("first_visible takes the rows whole: it sets the limit itself")
    ordering = _plain_ordering(rows)
    named = [name for name, _descending in ordering if name != "pk"]
    try:
        walked_sql, walked_params = rows.values_list("pk", patient, *named).query.sql_with_params()
        seen_sql, seen_params = visible_patient_ids(user, capability).query.sql_with_params()
    except EmptyResultSet:  # no rows, or a viewer who sees nobody: nothing, without a query
        return rows.model._base_manager.none().values("pk")
    columns = ["id", "patient_id", *(f"o{position}" for position, _name in enumerate(named))]
    order = ", ".join(
        f"walked.{'id' if name == 'pk' else f'o{named.index(name)}'} {'DESC' if descending else 'ASC'}"
        for name, descending in ordering
    )
    # Both parts are querysets compiled by Django, their values passed as parameters.
    return RawSQL(  # noqa: S611
        f"SELECT walked.id FROM ({walked_sql} OFFSET 0) AS walked({', '.join(columns)}) "  # noqa: S608
        f"WHERE walked.patient_id IN ({seen_sql}) ORDER BY {order} LIMIT %s",
        (*walked_params, *seen_params, limit),
    )


def _plain_ordering(rows: QuerySet[Any]) -> list[tuple[str, bool]]:
    """The fields `rows` are ordered by, each with whether it is descending: columns of the rows
    or of a row they point to (one each), never a relation itself, whose order as objects would
    be its model's and not its key's."""
    fields = [field for field in rows.query.order_by if isinstance(field, str)]
    if not fields or len(fields) < len(rows.query.order_by):
        raise ValueError("first_visible walks rows in an order of their fields: give them one (order_by)")
    ordering = [(field.lstrip("-"), field.startswith("-")) for field in fields]
    for name, _descending in ordering:
        if name != "pk" and not _single_column(rows.model, name):
            raise ValueError(f"first_visible orders by columns, not by {name!r}: name the column")
    return ordering


def _single_column(model: type[Model], path: str) -> bool:
    *hops, last = path.split("__")
    for hop in hops:
        field = model._meta.get_field(hop)
        if not (field.many_to_one or field.one_to_one) or field.related_model is None:
            return False
        model = field.related_model
    field = model._meta.get_field(last)
    return field.concrete and not field.is_relation
