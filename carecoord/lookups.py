"""`AnyOf`: a condition "this column is one of these ids" that costs one parameter, not one per id.

`filter(patient__in=ids)` sends `IN (%s, %s, ...)`: each id is prepared by its field, adapted and
quoted on its own (Django binds parameters on the client). For a list of a couple of hundred
patients that is most of what a query costs in Python, and a weekly digest asks several such
queries. `AnyOf(F("patient_id"), ids)` writes the ids once into one array literal,
`patient_id = ANY('{…}'::uuid[])`, which PostgreSQL plans like the `IN` list.

Only for ids (UUIDs, integers), whose text never needs quoting inside the literal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Lookup
from django.db.models.sql.compiler import SQLCompiler


class IdArray:
    """Ids written once as one array literal, for several `AnyOf` of the same ids (the weekly
    digest asks a dozen queries of the same patients: writing 90 ids took 70 microseconds)."""

    __slots__ = ("literal",)

    def __init__(self, ids: Iterable[uuid.UUID | int]) -> None:
        values = list(ids)
        if not all(isinstance(value, uuid.UUID | int) for value in values):
            raise TypeError("AnyOf takes UUIDs or integers")
        self.literal = "{" + ",".join(str(value) for value in values) + "}"


class AnyOf(Lookup[Any]):
    """`lhs = ANY(<the ids as one array literal, cast to the column's type>)`; usable directly
    in `filter()`: `filter(AnyOf(F("referral__patient_id"), patient_ids))`, or with the ids of an
    `IdArray` written once."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs: Any, rhs: IdArray | Iterable[uuid.UUID | int]) -> None:
        super().__init__(lhs, (rhs if isinstance(rhs, IdArray) else IdArray(rhs)).literal)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        column_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY({rhs}::{column_type}[])", (*lhs_params, *rhs_params)


class InArray(Lookup[Any]):
    """`lhs = ANY(ARRAY(<subquery>))`: "one of the ids this subquery gives", run once.

    Within an OR, `lhs IN (subquery)` is checked row by row on whatever the other branch's
    indexes found; `= ANY(ARRAY(...))` is a value PostgreSQL computes first and then looks up in
    `lhs`'s index, so both branches of the OR are index scans
    (`filter(Q(...) | InArray(F("pk"), ids))`)."""

    lookup_name = "in_array"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
