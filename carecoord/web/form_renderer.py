"""The form renderer: Django's form templates, except a select, an input and a textarea,
written here; and the marks of a required field, given once here for every form of the
application.

Django renders each `<option>` through two templates (the option and its attributes). A
point-person or site choice lists hundreds of people, so one page spent most of its time in
those includes (about 0.1 ms each). An input or a textarea is two templates too (the widget's
own, which only includes `input.html`, and its attributes): about 1 ms each, a tenth of the
timeline page's template time for its few inputs. The markup is the same, attribute for
attribute (`carecoord/tests/test_form_renderer.py` compares it with Django's templates).
"""

from __future__ import annotations

import html
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
# Django's widget templates that are `{% include "django/forms/widgets/input.html" %}` and
# nothing else (the test reads each one to check it still is).
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)
LABEL_TEMPLATE = "django/forms/label.html"
REQUIRED_CLASS = "is-required"
# A radio button or a file input has no role that takes aria-required (axe: aria-allowed-attr);
# `required` is enough there.
NO_ARIA_REQUIRED = frozenset({"radio", "file", "hidden"})


def required_when_shown(field: Any) -> bool:
    """A field the form's own rule requires in the part of the form it stands in (the new
    patient's name, shown only for a new patient): marked like a required one. The form says
    `aria-required` on its widget itself: `required` would make the browser insist on it when
    hidden."""
    return bool(getattr(field, "required_when_shown", False))


def with_aria_required(context: dict[str, Any]) -> dict[str, Any]:
    widget = context.get("widget")
    if not isinstance(widget, dict) or not widget.get("attrs", {}).get("required"):
        return context
    if widget.get("type") in NO_ARIA_REQUIRED:
        return context
    return {**context, "widget": {**widget, "attrs": {**widget["attrs"], "aria-required": "true"}}}


def with_required_mark(context: dict[str, Any]) -> dict[str, Any]:
    """The label (or legend) of a required field gets the class that draws its mark (`*`, in
    CSS, with no text for assistive technology: `required` and `aria-required` say it); the
    label's own text is unchanged, so it still names the input exactly."""
    field = context.get("field")
    if field is None or field.is_hidden or not (field.field.required or required_when_shown(field.field)):
        return context
    attrs = dict(context.get("attrs") or {})
    attrs["class"] = f"{attrs.get('class', '')} {REQUIRED_CLASS}".strip()
    return {**context, "attrs": attrs}


def _attributes(attrs: dict[str, Any]) -> str:
    # As django/forms/widgets/attrs.html: False leaves the attribute out, True writes its name.
    return flatatt({name: value for name, value in attrs.items() if value is not False})


def escaped_text(value: Any) -> str:
    """`conditional_escape(value)` as a plain string, without its lazy-string wrapper: the same
    characters escaped (`html.escape`), safe strings kept as they are."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def written_attributes(attrs: dict[str, Any]) -> str:
    """As django/forms/widgets/attrs.html writes them: False leaves the attribute out, True
    writes its name alone, any other value (None too) its text."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {escaped_text(name)}")
        else:
            parts.append(f' {escaped_text(name)}="{escaped_text(value)}"')
    return "".join(parts)


def render_input(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/input.html: the value written unless it is None."""
    value = "" if widget["value"] is None else f' value="{escaped_text(widget["value"])}"'
    name, kind = escaped_text(widget["name"]), escaped_text(widget["type"])
    return mark_safe(f'<input type="{kind}" name="{name}"{value}{written_attributes(widget["attrs"])}>')  # noqa: S308 - every part is escaped


def render_textarea(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/textarea.html: its text after a newline, which browsers drop."""
    text = escaped_text(widget["value"]) if widget["value"] else ""
    name = escaped_text(widget["name"])
    return mark_safe(f'<textarea name="{name}"{written_attributes(widget["attrs"])}>\n{text}</textarea>')  # noqa: S308 - every part is escaped


def render_select(widget: dict[str, Any]) -> SafeString:
    # Each option is written with str.format of escaped text, not format_html: a point-person
    # select holds over a hundred options, and format_html's lazy-aware escaping of every part
    # was most of the filter form's time (8 ms of 10 on the dashboard).
    parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], mark_safe(_attributes(widget["attrs"])))]  # noqa: S308 - flatatt escapes
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(format_html('<optgroup label="{}">', group_name))
        for option in options:
            attrs = _attributes(option["attrs"]) if option["attrs"] else ""
            value, label = escaped_text(str(option["value"])), escaped_text(option["label"])
            parts.append(f'<option value="{value}"{attrs}>{label}</option>')
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        context = with_aria_required(context)
        if template_name == SELECT_TEMPLATE:
            return render_select(context["widget"])
        if template_name in INPUT_TEMPLATES:
            return render_input(context["widget"])
        if template_name == TEXTAREA_TEMPLATE:
            return render_textarea(context["widget"])
        if template_name == LABEL_TEMPLATE:
            context = with_required_mark(context)
        return super().render(template_name, context, request)
