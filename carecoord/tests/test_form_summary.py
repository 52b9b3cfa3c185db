"""`{% form_top %}`: the error summary and required legend every form shows above its fields."""

from __future__ import annotations

from django import forms
from django.template import Context, Template
from django.test.html import parse_html

from carecoord.templatetags.form_summary import summary_entries


class Example(forms.Form):
    name = forms.CharField(label="Full name", max_length=5)
    side = forms.ChoiceField(label="Side", choices=[("a", "A")], widget=forms.RadioSelect)
    note = forms.CharField(label="Note", required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("note") == "bad":
            raise forms.ValidationError("The whole form is wrong.")
        return data


def render(form: forms.Form) -> str:
    return Template("{% load form_summary %}{% form_top form %}").render(Context({"form": form}))


def test_a_fresh_form_shows_only_the_legend() -> None:
    html = render(Example())
    assert "There is a problem" not in html
    assert "required</p>" in html and 'class="required-mark"' in html


def test_a_form_without_required_fields_has_no_legend() -> None:
    class Optional(forms.Form):
        note = forms.CharField(required=False)

    assert render(Optional()).strip() == ""


def test_errors_are_summarised_at_the_top_each_naming_and_linking_its_field() -> None:
    form = Example({"name": "far too long", "note": "bad", "token": ""})
    html = render(form)
    assert 'role="alert"' in html and 'tabindex="-1"' in html and "autofocus" in html
    assert "<h2" in html and "There is a problem" in html
    assert [(e.text.split(":")[0], e.href) for e in summary_entries(form)] == [
        ("The whole form is wrong.", ""),
        ("Full name", "#id_name"),
        ("Side", "#id_side_0"),
    ]
    assert parse_html('<a href="#id_name">Full name: Ensure this value has at most 5 characters (it has 12).</a>') in (
        parse_html(html)
    )


def test_an_error_on_a_hidden_field_is_listed_without_a_link() -> None:
    form = Example({"name": "Ann", "side": "a"})
    form.is_valid()
    form.add_error("token", "Expired.")
    assert [(e.text, e.href) for e in summary_entries(form)] == [("Token: Expired.", "")]
