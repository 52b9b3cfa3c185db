"""The audit of a list exported as CSV: each patient whose rows left, and the export itself.

A streamed answer is written after the view has returned and the audit middleware has run
(`audit.reads` writes a page's reads then), so an export records its reads itself, a batch at
a time, before the batch's lines are written: no row leaves without its read recorded. When
the last row is out (or the download stops), one more entry says which list was exported,
with which filters and how many rows, and no patient data (a list's search words are never
part of an export: they never travel in an address).
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEntry
from audit.reads import record_reads
from audit.services import record_export
from carecoord.reads import shown
from carecoord.request_context import request_context
from carecoord.web.csv_export import Column, batches, csv_lines, csv_response, export_filename
from carecoord.web.list_forms import ListForm


def export_summary(label: str, rows: int, filters: Mapping[str, Any], *, complete: bool = True) -> str:
    """What the export entry says: the list, the rows sent and the address-safe filters."""
    asked = ", ".join(f"{name}={value}" for name, value in sorted(filters.items()))
    stopped = "" if complete else " (download stopped)"
    return f"exported {label} as CSV: {rows} row{'' if rows == 1 else 's'}{stopped}; filters: {asked or 'none'}"


def audited_batches[M: Model](
    request: HttpRequest, queryset: QuerySet[M], *, label: str, filters: Mapping[str, Any]
) -> Generator[list[M]]:
    """`queryset` a batch at a time, each batch's patients recorded as read (once each) before
    the batch goes on; the export entry written once all are out, or when the download stops."""
    recorded: set[uuid.UUID] = set()
    count = 0
    complete = False
    try:
        for batch in batches(queryset):
            with request_context(request) as context:
                shown(batch, verb="exported", action=AuditEntry.Action.EXPORT)
                reads = {pid: read for pid, read in context.reads.items() if pid not in recorded}
                if reads:
                    record_reads(context, reads)
            recorded.update(reads)
            count += len(batch)  # rows recorded and handed on (a stopped download sent fewer)
            yield batch
        complete = True
    finally:
        what = export_summary(label, count, filters, complete=complete)
        record_export(request, patient_id=None, what=what, object_type=queryset.model._meta.label_lower)


def list_export[M: Model, R](
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    form: ListForm,
    name: str,
    label: str,
    columns: Sequence[Column[R]],
    zone: zoneinfo.ZoneInfo,
    rows: Callable[[list[M]], Iterable[R]],
) -> StreamingHttpResponse:
    """A list's rows (`queryset`, filtered as the list page filters it) as a streamed CSV file,
    `carecoord-{name}-{today}.csv`; `rows` turns a batch of objects into the rows `columns` read."""
    audited = audited_batches(request, queryset, label=label, filters=form.address_filters())
    lines = csv_lines(columns, (row for batch in audited for row in rows(batch)), zone)
    return csv_response(lines, export_filename(name, timezone.localdate(timezone=zone)))
