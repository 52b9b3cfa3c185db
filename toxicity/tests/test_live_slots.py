"""Every input of every assessment has the slot the live grade writes its sentence into: the
preview sends one out of band for each input (`grade_preview`), and htmx logs an error for
each slot the page lacks (the ICE and CAPD methods, radio groups written by hand, had none)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from toxicity.forms import CTCAEForm, ICANSChildForm, assessment_form_class

FIELDSETS = {
    "crs": "toxicity/_crs_fieldset.html",
    "icans": "toxicity/_icans_fieldset.html",
    "icans_child": "toxicity/_icans_capd_fieldset.html",
    "ctcae": "toxicity/_ctcae_fieldset.html",
}


@pytest.mark.parametrize(
    ("name", "form_class"),
    [
        ("crs", assessment_form_class("crs")),
        ("icans", assessment_form_class("icans")),
        ("icans_child", ICANSChildForm),
        ("ctcae", CTCAEForm),
    ],
)
@pytest.mark.parametrize("auto_id", ["id_%s", "id_assess_%s"])
def test_each_input_has_its_live_slot(name: str, form_class: type, auto_id: str) -> None:
    form = form_class(auto_id=auto_id)
    html = render_to_string(FIELDSETS[name], {"inputs": form})
    missing = [field.auto_id for field in form if not field.is_hidden and f'id="{field.auto_id}_live"' not in html]
    assert missing == []


def test_a_crs_whose_fever_is_masked_keeps_the_slot_of_the_box_it_does_not_ask() -> None:
    """Once a treatment masks fever the box is replaced by a note; the live grade still sends
    the box's slot, which htmx reports as an error where the page lacks it."""
    form = assessment_form_class("crs")(auto_id="id_assess_%s")
    html = render_to_string(FIELDSETS["crs"], {"inputs": form, "masked_by": "tocilizumab given 2 Dec 2026, 07:00"})
    assert 'name="fever_masked"' not in html
    assert 'id="id_assess_fever_masked_live"' in html
