"""Hand-off template schemas and the values filled into them: plain data, plain functions.

A schema is a list of sections, each a list of typed fields:

    {"sections": [{"key": "treatment", "title": "Treatment", "fields": [
        {"key": "product", "label": "Product", "type": "text", "required": true,
         "help": "...", "prefill": "product"}, ...]}]}

Field types: text, long_text, date, number, choice (with "choices"), yes_no, grade (a toxicity
grade 0-4, or "none recorded" when nothing was recorded: not the same as grade 0), ecog (the
ECOG performance status 0-4), medication_list (rows of drug, dose, frequency, until) and
lab_schedule (rows of test, frequency, until). A required yes/no answered "no" needs a comment,
kept under "section.field.comment".
Values are keyed "section.field". `validate_values` returns the cleaned values and a message
per bad field, and never raises for bad input: a draft with errors is kept as typed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

FIELD_TYPES = (
    "text",
    "long_text",
    "date",
    "number",
    "choice",
    "yes_no",
    "grade",
    "ecog",
    "medication_list",
    "lab_schedule",
)
NONE_RECORDED = "none recorded"
GRADE_CHOICES: tuple[tuple[str, str], ...] = (
    (NONE_RECORDED, "None recorded"),
    ("0", "Grade 0 (none)"),
    ("1", "Grade 1"),
    ("2", "Grade 2"),
    ("3", "Grade 3"),
    ("4", "Grade 4"),
)
# The ECOG performance status, as the scale words it (Oken et al., Am J Clin Oncol 1982).
ECOG_CHOICES: tuple[tuple[str, str], ...] = (
    ("0", "0 · Fully active"),
    ("1", "1 · Restricted in strenuous activity, ambulatory"),
    ("2", "2 · Ambulatory and capable of self-care, unable to work"),
    ("3", "3 · Capable of only limited self-care"),
    ("4", "4 · Completely disabled"),
)
COMMENT = ".comment"  # suffix of the comment kept with a yes/no answer
ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "medication_list": ("drug", "dose", "frequency", "until"),
    "lab_schedule": ("test", "frequency", "until"),
}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 4000
MAX_ROWS = 50


class SchemaError(ValueError):
    """A template schema that cannot be used; the message says where."""


@dataclass(frozen=True)
class Field:
    section: str
    key: str
    label: str
    type: str
    required: bool
    help: str
    choices: tuple[str, ...]
    prefill: str

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}"


def fields_of(schema: dict[str, Any]) -> list[Field]:
    """Every field of a valid schema, in order."""
    return [
        Field(
            section=section["key"],
            key=field["key"],
            label=field["label"],
            type=field["type"],
            required=bool(field.get("required", False)),
            help=field.get("help", ""),
            choices=tuple(field.get("choices", ())),
            prefill=field.get("prefill", ""),
        )
        for section in schema["sections"]
        for field in section["fields"]
    ]


def validate_schema(schema: Any) -> None:
    """Raise SchemaError naming the first problem of a template schema."""
    if not isinstance(schema, dict) or not isinstance(schema.get("sections"), list) or not schema["sections"]:
        raise SchemaError("sections: a template needs at least one section.")
    seen_sections: set[str] = set()
    for s_index, section in enumerate(schema["sections"], start=1):
        where = f"section {s_index}"
        if not isinstance(section, dict):
            raise SchemaError(f"{where}: must be an object.")
        key = section.get("key")
        if not isinstance(key, str) or not KEY.match(key) or key in seen_sections:
            raise SchemaError(f"{where}: key must be unique, lower case letters, digits and underscores.")
        seen_sections.add(key)
        if not str(section.get("title", "")).strip():
            raise SchemaError(f"{where}: needs a title.")
        fields = section.get("fields")
        if not isinstance(fields, list) or not fields:
            raise SchemaError(f"{where}: needs at least one field.")
        seen_fields: set[str] = set()
        for f_index, field in enumerate(fields, start=1):
            fwhere = f"{where}, field {f_index}"
            if not isinstance(field, dict):
                raise SchemaError(f"{fwhere}: must be an object.")
            fkey = field.get("key")
            if not isinstance(fkey, str) or not KEY.match(fkey) or fkey in seen_fields:
                raise SchemaError(f"{fwhere}: key must be unique in its section, lower case letters and digits.")
            seen_fields.add(fkey)
            if not str(field.get("label", "")).strip():
                raise SchemaError(f"{fwhere}: needs a label.")
            if field.get("type") not in FIELD_TYPES:
                raise SchemaError(f"{fwhere}: type must be one of {', '.join(FIELD_TYPES)}.")
            if field["type"] == "choice":
                choices = field.get("choices")
                if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
                    raise SchemaError(f"{fwhere}: a choice field needs at least two choices.")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _clean(field: Field, value: Any) -> Any:
    """The cleaned value, or ValueError with a message for the person filling the form."""
    if field.type in ("text", "long_text"):
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        if len(value) > MAX_TEXT:
            raise ValueError(f"Keep it under {MAX_TEXT} characters.")
        return value.strip()
    if field.type == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None
    if field.type == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("Enter a number.") from None
        if not math.isfinite(number):
            raise ValueError("Enter a number.")
        return int(number) if number.is_integer() else number
    if field.type == "choice":
        if value not in field.choices:
            raise ValueError(f"Choose one of: {', '.join(field.choices)}.")
        return value
    if field.type == "yes_no":
        if value in (True, "yes", "true", "on", "1"):
            return True
        if value in (False, "no", "false", "off", "0"):
            return False
        raise ValueError("Answer yes or no.")
    if field.type == "grade":
        if isinstance(value, str) and value.strip().lower() in (NONE_RECORDED, "none"):
            return NONE_RECORDED
        return _scale(value, "Choose a grade from 0 to 4, or “none recorded” when nothing was recorded.")
    if field.type == "ecog":
        return _scale(value, "Choose the ECOG performance status, 0 to 4.")
    columns = ROW_COLUMNS[field.type]
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise ValueError(f"Enter up to {MAX_ROWS} rows.")
    rows = []
    for number, row in enumerate(value, start=1):
        if not isinstance(row, dict) or set(row) - set(columns):
            raise ValueError(f"Row {number}: use the columns {', '.join(columns)}.")
        cleaned = {column: str(row.get(column, "") or "").strip()[:200] for column in columns}
        if any(cleaned.values()):
            if not cleaned[columns[0]]:
                raise ValueError(f"Row {number}: the {columns[0]} is missing.")
            rows.append(cleaned)
    return rows


def accepts(field: Field, value: Any) -> bool:
    """Whether `value` is a valid value of `field` (what a prefill may put there)."""
    try:
        _clean(field, value)
    except ValueError:
        return False
    return True


def _scale(value: Any, message: str) -> int:
    """A whole number 0-4 (a grade, an ECOG status), given as a number or as its digit."""
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, int) and 0 <= value <= 4:
        return value
    if isinstance(value, str) and value.strip() in {"0", "1", "2", "3", "4"}:
        return int(value.strip())
    raise ValueError(message)


def validate_values(
    schema: dict[str, Any], values: dict[str, Any], *, require: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """Cleaned values and a message per bad field ("section.field" keys).

    With `require`, empty required fields are errors too (sending); without, only malformed
    values are (saving a draft). Keys the template does not know are dropped.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields_of(schema):
        value = values.get(field.path)
        if field.type == "yes_no":
            comment = values.get(field.path + COMMENT)
            if isinstance(comment, str) and comment.strip():
                cleaned[field.path + COMMENT] = comment.strip()[:MAX_TEXT]
        if _empty(value):
            if require and field.required:
                errors[field.path] = f"{field.label} is required."
            continue
        try:
            cleaned[field.path] = _clean(field, value)
        except ValueError as exc:
            errors[field.path] = str(exc)
        else:
            if require and field.required and _empty(cleaned[field.path]):
                errors[field.path] = f"{field.label} is required."
            elif require and field.required and cleaned[field.path] is False and field.path + COMMENT not in cleaned:
                errors[field.path] = "Answered no: say why in the comment, and what happens instead."
    return cleaned, errors
