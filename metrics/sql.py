"""The few SQL expressions the metrics need that Django does not ship: a percentile, the
span between two moments or two dates, and a moment's date in a site's own time zone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Aggregate, Case, FloatField, Func, IntegerField, Q, Value, When


class Percentile(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`: the value
    below which `fraction` of the rows fall, interpolated (the median is 0.5). NULLs are left
    out, as every aggregate leaves them out; `filter=` becomes the aggregate's FILTER clause."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"A percentile is a fraction between 0 and 1, not {fraction!r}.")
        # A constant of the code, never input: written into the statement as a float literal.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def median(expression: Any, **extra: Any) -> Percentile:
    return Percentile(expression, 0.5, **extra)


def p90(expression: Any, **extra: Any) -> Percentile:
    return Percentile(expression, 0.9, **extra)


class _Difference(Func):
    """`end - start` in SQL, as the subclass's template reads it; NULL when either is NULL."""

    arg_joiner = " - "

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)


class HoursBetween(_Difference):
    """Hours from `start` to `end` (two moments), as a fraction."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    output_field = FloatField()


class DaysBetween(_Difference):
    """Days from `start` to `end` (two dates): PostgreSQL's date subtraction, an integer."""

    template = "(%(expressions)s)"
    output_field = IntegerField()


def flag(condition: Q) -> Case:
    """1 where `condition` holds, NULL elsewhere: `Count` of it counts the rows that meet it.
    (An aggregate over annotations that hold subqueries reads them from an inner query, and
    Django carries plain references into it, not conditions.)"""
    return Case(When(condition, then=Value(1)), output_field=IntegerField())


@contextmanager
def without_jit() -> Iterator[None]:
    """The block's queries planned without PostgreSQL's JIT compilation, in a transaction of
    their own (`SET LOCAL`). Their correlated subqueries make the planner's cost estimates
    high enough to compile each statement to machine code, which took 1.3 s of the 1.4 s of
    the access block at 10,000 patients for a query that runs in 0.1 s (docs/PERFORMANCE.md)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield
        # Inside an outer transaction (a test's) the setting would outlive the block; after an
        # error the savepoint's rollback undoes it.
        cursor.execute("SET LOCAL jit TO DEFAULT")
