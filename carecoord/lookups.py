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


class AnyOf(Lookup[Any]):
    """`lhs = ANY(<the ids as one array literal, cast to the column's type>)`; usable directly
    in `filter()`: `filter(AnyOf(F("referral__patient_id"), patient_ids))`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs: Any, rhs: Iterable[uuid.UUID | int]) -> None:
        values = list(rhs)
        if not all(isinstance(value, uuid.UUID | int) for value in values):
            raise TypeError("AnyOf takes UUIDs or integers")
        super().__init__(lhs, "{" + ",".join(str(value) for value in values) + "}")

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
