"""A built query read again and again with its statement compiled once (the work queue's lists,
`carecoord.work_queue.read_per_shape`)."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler

# What a compiler learns compiling a statement (`SQLCompiler.pre_sql_setup`) that reading the
# rows asks of it (`ModelIterable`, `SQLCompiler.execute_sql` and `results_iter`).
LEARNT = ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")


class KeptStatement[M: Model]:
    """A built query, never read itself, and its statement as compiled for each database with
    what the compiler learnt compiling it (the columns and the models they fill).

    Each read is of a copy whose compiler is handed the kept statement instead of compiling it
    again: compiling the work queue's lists (their joins, columns and access subqueries) cost
    about 7 ms of every work queue (the center coordinator's, on the benchmark database). The
    copy is read at once and never handed out, so no filter can be added to a query whose
    statement is kept: the statement is the built query's, whatever reads it. What the reading
    asks of the compiler besides the statement (`LEARNT`) is Django's own business: an upgrade
    of Django is checked by the work queue's tests (workspace/tests/test_work_queue_shapes.py
    and every list's own).
    """

    def __init__(self, query: QuerySet[M]) -> None:
        self._query = query
        self._compiled: dict[str, tuple[Any, ...]] = {}

    def read(self) -> list[M]:
        copy = self._query.all()
        compiler_of = copy.query.get_compiler

        def get_compiler(using: str | None = None, connection: Any = None, elide_empty: bool = True) -> SQLCompiler:
            # Once: compiling clones the query (a filter on a window function), and a clone
            # carrying this function would compile the copy again, for ever.
            del copy.query.get_compiler
            compiler = compiler_of(using, connection, elide_empty)
            compiler.as_sql = functools.partial(self._as_sql, compiler)
            return compiler

        # Set on this copy's query alone (mypy refuses assigning to a method: it is meant here).
        copy.query.get_compiler = get_compiler  # type: ignore[method-assign]
        return list(copy)

    def _as_sql(self, compiler: SQLCompiler, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        if args or kwargs:  # not the statement that reads the rows: compiled as always
            return type(compiler).as_sql(compiler, *args, **kwargs)
        kept = self._compiled.get(compiler.connection.alias)
        if kept is None:
            statement = type(compiler).as_sql(compiler)
            learnt = {name: getattr(compiler, name) for name in LEARNT}
            self._compiled[compiler.connection.alias] = (statement, learnt)
            return statement
        statement, learnt = kept
        for name, value in learnt.items():
            setattr(compiler, name, value)
        return statement
