"""Forms of the template editor, and the preview of the form a schema describes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from carecoord.models import Site
from handoffs.schema import FIELD_TYPES, ROW_COLUMNS, Field, SchemaError, fields_of, validate_schema
from handoffs.template_editor.services import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

SCHEMA_MAX_LENGTH = 200_000

# What a new template starts from: one section with one field, to be changed.
STARTER_SCHEMA: dict[str, Any] = {
    "sections": [
        {
            "key": "summary",
            "title": "Summary",
            "fields": [{"key": "summary", "label": "Summary", "type": "long_text", "required": True}],
        }
    ]
}


def schema_text(schema: Any) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False)


class SchemaForm(forms.Form):
    schema = forms.CharField(
        label="Schema (JSON)",
        max_length=SCHEMA_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "hot-schema"}),
        help_text=(
            'Sections, each with fields: {"sections": [{"key", "title", "fields": [{"key", "label", "type", '
            '"required", "help", "choices", "prefill"}]}]}. Types: ' + ", ".join(FIELD_TYPES) + ". A grade is 0-4 or "
            '"none recorded"; an ecog field the ECOG status 0-4; a required yes_no answered no needs a comment.'
        ),
    )

    def clean_schema(self) -> Any:
        text = self.cleaned_data["schema"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.") from None


class TemplateCreateForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner_site = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        label="Owner",
        help_text="A shared template is offered to every site; a site's own only to that site.",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], may_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner_site"])
        owner.queryset = sites
        # Only site administrators make shared templates: for them "no site" means shared.
        owner.required = not may_share
        owner.empty_label = "Shared by every site" if may_share else None


# --- The preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewField:
    """A field of the schema as the preview shows it; row fields carry their columns."""

    field: Field
    columns: tuple[str, ...]

    @property
    def input_id(self) -> str:
        return f"preview-{self.field.section}-{self.field.key}"


@dataclass(frozen=True)
class PreviewSection:
    key: str
    title: str
    fields: list[PreviewField] = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    """The form a schema describes, or the SchemaError that stops it."""

    sections: list[PreviewSection] = field(default_factory=list)
    error: str = ""


def preview_of(schema: Any) -> Preview:
    try:
        validate_schema(schema)
    except SchemaError as exc:
        return Preview(error=str(exc))
    by_section: dict[str, list[PreviewField]] = {}
    for item in fields_of(schema):
        by_section.setdefault(item.section, []).append(PreviewField(item, ROW_COLUMNS.get(item.type, ())))
    return Preview(
        sections=[
            PreviewSection(key=section["key"], title=section["title"], fields=by_section[section["key"]])
            for section in schema["sections"]
        ]
    )


def preview_of_text(text: str) -> Preview:
    form = SchemaForm({"schema": text})
    if not form.is_valid():
        return Preview(error=" ".join(str(message) for message in form.errors.get("schema", ["Enter the schema."])))
    return preview_of(form.cleaned_data["schema"])
