"""The hand-off forms: starting one, filling a template version's fields, asking a question.

A template's fields are not known until its version is read, so the fill-in form is not a
Django form class: `posted_values` reads the posted names ("section.field", rows as
"section.field.<row>.<column>") into the values the services take, and `section_views`
turns a version's schema, the values and the errors into what the templates render.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from carecoord.models import Site
from handoffs.models import HandoffTemplate
from handoffs.schema import COMMENT, ECOG_CHOICES, GRADE_CHOICES, MAX_ROWS, ROW_COLUMNS, Field, fields_of
from handoffs.services import QUESTION_MAX_LENGTH

BLANK_ROWS = 3
COLUMN_LABELS = {"drug": "Drug", "dose": "Dose", "frequency": "Frequency", "until": "Until", "test": "Test"}
ROW_NAME = re.compile(r"^(?P<path>[a-z0-9_]+\.[a-z0-9_]+)\.(?P<index>\d{1,3})\.(?P<column>[a-z_]+)$")


class StartForm(forms.Form):
    """Which template, from which of the viewer's sites, to which other site of the care team."""

    template = forms.ModelChoiceField(
        label="Template", queryset=HandoffTemplate.objects.none(), empty_label="Choose a template"
    )
    from_site = forms.TypedChoiceField(label="From", coerce=int)
    to_site = forms.TypedChoiceField(label="To", coerce=int)

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[HandoffTemplate],
        from_sites: Sequence[Site],
        to_sites: Sequence[Site],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.pk: site for site in [*from_sites, *to_sites]}
        cast(forms.ModelChoiceField, self.fields["template"]).queryset = templates
        for name, sites in (("from_site", from_sites), ("to_site", to_sites)):
            cast(forms.TypedChoiceField, self.fields[name]).choices = [(s.pk, s.name) for s in sites]
            if len(sites) == 1:
                self.fields[name].initial = sites[0].pk

    def site(self, name: str) -> Site:
        return self.sites[self.cleaned_data[name]]


class QuestionForm(forms.Form):
    """A message of the hand-off's thread. `other_site` names the site that would answer; ticked
    by default unless that site's question waits for the writer's (`answering`): then the
    message answers it (`HandoffQuestion.kind_for`)."""

    body = forms.CharField(
        label="Your question or answer",
        max_length=QUESTION_MAX_LENGTH,
        error_messages={"required": "Write a question."},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    needs_answer = forms.BooleanField(required=False)

    def __init__(self, *args: Any, other_site: Site | None = None, answering: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_question_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["needs_answer"]
        field.label = f"This needs an answer from {other_site}" if other_site else "This needs an answer"
        field.initial = not answering


# --- the fields of a template version ---------------------------------------------------------


def posted_values(schema: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The values keyed "section.field", as typed; the rows of a list with nothing typed are dropped."""
    by_path = {f.path: f for f in fields_of(schema)}
    values: dict[str, Any] = {}
    rows: dict[str, dict[int, dict[str, str]]] = {}
    for name in data:
        if name in by_path and by_path[name].type not in ROW_COLUMNS:
            values[name] = data[name]
            continue
        if name.endswith(COMMENT) and by_path.get(name.removesuffix(COMMENT)) is not None:
            if by_path[name.removesuffix(COMMENT)].type == "yes_no":
                values[name] = data[name]
            continue
        match = ROW_NAME.match(name)
        if match is None or match["path"] not in by_path:
            continue
        field_ = by_path[match["path"]]
        index = int(match["index"])
        if field_.type not in ROW_COLUMNS or match["column"] not in ROW_COLUMNS[field_.type] or index > 2 * MAX_ROWS:
            continue
        rows.setdefault(field_.path, {}).setdefault(index, {})[match["column"]] = data[name]
    for path, by_index in rows.items():
        values[path] = [row for _, row in sorted(by_index.items()) if any(str(v).strip() for v in row.values())]
    return values


def field_id(path: str) -> str:
    """The HTML id of a field's input, e.g. "f-medications-current" (its error: id + "-error")."""
    return "f-" + path.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Cell:
    name: str
    id: str
    label: str
    value: str


@dataclass(frozen=True)
class FieldView:
    """One field as the edit page, the detail page and the PDF show it."""

    field: Field
    value: Any
    error: str = ""
    rows: list[list[Cell]] = dataclass_field(default_factory=list)
    comment: str = ""  # with a yes/no answer: why not, what happens instead

    @property
    def name(self) -> str:
        return self.field.path

    @property
    def id(self) -> str:
        return field_id(self.field.path)

    @property
    def is_group(self) -> bool:
        """Radios and rows are a fieldset whose legend is the label."""
        return self.field.type == "yes_no" or self.field.type in ROW_COLUMNS

    @property
    def columns(self) -> list[str]:
        return [COLUMN_LABELS.get(c, c.capitalize()) for c in ROW_COLUMNS.get(self.field.type, ())]

    @property
    def text(self) -> str:
        """The value as an input shows it: exactly as typed, or empty."""
        if self.value is None or isinstance(self.value, list | dict):
            return ""
        if isinstance(self.value, bool):
            return "yes" if self.value else "no"
        return str(self.value)

    @property
    def is_iso_date(self) -> bool:
        try:
            dt.date.fromisoformat(self.text)
        except ValueError:
            return False
        return True

    @property
    def answer(self) -> str:
        """A yes/no answer as "yes", "no" or ""."""
        if self.value in (True, "yes", "true", "on", "1"):
            return "yes"
        if self.value in (False, "no", "false", "off", "0"):
            return "no"
        return ""

    @property
    def comment_name(self) -> str:
        return self.field.path + COMMENT

    @property
    def scale(self) -> tuple[tuple[str, str], ...]:
        """The options of a grade or an ECOG field, as (value, label)."""
        return {"grade": GRADE_CHOICES, "ecog": ECOG_CHOICES}.get(self.field.type, ())

    @property
    def display(self) -> str:
        """The value as the read-only pages show it."""
        if self.field.type == "yes_no":
            answer = {"yes": "Yes", "no": "No"}.get(self.answer, self.text)
            return f"{answer}: {self.comment}" if answer and self.comment else answer
        if self.scale:
            return dict(self.scale).get(self.text, self.text)
        if self.field.type == "date" and self.is_iso_date:
            return f"{dt.date.fromisoformat(self.text):%a %d %b %Y}"
        return self.text

    @property
    def filled_rows(self) -> list[list[str]]:
        columns = ROW_COLUMNS.get(self.field.type, ())
        rows = self.value if isinstance(self.value, list) else []
        return [[str(row.get(c, "")) for c in columns] for row in rows if isinstance(row, dict)]


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    fields: list[FieldView]

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.fields if f.error)


def row_cells(field_: Field, index: int, row: Mapping[str, Any]) -> list[Cell]:
    """The inputs of one row of a list field, e.g. "medications.current.0.drug"."""
    base = field_id(field_.path)
    return [
        Cell(
            name=f"{field_.path}.{index}.{column}",
            id=f"{base}-{index}-{column}",
            label=f"{COLUMN_LABELS.get(column, column.capitalize())}, row {index + 1}",
            value=str(row.get(column, "") or ""),
        )
        for column in ROW_COLUMNS[field_.type]
    ]


def _view(field_: Field, values: Mapping[str, Any], errors: Mapping[str, str], blank_rows: int) -> FieldView:
    value = values.get(field_.path)
    cells: list[list[Cell]] = []
    if field_.type in ROW_COLUMNS:
        rows = [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []
        total = min(len(rows) + blank_rows, MAX_ROWS)
        cells = [row_cells(field_, i, rows[i] if i < len(rows) else {}) for i in range(total)]
    comment = values.get(field_.path + COMMENT) if field_.type == "yes_no" else ""
    return FieldView(
        field=field_,
        value=value,
        error=errors.get(field_.path, ""),
        rows=cells,
        comment=comment if isinstance(comment, str) else "",
    )


def section_views(
    schema: dict[str, Any], values: Mapping[str, Any], errors: Mapping[str, str] | None = None, *, blank_rows: int = 0
) -> list[SectionView]:
    """The version's sections with each field's value and error; list fields get `blank_rows` empty rows."""
    by_section: dict[str, list[Field]] = {}
    for field_ in fields_of(schema):
        by_section.setdefault(field_.section, []).append(field_)
    return [
        SectionView(
            key=section["key"],
            title=section["title"],
            fields=[_view(f, values, errors or {}, blank_rows) for f in by_section[section["key"]]],
        )
        for section in schema["sections"]
    ]


def value_errors(error: Exception) -> tuple[dict[str, str], list[str]]:
    """A send's ValidationError split into field errors ("values.section.field") and the rest."""
    fields: dict[str, str] = {}
    others: list[str] = []
    error_dict: dict[str, list[str]] = getattr(error, "message_dict", {}) or {}
    if not error_dict:
        others.extend(getattr(error, "messages", [str(error)]))
    for key, messages in error_dict.items():
        if key.startswith("values."):
            fields[key.removeprefix("values.")] = " ".join(messages)
        else:
            others.extend(messages)
    return fields, others
