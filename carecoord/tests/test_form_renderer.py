"""Selects written in Python are the markup Django's templates write, attribute for attribute."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from carecoord.web.form_renderer import FormRenderer


class Choices(forms.Form):
    site = forms.ChoiceField(choices=[("", "Choose…"), ("1", "Lakeside & Co <Center>"), ("2", 'The "Practice"')])
    grouped = forms.ChoiceField(
        choices=[("Centers", [("a", "Alpha"), ("b", "Beta")]), ("Practices", [("c", "Gamma")])], required=False
    )
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")], required=False)
    optional = forms.NullBooleanField(required=False)
    hidden_help = forms.ChoiceField(choices=[("1", "One")], disabled=True, help_text="Why it is fixed.")


@pytest.mark.parametrize(
    "data",
    [None, {"site": "2", "grouped": "b", "several": ["x", "z"], "optional": "true"}, {"site": "9"}],
    ids=["unbound", "chosen", "invalid"],
)
def test_each_select_is_the_markup_of_djangos_templates(data: dict[str, object] | None) -> None:
    for name in Choices.base_fields:
        # Ours adds aria-required to a required select (`test_required_fields_are_marked`).
        ours = str(Choices(data, renderer=FormRenderer())[name]).replace(' aria-required="true"', "")
        django = str(Choices(data, renderer=DjangoTemplates())[name])
        assert "<select" in ours
        assert parse_html(ours) == parse_html(django), name


def test_labels_and_values_are_escaped() -> None:
    html = str(Choices(renderer=FormRenderer())["site"])
    assert "Lakeside &amp; Co &lt;Center&gt;" in html
    assert "<Center>" not in html


def test_the_projects_forms_use_it() -> None:
    assert isinstance(Choices().renderer, FormRenderer)


class Marked(forms.Form):
    name = forms.CharField(label="Name")
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea)
    side = forms.ChoiceField(label="Side", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    scan = forms.FileField(label="Scan")
    secret = forms.CharField(widget=forms.HiddenInput)


def test_required_fields_are_marked_once_by_the_renderer() -> None:
    form = Marked(label_suffix="")
    name = str(form["name"].as_field_group())
    # The label keeps its exact text (it names the input); a class draws the mark.
    assert '<label for="id_name" class="is-required">Name</label>' in name
    assert 'aria-required="true"' in name and " required" in name
    note = str(form["note"].as_field_group())
    assert "is-required" not in note and "aria-required" not in note and " required" not in note
    # A radio group is marked on its legend; radios and file inputs take `required` only.
    side = str(form["side"].as_field_group())
    assert '<legend class="is-required">Side</legend>' in side
    assert "aria-required" not in side and " required" in side
    scan = str(form["scan"].as_field_group())
    assert "is-required" in scan and "aria-required" not in scan and " required" in scan
    assert "is-required" not in str(form["secret"])


def test_a_required_select_says_so_to_assistive_technology() -> None:
    html = str(Choices(renderer=FormRenderer())["site"])
    assert 'aria-required="true"' in html
    assert 'aria-required="true"' not in str(Choices(renderer=FormRenderer())["grouped"])


def test_a_field_required_only_where_it_is_shown_is_marked_too() -> None:
    class Conditional(forms.Form):
        mrn = forms.CharField(label="MRN", required=False)

        def __init__(self) -> None:
            super().__init__(label_suffix="")
            self.fields["mrn"].required_when_shown = True  # type: ignore[attr-defined]

    html = str(Conditional()["mrn"].as_field_group())
    assert '<label for="id_mrn" class="is-required">MRN</label>' in html
    assert " required" not in html  # the browser must not insist on it where it is hidden


class Inputs(forms.Form):
    name = forms.CharField(label="Name", max_length=20, help_text="As <written>.")
    count = forms.IntegerField(required=False, min_value=0)
    when = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date", "data-x": None}))
    at = forms.DateTimeField(required=False)
    email = forms.EmailField(required=False, disabled=True)
    flag = forms.BooleanField(required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "hx-get": "/a?b=1&c=2"}))
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    token = forms.CharField(required=False, widget=forms.HiddenInput)
    phone = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "tel", "autofocus": True}))
    scan = forms.FileField(required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {
            "name": 'O\'Brien & "Sons" <b>',
            "count": "0",
            "when": "2026-12-06",
            "at": "2026-12-06 10:30",
            "flag": "on",
            "note": "Line one\n<script>x</script>",
            "secret": "p&ss",
            "token": 'a"b',
            "phone": "+1 555",
        },
        {"name": "", "count": "-3", "when": "not a date", "note": ""},
    ],
    ids=["unbound", "filled", "invalid"],
)
def test_each_input_and_textarea_is_the_markup_of_djangos_templates(data: dict[str, object] | None) -> None:
    for name in Inputs.base_fields:
        form = Inputs(data, renderer=FormRenderer())
        if data is not None:
            form.is_valid()  # errors add aria-invalid, as on a page sent back
        ours = str(form[name]).replace(' aria-required="true"', "")
        django = str(Inputs(data, renderer=DjangoTemplates())[name]) if data is None else _bound_django(data, name)
        assert "<input" in ours or "<textarea" in ours
        assert ours == django, name  # the very characters, not only the same HTML


def _bound_django(data: dict[str, object], name: str) -> str:
    form = Inputs(data, renderer=DjangoTemplates())
    form.is_valid()
    return str(form[name])


def test_each_input_template_written_here_is_only_djangos_input() -> None:
    from carecoord.web.form_renderer import INPUT_TEMPLATES

    for template_name in INPUT_TEMPLATES:
        # The template the renderer would use: Django's, or one a project puts in its place.
        source = FormRenderer().get_template(template_name).template.source.strip()
        assert source == '{% include "django/forms/widgets/input.html" %}', template_name


def test_an_inputs_value_and_attributes_are_escaped() -> None:
    form = Inputs({"name": '"><script>alert(1)</script>'}, renderer=FormRenderer())
    html = str(form["name"])
    assert "<script>" not in html
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'hx-get="/a?b=1&amp;c=2"' in str(Inputs(renderer=FormRenderer())["note"])
