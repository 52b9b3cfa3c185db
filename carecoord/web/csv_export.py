"""A list as a CSV file: the same rows the list page shows, written as they are read.

A list's export is its page without the paging: the same filter form, the same queryset, the
same columns (ids and addresses aside, which help find a row again). What is generic lives
here: cells safe to open in a spreadsheet, times on the viewer's clock, the file's name, and
an answer streamed a batch at a time so memory does not grow with the number of rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse

from carecoord.downloads import attachment_disposition

# A batch of rows read, audited and written together: the queries of an export grow with the
# number of batches, never with the number of rows.
EXPORT_BATCH = 500

# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"): a cell starting
# with one of them is written with a leading single quote, so it is shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Spreadsheets take a file with a byte-order mark as UTF-8 (names with accents stay whole).
BOM = "\ufeff"


def formula_safe(text: str) -> str:
    """`text`, prefixed with `'` if a spreadsheet would read it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value: Any, zone: zoneinfo.ZoneInfo) -> str:
    """`value` as the text of a cell: a moment on the viewer's clock ("2026-12-04 09:30"), a day
    as ISO 8601, yes/no, nothing for None; formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return formula_safe(str(value))


@dataclass(frozen=True)
class Column[R]:
    """One column of an export: its header and how a row gives its value."""

    header: str
    value: Callable[[R], Any]
    moment: bool = False  # a time of day: its header names the zone it is written in

    def title(self, zone: zoneinfo.ZoneInfo) -> str:
        return f"{self.header} ({zone.key})" if self.moment else self.header


class LineEcho:
    """What `csv.writer` writes to for a streamed file: the line it was given, handed back."""

    def write(self, line: str) -> str:
        return line


def csv_lines[R](columns: Sequence[Column[R]], rows: Iterable[R], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    """The file, a line at a time: the byte-order mark and the header (each time's column naming
    the zone it is written in), then one line a row."""
    writer = csv.writer(LineEcho())
    yield BOM + writer.writerow([column.title(zone) for column in columns])
    for row in rows:
        yield writer.writerow([cell(column.value(row), zone) for column in columns])


def batches[M: Model](queryset: QuerySet[M], size: int | None = None) -> Iterator[list[M]]:
    """`queryset` read `size` rows (`EXPORT_BATCH`) at a time from a server-side cursor, its
    prefetches done a batch at a time."""
    size = size or EXPORT_BATCH
    rows = queryset.iterator(chunk_size=size)
    while batch := list(islice(rows, size)):
        yield batch


def export_filename(list_name: str, today: dt.date) -> str:
    """The offered name of an export: `carecoord-referrals-2026-12-04.csv`."""
    return f"carecoord-{list_name}-{today.isoformat()}.csv"


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """The file as an attachment, streamed as its lines are written; never cached."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_disposition(filename, "csv", fallback="carecoord-export")
    response["Cache-Control"] = "no-store"
    return response
