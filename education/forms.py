"""Forms of the education pages. They only parse; the rules are `education.services`', whose
field errors are put back on the field of the same name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from carecoord.models.patients import Phase
from education.models import Audience, EducationMaterialVersion
from education.services import BODY_MAX_LENGTH, NAME_MAX_LENGTH, TITLE_MAX_LENGTH
from toxicity.forms import LocalDateTimeField, SiteForm


class MaterialContentForm(forms.Form):
    """A material's next version: its title and text."""

    title = forms.CharField(max_length=TITLE_MAX_LENGTH, error_messages={"required": "Give the material a title."})
    body = forms.CharField(
        label="Text",
        max_length=BODY_MAX_LENGTH,
        help_text="Plain words for the audience; a blank line starts a new paragraph.",
        error_messages={"required": "Write the material's text."},
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class MaterialCreateForm(MaterialContentForm):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="A short name for the list, e.g. “After discharge: fever”.",
        error_messages={"required": "Give the material a name."},
    )
    phase = forms.ChoiceField(
        choices=[("", "Choose"), *Phase.choices], error_messages={"required": "Choose the phase the material is for."}
    )
    audience = forms.ChoiceField(
        label="For",
        choices=[("", "Choose"), *Audience.choices],
        error_messages={"required": "Choose who the material is for."},
    )

    field_order = ["name", "phase", "audience", "title", "body"]


class EducationGivenForm(SiteForm):
    """That a material was taught, to whom and when, from one of the person's sites."""

    version = forms.TypedChoiceField(
        label="Material", coerce=int, error_messages={"required": "Choose the material taught."}
    )
    recipient = forms.ChoiceField(
        label="Given to",
        choices=[("", "Choose"), *Audience.choices],
        error_messages={"required": "Choose who was taught."},
    )
    given_at = LocalDateTimeField(label="Given at", help_text="Date and local time at your site.")

    def __init__(
        self, *args: Any, versions: Sequence[EducationMaterialVersion] = (), phase: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.versions = {version.pk: version for version in versions}
        # The materials of the patient's phase first: those are the ones taught now.
        ordered = sorted(versions, key=lambda v: v.material.phase != phase)
        field = cast(forms.TypedChoiceField, self.fields["version"])
        field.choices = [("", "Choose")] + [
            (
                v.pk,
                f"{v.title} ({v.material.get_phase_display()}, "
                f"{v.material.get_audience_display().lower()}, v{v.number})",
            )
            for v in ordered
        ]

    def chosen_version(self) -> EducationMaterialVersion:
        return self.versions[self.cleaned_data["version"]]
