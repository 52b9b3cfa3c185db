"""`{% form_top form %}`: what every form of the application shows above its fields.

After a failed submission, an error summary ("There is a problem") that links each error to
its field and takes the focus (static/js/carecoord.js; `autofocus` without script); and, when
the form has required fields, the legend of their marker. One place, so every form says it
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS

register = template.Library()


@dataclass(frozen=True)
class SummaryEntry:
    text: str
    href: str  # "#<id of the input>", or "" for an error of the whole form


def field_anchor(field: forms.BoundField) -> str:
    """The id of the element an error link moves to: the input, or the first of a radio group."""
    if field.id_for_label:
        return str(field.id_for_label)
    return f"{field.auto_id}_0" if field.auto_id else ""


def summary_entries(form: forms.BaseForm) -> list[SummaryEntry]:
    """Every error of `form`, in field order, each naming its field and linking to it."""
    entries = [SummaryEntry(str(message), "") for message in form.non_field_errors()]
    for name, field in form.fields.items():
        if name == NON_FIELD_ERRORS or name not in form.errors:
            continue
        bound = form[name]
        anchor = "" if field.widget.is_hidden else field_anchor(bound)
        label = bound.label or name.replace("_", " ").capitalize()
        for message in form.errors[name]:
            entries.append(SummaryEntry(f"{label}: {message}", f"#{anchor}" if anchor else ""))
    return entries


def has_required_field(form: forms.BaseForm) -> bool:
    return any(field.required and not field.widget.is_hidden for field in form.fields.values())


@register.inclusion_tag("_form_top.html")
def form_top(*forms_: forms.BaseForm | None, legend: bool = True) -> dict[str, Any]:
    """The error summary and the required legend of the forms posted together as one `<form>`
    (a toxicity and its assessment); a missing or unbound form adds nothing to the summary."""
    present = [form for form in forms_ if isinstance(form, forms.BaseForm)]
    return {
        "entries": [entry for form in present if form.is_bound for entry in summary_entries(form)],
        "legend": legend and any(has_required_field(form) for form in present),
    }
