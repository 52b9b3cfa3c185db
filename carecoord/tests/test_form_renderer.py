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
        ours = str(Choices(data, renderer=FormRenderer())[name])
        django = str(Choices(data, renderer=DjangoTemplates())[name])
        assert "<select" in ours
        assert parse_html(ours) == parse_html(django), name


def test_labels_and_values_are_escaped() -> None:
    html = str(Choices(renderer=FormRenderer())["site"])
    assert "Lakeside &amp; Co &lt;Center&gt;" in html
    assert "<Center>" not in html


def test_the_projects_forms_use_it() -> None:
    assert isinstance(Choices().renderer, FormRenderer)
