"""Rows spooled to temporary files in COPY's text format, then loaded with one COPY per table.

Generating a patient's story writes rows to a dozen tables at once; one connection holds one
COPY at a time, so the rows wait in a temporary file per table (not in memory) and each file is
streamed to PostgreSQL afterwards with psycopg's `cursor.copy`. Ids are given here, from the
table's current largest id on, and the table's identity sequence is moved past them after.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.db import connection
from psycopg import sql

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
CHUNK = 1 << 20


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")).translate(_ESCAPES)


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text,
    int: str,
    bool: lambda value: "t" if value else "f",
    float: repr,
    dt.datetime: dt.datetime.isoformat,  # before date, which a datetime also is
    dt.date: dt.date.isoformat,
    uuid.UUID: str,
    dict: _json,
    list: _json,
    type(None): lambda value: "\\N",
}


def _format(value: Any) -> str:
    """A value of a subclass (a choice of a TextChoices, a StrEnum) as its base type's."""
    for base, format_ in _FORMATS.items():
        if isinstance(value, base) and base is not type(None):
            _FORMATS[type(value)] = format_
            return format_(value)
    raise TypeError(f"No COPY format for {type(value).__name__}")


def copy_text(values: Iterable[Any]) -> str:
    """One row in COPY's text format (tab-separated, NULL as \\N, special characters escaped)."""
    formats = _FORMATS
    return (
        "\t".join([formats[type(value)](value) if type(value) in formats else _format(value) for value in values])
        + "\n"
    )


class Table:
    """The rows of one table waiting for COPY; `add` gives each row the next id."""

    def __init__(self, name: str, columns: str, *, first_id: int = 1, with_id: bool = True) -> None:
        self.name = name
        self.columns = ("id, " if with_id else "") + columns
        self.next_id = first_id
        self.with_id = with_id
        self.count = 0
        # Open until `load` (a context manager would close it at once).
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, *values: Any) -> int:
        """Spool one row (without its id) and return the id it gets."""
        row_id = self.next_id
        self.next_id += 1
        self.count += 1
        self._file.write(copy_text((row_id, *values) if self.with_id else values))
        return row_id

    def load(self) -> None:
        """COPY the spooled rows into the table on Django's connection, then forget them."""
        self._file.seek(0)
        table = sql.Identifier(self.name)
        columns = sql.SQL(", ").join(sql.Identifier(name.strip()) for name in self.columns.split(","))
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
            with raw.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, columns)) as copy:
                while chunk := self._file.read(CHUNK):
                    copy.write(chunk)
            if self.with_id and self.count:
                raw.execute(
                    sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                        sql.Literal(self.name), table
                    )
                )
        self._file.close()


def first_free_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.cursor.execute(sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table)))
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
