"""Rows spooled to temporary files in COPY's text format, then loaded with COPY.

Generating a patient's story writes rows to a dozen tables at once; one connection holds one
COPY at a time, so the rows wait in a temporary file per table (not in memory) and each file is
streamed to PostgreSQL with psycopg's `cursor.copy`: at the end on Django's connection (the
tests), or batch by batch by a `Loader` while the next batch is written (a new database). Ids
are given here, from the table's current largest id on, and the table's identity sequence is
moved past them after.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

import psycopg
from django.db import connection
from psycopg import sql

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
CHUNK = 1 << 20
_SPECIAL = re.compile(r"[\\\t\n\r]").search


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if _SPECIAL(value) else value


def _json(value: Any) -> str:
    return _text(json.dumps(value, separators=(",", ":")))


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


def _format_of(value: Any) -> Callable[[Any], str]:
    """The format of a value of a subclass (a TextChoices choice, a StrEnum): its base type's."""
    for base, format_ in _FORMATS.items():
        if isinstance(value, base) and base is not type(None):
            _FORMATS[type(value)] = format_
            return format_
    raise TypeError(f"No COPY format for {type(value).__name__}")


def copy_text(values: Iterable[Any]) -> str:
    """One row in COPY's text format (tab-separated, NULL as \\N, special characters escaped)."""
    get = _FORMATS.get
    return "\t".join([(get(type(value)) or _format_of(value))(value) for value in values]) + "\n"


@dataclass(frozen=True)
class Spool:
    """Rows of one table waiting in a file, in COPY's text format."""

    table: str
    columns: str
    file: IO[str]

    def copy(self, cursor: psycopg.Cursor[Any]) -> None:
        """COPY the rows on `cursor` (psycopg's), then close the file."""
        self.file.seek(0)
        columns = sql.SQL(", ").join(sql.Identifier(name.strip()) for name in self.columns.split(","))
        with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(self.table), columns)) as copy:
            while chunk := self.file.read(CHUNK):
                copy.write(chunk)
        self.file.close()


def _temporary() -> IO[str]:
    # Open until its rows are copied (a context manager would close it at once).
    return tempfile.TemporaryFile("w+", encoding="utf-8")


class Table:
    """The rows of one table waiting for COPY; `add` gives each row the next id."""

    def __init__(self, name: str, columns: str, *, first_id: int = 1, with_id: bool = True) -> None:
        self.name = name
        self.columns = ("id, " if with_id else "") + columns
        self.next_id = first_id
        self.with_id = with_id
        self.count = 0
        self._file = _temporary()

    def add(self, *values: Any) -> int:
        """Spool one row (without its id) and return the id it gets."""
        row_id = self.next_id
        self.next_id += 1
        self.count += 1
        self._file.write(copy_text((row_id, *values) if self.with_id else values))
        return row_id

    def stand_in(self) -> Table:
        """A table that gives the same ids from here on and whose rows are thrown away: a story
        written only to draw what it draws and take the ids it takes (see `take_ids_of`)."""
        return Table(self.name, self.columns.removeprefix("id, "), first_id=self.next_id, with_id=self.with_id)

    def take_ids_of(self, stand_in: Table) -> None:
        """Go on after the ids `stand_in` gave (its rows are not written)."""
        self.next_id = stand_in.next_id

    def spool(self) -> Spool:
        """The rows added since the last call, to be copied; new rows go to a new file."""
        spool = Spool(self.name, self.columns, self._file)
        self._file = _temporary()
        return spool

    def load(self) -> None:
        """COPY the rows not spooled yet on Django's connection, and move the id sequence on."""
        with connection.cursor() as cursor:
            self.spool().copy(cursor.cursor)  # psycopg's own cursor under Django's wrapper
        self.move_sequence()

    def move_sequence(self) -> None:
        """Move the table's id sequence past the ids given here."""
        if not self.with_id or not self.count:
            return
        with connection.cursor() as cursor:
            cursor.cursor.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                    sql.Literal(self.name), sql.Identifier(self.name)
                )
            )


def connect(database: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection of our own to `database`, on the server and as the user of the settings."""
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=database,
        autocommit=autocommit,
    )


class Loader:
    """Copies spooled rows on a connection of its own, in a thread, while more are written:
    the database parses and indexes one batch while Python writes the next. For a database
    being built from nothing only: each batch commits on its own, with foreign-key triggers
    off (every key is made by the builder)."""

    def __init__(self) -> None:
        self._connection = connect(connection.settings_dict["NAME"])
        self._connection.execute("SET session_replication_role = replica")
        self._batches: queue.Queue[list[Spool] | None] = queue.Queue(maxsize=2)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bench-dataset-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (batch := self._batches.get()) is not None:
                with self._connection.cursor() as cursor:
                    for spool in batch:
                        spool.copy(cursor)
                self._connection.commit()
        except BaseException as exc:  # reported by `finish`
            self._failure = exc
            while self._batches.get() is not None:  # let `submit` and `finish` go on
                pass

    def submit(self, batch: list[Spool]) -> None:
        self._batches.put(batch)

    def finish(self) -> None:
        """Wait for every batch to be copied; raise what went wrong in the thread, if anything."""
        self._batches.put(None)
        self._thread.join()
        self._connection.close()
        if self._failure is not None:
            raise RuntimeError("loading the spooled rows failed") from self._failure


def first_free_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.cursor.execute(sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table)))
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
