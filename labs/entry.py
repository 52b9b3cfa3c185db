"""Reading several results at once: a block pasted from a report, or a CSV file.

Pure functions, no database (docs/clinical-rules.md#lab-results has the formats). Every line
is read before anything is saved; an error names its line, and one bad line saves nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from labs.units import Reading, UnreadableValue, kind_named, read_value

MAX_LINES = 500
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY = re.compile(r"\b(?:day\s*\+?|d\s*\+)\s*(\d{1,4})\b", re.IGNORECASE)  # "day +30", "day 30", "d+30"
_NUMBER_THEN_UNIT = re.compile(r"^([0-9][0-9.,]*|\.[0-9]+)(.*)$")
_REPORT_MARKS = {"l", "h", "ll", "hh", "(l)", "(h)", "*", "**", "!", "low", "high", "lo", "hi", "(low)", "(high)"}


@dataclass(frozen=True)
class Entry:
    """One result read: its kind, value and the day it was taken; `line` where it was written."""

    line: int
    kind: str
    reading: Reading
    taken_on: dt.date


class EntryErrors(ValueError):
    """The lines that could not be read, each as "Line 3: ..."."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _date(text: str, day_zero: dt.date | None) -> dt.date:
    """An ISO date, or day +N from the infusion."""
    text = text.strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise UnreadableValue(f"{text} is not a date.") from None
    day = _DAY.fullmatch(text)
    if day:
        if day_zero is None:
            raise UnreadableValue(f"{text}: there is no infusion date to count from; write the date (YYYY-MM-DD).")
        return day_zero + dt.timedelta(days=int(day.group(1)))
    raise UnreadableValue(f"{text or 'Nothing'} is not a date: write it as YYYY-MM-DD or day +N.")


def _take_date(line: str, day_zero: dt.date | None) -> tuple[str, dt.date | None]:
    """The line without its date (ISO, or "day +N"), and that date if it had one."""
    found = _ISO_DATE.search(line) or _DAY.search(line)
    if not found:
        return line, None
    return line[: found.start()] + " " + line[found.end() :], _date(found.group(0), day_zero)


def _read_line(
    text: str, default_on: dt.date | None, day_zero: dt.date | None
) -> tuple[str, Reading, dt.date] | dt.date:
    """One pasted line: a result (kind, reading, date), or a date alone for the lines after it."""
    rest, on = _take_date(text, day_zero)
    tokens = re.sub(r"[:=;\t|]", " ", rest).split()
    if not tokens:
        if on is None:
            raise UnreadableValue("Nothing to read.")
        return on
    kind, used = None, 0
    for size in (3, 2, 1):  # "abs neut", "C reactive protein": the longest name first
        kind = kind_named("".join(tokens[:size])) if len(tokens) >= size else None
        if kind:
            used = size
            break
    if kind is None:
        raise UnreadableValue(
            f"{tokens[0]} is not a value carecoord follows: write ANC, platelets, Hb, lymphocytes, CD4, IgG, "
            "ferritin or CRP first."
        )
    after = tokens[used:]
    if not after:
        raise UnreadableValue(f"No value after {tokens[0]}.")
    number = _NUMBER_THEN_UNIT.match(after[0])
    if number is None:
        raise UnreadableValue(f"{after[0]} is not a number: write the value after {tokens[0]}.")
    unit_parts = [number.group(2), *after[1:]]
    while unit_parts and unit_parts[-1].lower() in _REPORT_MARKS:
        unit_parts.pop()
    reading = read_value(kind, number.group(1), "".join(unit_parts))
    taken_on = on or default_on
    if taken_on is None:
        raise UnreadableValue("No date: write it on the line (YYYY-MM-DD or day +N) or on a line above.")
    return kind, reading, taken_on


def read_pasted(text: str, *, taken_on: dt.date | None, day_zero: dt.date | None) -> list[Entry]:
    """The results of a pasted block: one per line, "KIND VALUE [UNIT] [DATE]" in any spacing.

    A line holding only a date sets it for the lines below; otherwise `taken_on` applies. Blank
    lines and lines starting with # are skipped. Raises `EntryErrors` naming every bad line.
    """
    entries: list[Entry] = []
    errors: list[str] = []
    current = taken_on
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise EntryErrors([f"At most {MAX_LINES} lines at once; this has {len(lines)}."])
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            read = _read_line(line, current, day_zero)
        except UnreadableValue as exc:
            errors.append(f"Line {number}: {exc}")
            continue
        if isinstance(read, dt.date):
            current = read
        else:
            entries.append(Entry(number, *read))
    if errors:
        raise EntryErrors(errors)
    if not entries:
        raise EntryErrors(["No results found: write one per line, e.g. ANC 0.4 or Hb 8.1 g/dL."])
    return entries


_COLUMNS = {
    "kind": ("kind", "test", "analyte", "name", "lab"),
    "value": ("value", "result"),
    "unit": ("unit", "units"),
    "taken_on": ("taken_on", "date", "taken on", "collected", "collected_on", "day"),
}


def read_csv(data: bytes, *, day_zero: dt.date | None) -> list[Entry]:
    """The results of a CSV file with a header row: kind, value, unit (may be empty), taken_on
    (YYYY-MM-DD or day +N). Columns are found by name, in any order; others are ignored.
    Raises `EntryErrors` naming every bad row by its line in the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EntryErrors(["The file is not UTF-8 text: save it as CSV (UTF-8)."]) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise EntryErrors(["The file is empty."])
    if len(rows) > MAX_LINES + 1:
        raise EntryErrors([f"At most {MAX_LINES} rows at once; this has {len(rows) - 1}."])
    header = [cell.strip().lower() for cell in rows[0]]
    where: dict[str, int] = {}
    for column, names in _COLUMNS.items():
        index = next((header.index(name) for name in names if name in header), None)
        if index is not None:
            where[column] = index
    missing = [column for column in ("kind", "value", "taken_on") if column not in where]
    if missing:
        raise EntryErrors(
            [f"Line 1: the header row needs the columns kind, value, unit and taken_on; missing {', '.join(missing)}."]
        )
    entries: list[Entry] = []
    errors: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(column: str, row: list[str] = row) -> str:
            index = where.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        try:
            kind = kind_named(cell("kind"))
            if kind is None:
                raise UnreadableValue(f"{cell('kind') or 'An empty kind'} is not a value carecoord follows.")
            reading = read_value(kind, cell("value"), cell("unit"))
            entries.append(Entry(number, kind, reading, _date(cell("taken_on"), day_zero)))
        except UnreadableValue as exc:
            errors.append(f"Line {number}: {exc}")
    if errors:
        raise EntryErrors(errors)
    if not entries:
        raise EntryErrors(["No results found below the header row."])
    return entries
