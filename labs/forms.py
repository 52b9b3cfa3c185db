"""Forms of lab entry: one result, a pasted block, a CSV file. They only parse; the rules of
recording (who, from which site, which dates) are `labs.services`'."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from carecoord.web.date_confirmation import ConfirmsDate
from carecoord.web.forms import DateInput, OwnSiteForm
from labs.entry import MAX_LINES, Entry, EntryErrors, read_csv, read_pasted
from labs.kinds import LabKind
from labs.units import UNIT_CHOICES, UnreadableValue, read_value

MAX_CSV_BYTES = 512 * 1024
MAX_TEXT_CHARACTERS = MAX_LINES * 80  # a pasted block, or CSV text through the API
ALL_UNITS = list(dict.fromkeys(label.split(" (")[0] for choices in UNIT_CHOICES.values() for _, label in choices))
TAKEN_ON_HELP = "The day the sample was taken."


class ResultForm(OwnSiteForm, ConfirmsDate):
    """One result, as read from a report."""

    site = forms.TypedChoiceField(label="Measured at", coerce=int)
    kind = forms.ChoiceField(label="Value", choices=[("", "Choose…"), *LabKind.choices])
    value = forms.CharField(label="Result", max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit = forms.ChoiceField(
        label="Unit",
        required=False,
        choices=[("", "As written (see the help)"), *[(u, u) for u in ALL_UNITS]],
        help_text="Empty: read as reports print it (ANC 0.4 is 0.4 x 10^9/L; Hb 85 is 85 g/L). "
        "Choose the unit when in doubt.",
    )
    taken_on = forms.DateField(label="Taken on", widget=DateInput(), help_text=TAKEN_ON_HELP)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_one_%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, value = data.get("kind"), data.get("value")
        if kind and value:
            unit = next((key for key, label in UNIT_CHOICES[kind] if label.split(" (")[0] == data.get("unit")), None)
            if data.get("unit") and unit is None:
                self.add_error("unit", f"{data['unit']} is not a unit of {LabKind(kind).label}.")
                return data
            try:
                data["reading"] = read_value(kind, value, unit or "")
            except UnreadableValue as exc:
                self.add_error("value", str(exc))
        return data

    def entries(self) -> list[Entry]:
        data = self.cleaned_data
        return [Entry(0, data["kind"], data["reading"], data["taken_on"])]


class BatchForm(OwnSiteForm, ConfirmsDate):
    """Several results at once, read in `clean` into `entries` (a date may be day +N from `day_zero`)."""

    site = forms.TypedChoiceField(label="Measured at", coerce=int)

    def __init__(self, *args: Any, day_zero: dt.date | None = None, prefix_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{prefix_id}_%s")
        super().__init__(*args, **kwargs)
        self.day_zero = day_zero

    def entries(self) -> list[Entry]:
        entries: list[Entry] = self.cleaned_data["entries"]
        return entries


class PasteForm(BatchForm):
    """Several results pasted from a report, one per line."""

    text = forms.CharField(
        label="Results, one per line",
        max_length=MAX_TEXT_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="For example: ANC 0.4 · PLT 18 · Hb 6.8 g/dL · IgG 350 mg/dL 2026-12-01 · CD4 150 day +30. "
        "A line with only a date (YYYY-MM-DD or day +N) applies to the lines below it.",
        error_messages={"required": "Paste or type at least one result."},
    )
    taken_on = forms.DateField(
        label="Taken on", widget=DateInput(), help_text="For lines that give no date of their own."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix_id="paste", **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("text") and "taken_on" in data:
            try:
                data["entries"] = read_pasted(data["text"], taken_on=data["taken_on"], day_zero=self.day_zero)
            except EntryErrors as exc:
                self.add_error("text", ValidationError(exc.errors))
        return data


class CsvForm(BatchForm):
    """Results from a CSV file with a header row: kind, value, unit, taken_on."""

    file = forms.FileField(
        label="CSV file",
        help_text="A header row with the columns kind, value, unit and taken_on (YYYY-MM-DD or day +N); "
        "one result per row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix_id="csv", **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                self.add_error("file", f"The file is larger than {MAX_CSV_BYTES // 1024} KB: split it.")
                return data
            try:
                data["entries"] = read_csv(upload.read(), day_zero=self.day_zero)
            except EntryErrors as exc:
                self.add_error("file", ValidationError(exc.errors))
        return data


ENTRY_FORMS: dict[str, type[ResultForm | PasteForm | CsvForm]] = {"one": ResultForm, "paste": PasteForm, "csv": CsvForm}
# Where a service's error on the date goes on each form.
DATE_FIELD = {"one": "taken_on", "paste": "text", "csv": "file"}
_LINE = re.compile(r"^Line (\d+): ")


def dates_on(error: ValidationError, field: str, *, name_field: bool = False) -> ValidationError:
    """The service's errors on the lines' dates (`taken_on`, each "Line 3: ...") moved onto
    `field`, where the lines were written; `name_field` says which of the line's fields it was
    ("Line 3, taken_on: ...") for lines written as objects. Other errors are left as they are."""
    if field == "taken_on" or not hasattr(error, "error_dict") or "taken_on" not in error.error_dict:
        return error
    errors = dict(error.error_dict)
    dates = ValidationError(errors.pop("taken_on")).messages
    if name_field:
        dates = [_LINE.sub(r"Line \1, taken_on: ", message) for message in dates]
    return ValidationError({field: dates, **errors})
