"""Forms of the toxicity pages: recording an event, reassessing it, its treatments, its end.

They only parse what was entered. The grade is `toxicity.assessment.grade_assessment`'s and
the rules (who records from which site, no onset in the future, grade 0 is not an event)
belong to `toxicity.services`, whose field errors are put back on the field of the same name.
The structured assessment lives in one form per grading system (`CRSForm`, `ICANSForm`,
`CTCAEForm`), bound to the same POST data: only the one for the event's kind is validated, so
a half-filled fieldset of another kind never blocks a submission.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from carecoord.text_limits import NOTE_MAX_LENGTH
from carecoord.web.date_confirmation import ConfirmsDate
from carecoord.web.forms import DateInput, OwnSiteForm
from toxicity.grading import (
    CAPD_MAX,
    CONSCIOUSNESS_LEVELS,
    EDEMA_FINDINGS,
    MOTOR_FINDINGS,
    OXYGEN_SUPPORT,
    PLAIN,
    SEIZURE_TYPES,
    TEMPERATURE_RANGE_C,
    InvalidInput,
    ice_score,
)
from toxicity.models import ToxicityEvent, ToxicityKind, ToxicityTreatment

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
CTCAE_GRADES = [
    (1, "Grade 1 (mild)"),
    (2, "Grade 2 (moderate)"),
    (3, "Grade 3 (severe)"),
    (4, "Grade 4 (life-threatening)"),
    (5, "Grade 5 (death)"),
]


def _human(words: dict[str, tuple[int, str]]) -> list[tuple[str, str]]:
    """The words of `toxicity.grading` as values, its wording, capitalised, as labels."""
    return [(word, text[:1].upper() + text[1:]) for word, (_grade, text) in words.items()]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL)


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time, left naive: it is read in the time zone of the site chosen on the form,
    which is only known once the whole form is clean (`SiteForm.aware`)."""

    widget = LocalDateTimeInput

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value
        try:
            # A value with an offset keeps it; a wall-clock one is read in the site's zone.
            return dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def site_time_now(zone: zoneinfo.ZoneInfo) -> str:
    """Now in site time (`zone`), as a `datetime-local` input wants it."""
    return timezone.localtime(timezone=zone).strftime(DATETIME_LOCAL)


class SiteForm(OwnSiteForm, ConfirmsDate):
    """A form written as one of the user's sites on the care team (a single site is not
    asked); its date may need confirming (`ConfirmsDate`)."""

    site = forms.TypedChoiceField(label="Recording as", coerce=int)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The time zone times are entered in: the chosen site's, else the first one's."""
        pk = self.cleaned_data.get("site") if hasattr(self, "cleaned_data") else None
        site = self.sites.get(pk) if pk is not None else next(iter(self.sites.values()), None)
        return site.zone if site else zoneinfo.ZoneInfo("UTC")

    def aware(self, name: str) -> dt.datetime:
        value: dt.datetime = self.cleaned_data[name]
        return value if timezone.is_aware(value) else timezone.make_aware(value, self.zone)


# --- the structured assessment ----------------------------------------------------------------


class AssessmentForm(forms.Form):
    """What one grading system needs; `inputs` is what `grade_assessment` takes.

    A finding left out is the field's initial value (no oxygen, alert, no seizure...), as it is
    for `toxicity.grading`: a browser always sends them, another client need not.
    """

    DEFAULTED: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.IntegerField):  # FloatField is one too
                _typed_as_entered(name, field)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.DEFAULTED:
            if data.get(name) in ("", None):
                data[name] = self.fields[name].initial
        return data

    def inputs(self) -> dict[str, Any]:
        return {}

    def ctcae_grade(self) -> int | None:
        return None

    def first_error(self) -> tuple[str, str] | None:
        """The first field error as (field, message), to show next to the field in the live preview."""
        for name, errors in self.errors.items():
            if name in self.fields:
                return name, " ".join(str(e) for e in errors)
        return None


def _typed_as_entered(name: str, field: forms.IntegerField) -> None:
    """A number of the assessment is sent as typed and judged by the server alone, as the form
    posted is: a plain text box with a numeric keyboard, not a number input. The browser neither
    sends a number input's unreadable text ("38,5", "1e") as empty, which grades as if nothing
    had been measured, nor lets the live grade go out while a value is out of its min/max (the
    grade shown then stays that of the earlier value). Whatever is wrong with it is said in the
    field's own sentence, which names it."""
    decimal = isinstance(field, forms.FloatField)
    field.widget = forms.TextInput(
        attrs={"inputmode": "decimal" if decimal else "numeric", "autocomplete": "off", "spellcheck": "false"}
    )
    plain = PLAIN.get(name)
    if plain:
        field.error_messages = {**field.error_messages, "invalid": plain, "min_value": plain, "max_value": plain}


class CRSForm(AssessmentForm):
    DEFAULTED = ("oxygen",)

    temperature_c = forms.FloatField(
        label="Highest temperature (°C)",
        required=False,
        help_text="Between {:g} and {:g} °C; leave empty if not measured.".format(*TEMPERATURE_RANGE_C),
    )
    fever_masked = forms.BooleanField(label="Antipyretic or anti-cytokine therapy given for CRS", required=False)
    hypotension = forms.BooleanField(label="Hypotension", required=False)
    vasopressors = forms.IntegerField(
        label="Number of vasopressors other than vasopressin",
        required=False,
        min_value=0,
        initial=0,
    )
    vasopressin = forms.BooleanField(label="Vasopressin", required=False)
    oxygen = forms.ChoiceField(
        label="Oxygen support", choices=_human(OXYGEN_SUPPORT), initial="room_air", required=False
    )
    oxygen_flow_l_min = forms.FloatField(
        label="Oxygen flow (L/min)",
        required=False,
        help_text="Required for nasal cannula: up to 6 L/min is low flow, above 6 high flow.",
    )

    def inputs(self) -> dict[str, Any]:
        data = self.cleaned_data
        oxygen = data["oxygen"]
        return {
            "temperature_c": data["temperature_c"],
            "fever_masked": data["fever_masked"],
            "hypotension": data["hypotension"],
            "vasopressors": data["vasopressors"] or 0,
            "vasopressin": data["vasopressin"],
            "oxygen": oxygen,
            # The flow field is not shown for room air: a value left in it is not an input.
            "oxygen_flow_l_min": None if oxygen == "room_air" else data["oxygen_flow_l_min"],
        }


class ICANSForm(AssessmentForm):
    DEFAULTED = ("consciousness", "seizure", "motor", "cerebral_edema")

    ICE_METHODS = [
        ("score", "Enter the ICE score"),
        ("items", "Score the five ICE items"),
        ("not_assessed", "ICE could not be assessed"),
    ]

    ice_method = forms.ChoiceField(
        label="ICE score", choices=ICE_METHODS, required=False, initial="score", widget=forms.RadioSelect
    )
    ice_score = forms.IntegerField(
        label="ICE score (0-10)",
        required=False,
    )
    orientation = forms.TypedChoiceField(
        label="Orientation: year, month, city, hospital",
        choices=[("", "Choose"), *((n, f"{n} of 4") for n in range(5))],
        coerce=int,
        required=False,
        empty_value=None,
    )
    naming = forms.TypedChoiceField(
        label="Naming three objects",
        choices=[("", "Choose"), *((n, f"{n} of 3") for n in range(4))],
        coerce=int,
        required=False,
        empty_value=None,
    )
    follows_commands = forms.BooleanField(label="Follows simple commands", required=False)
    writes_sentence = forms.BooleanField(label="Writes a standard sentence", required=False)
    counts_backwards = forms.BooleanField(label="Counts backwards from 100 by 10", required=False)
    consciousness = forms.ChoiceField(
        label="Level of consciousness",
        choices=_human(CONSCIOUSNESS_LEVELS),
        initial="alert",
        required=False,
        help_text="Not from sedating drugs.",
    )
    seizure = forms.ChoiceField(label="Seizure", choices=_human(SEIZURE_TYPES), initial="none", required=False)
    motor = forms.ChoiceField(label="Motor findings", choices=_human(MOTOR_FINDINGS), initial="none", required=False)
    cerebral_edema = forms.ChoiceField(
        label="Raised intracranial pressure or cerebral edema",
        choices=_human(EDEMA_FINDINGS),
        initial="none",
        required=False,
    )

    ITEMS = ("orientation", "naming", "follows_commands", "writes_sentence", "counts_backwards")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("ice_method") or ""
        if not method:
            # A client that does not say how the score was found: infer it from what was filled.
            method = "score" if data.get("ice_score") is not None else "items"
            if method == "items" and data.get("orientation") is None and data.get("naming") is None:
                method = "score"
        data["ice_method"] = method
        if method == "score" and data.get("ice_score") is None and "ice_score" not in self.errors:
            self.add_error("ice_score", PLAIN["ice_score"])
        elif method == "items":
            for name in ("orientation", "naming"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, PLAIN[name])
            if not self.errors:
                try:
                    data["ice_score"] = ice_score(**{name: data[name] for name in self.ITEMS})
                except InvalidInput as exc:
                    self.add_error(exc.argument if exc.argument in self.fields else None, exc.plain)
        elif method == "not_assessed":
            data["ice_score"] = None
        return data

    def inputs(self) -> dict[str, Any]:
        data = self.cleaned_data
        inputs = {
            "ice_score": data["ice_score"],
            "consciousness": data["consciousness"],
            "seizure": data["seizure"],
            "motor": data["motor"],
            "cerebral_edema": data["cerebral_edema"],
        }
        if data["ice_method"] == "items":
            # Kept with the score: which items were missed matters as much as how many.
            inputs["ice_items"] = {name: data[name] for name in self.ITEMS}
        return inputs

    @classmethod
    def initial_from(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        """Initial values from a stored assessment: its items if it was entered item by item, else its score."""
        initial: dict[str, Any] = {
            name: inputs[name] for name in ("consciousness", "seizure", "motor", "cerebral_edema") if name in inputs
        }
        score = inputs.get("ice_score")
        items = inputs.get("ice_items")
        if isinstance(items, dict):
            initial["ice_method"] = "items"
            initial.update({name: items[name] for name in cls.ITEMS if name in items})
        else:
            initial["ice_method"] = "not_assessed" if "ice_score" in inputs and score is None else "score"
        initial["ice_score"] = score
        return initial


class ICANSChildForm(AssessmentForm):
    """ICANS at 12 years and under: the CAPD in place of the ICE test (ASTCT pediatric table)."""

    DEFAULTED = ("consciousness", "seizure", "motor", "cerebral_edema")

    CAPD_METHODS = [("score", "Enter the CAPD score"), ("not_possible", "The CAPD could not be done")]

    capd_method = forms.ChoiceField(
        label="CAPD (Cornell Assessment of Pediatric Delirium)",
        choices=CAPD_METHODS,
        required=False,
        initial="score",
        widget=forms.RadioSelect,
    )
    capd_score = forms.IntegerField(
        label=f"CAPD score (0-{CAPD_MAX})",
        required=False,
        help_text="Eight items scored 0-4; higher is worse. 1-8 is grade 1, 9 or more grade 3.",
    )
    consciousness = ICANSForm.base_fields["consciousness"]
    seizure = ICANSForm.base_fields["seizure"]
    motor = ICANSForm.base_fields["motor"]
    cerebral_edema = ICANSForm.base_fields["cerebral_edema"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        method = data.get("capd_method") or "score"
        data["capd_method"] = method
        if method == "not_possible":
            data["capd_score"] = None
        elif data.get("capd_score") is None and "capd_score" not in self.errors:
            self.add_error("capd_score", PLAIN["capd_score"])
        return data

    def inputs(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = ("capd_score", "consciousness", "seizure", "motor", "cerebral_edema")
        return {name: data[name] for name in names}

    @classmethod
    def initial_from(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {name: inputs[name] for name in cls.DEFAULTED if name in inputs}
        if "capd_score" in inputs:
            initial["capd_method"] = "not_possible" if inputs["capd_score"] is None else "score"
            initial["capd_score"] = inputs["capd_score"]
        return initial


class CTCAEForm(AssessmentForm):
    grade = forms.TypedChoiceField(
        label="CTCAE grade",
        choices=[("", "Choose"), *CTCAE_GRADES],
        coerce=int,
        required=False,
        empty_value=None,
    )

    def ctcae_grade(self) -> int | None:
        grade: int | None = self.cleaned_data["grade"]
        return grade


ASSESSMENT_FORMS: dict[str, type[AssessmentForm]] = {
    ToxicityKind.CRS: CRSForm,
    ToxicityKind.ICANS: ICANSForm,
}


def assessment_form_class(kind: str, *, pediatric: bool = False) -> type[AssessmentForm]:
    if kind == ToxicityKind.ICANS and pediatric:
        return ICANSChildForm
    return ASSESSMENT_FORMS.get(kind, CTCAEForm)


def assessment_forms(
    data: Any = None, *, active: str = "", auto_id: str = "id_%s", pediatric: bool = False
) -> dict[str, AssessmentForm]:
    """One form per grading system (their field names never clash). Only the `active` one is
    bound to `data`; the others keep what was typed in them as initial values, so that showing
    the page again neither loses it nor reports errors on an assessment that is not used.
    `pediatric`: ICANS is entered with the CAPD."""
    initial = data.dict() if data is not None and hasattr(data, "dict") else dict(data or {})
    icans = ICANSChildForm if pediatric else ICANSForm
    classes: dict[str, type[AssessmentForm]] = {"crs": CRSForm, "icans": icans, "ctcae": CTCAEForm}
    return {
        system: cls(data, auto_id=auto_id) if system == active else cls(auto_id=auto_id, initial=initial or None)
        for system, cls in classes.items()
    }


def system_of(kind: str) -> str:
    """Which of `assessment_forms` grades `kind`."""
    return kind if kind in ASSESSMENT_FORMS else "ctcae"


# --- the page forms ---------------------------------------------------------------------------


class RecordForm(SiteForm):
    """A new event: who records it, what it is and when it began (the assessment is separate)."""

    kind = forms.ChoiceField(
        label="Kind of toxicity",
        choices=[("", "Choose"), *ToxicityKind.choices],
        error_messages={"required": "Choose the kind of toxicity."},
    )
    onset_at = LocalDateTimeField(
        label="Onset",
        help_text="Date and local time at the recording site.",
        error_messages={"required": "Enter the onset."},
    )
    infection_site = forms.CharField(label="Site of infection", required=False, max_length=120)
    organism = forms.CharField(label="Organism", required=False, max_length=120, help_text="If known.")
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    new_episode = forms.BooleanField(
        label="This is a new episode, not the active one: record it as a second event",
        required=False,
    )

    def __init__(self, *args: Any, active: Sequence[ToxicityEvent] = (), **kwargs: Any) -> None:
        """`active`: the patient's active events (`ToxicityEvent.objects.active()`), already read
        for the page: one of the kind being recorded is almost always the same episode, entered
        again (often by the other site), and should be reassessed instead."""
        super().__init__(*args, **kwargs)
        self.active = list(active)

    @property
    def same_kind_active(self) -> ToxicityEvent | None:
        """The active event of the kind entered, which a new one would duplicate."""
        kind = getattr(self, "cleaned_data", {}).get("kind")
        return next((event for event in self.active if event.kind == kind), None)

    @property
    def asks_new_episode(self) -> bool:
        """The box is shown once the form asked (or while it is ticked), as `confirm_date` is."""
        return self.is_bound and (bool(self.data.get(self.add_prefix("new_episode"))) or "new_episode" in self.errors)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        duplicate = self.same_kind_active
        if duplicate is not None and not data.get("new_episode"):
            since = duplicate.onset_date
            self.add_error(
                "new_episode",
                ValidationError(
                    f"{duplicate.get_kind_display()} grade {duplicate.grade}, active since "
                    f"{since.day} {since:%b %Y} (recorded by {duplicate.reporting_site.name}), is probably "
                    "this episode: reassess it instead, or tick this box if it is a new one.",
                    code="active_same_kind",
                ),
            )
        return data


class PreviewForm(forms.Form):
    """Just the kind, to know which assessment form the live preview reads."""

    kind = forms.ChoiceField(choices=ToxicityKind.choices, error_messages={"required": "Choose the kind of toxicity."})


class ReassessForm(SiteForm):
    assessed_at = LocalDateTimeField(label="Assessed at", help_text="Date and local time at the recording site.")
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class TreatmentForm(SiteForm):
    kind = forms.ChoiceField(
        label="Treatment",
        choices=[("", "Choose"), *ToxicityTreatment.Kind.choices],
        error_messages={"required": "Choose the treatment."},
    )
    given_at = LocalDateTimeField(label="Given at", help_text="Date and local time at the recording site.")
    detail = forms.CharField(
        label="Detail (optional)",
        required=False,
        max_length=200,
        help_text="Dose, drug or unit, e.g. tocilizumab 8 mg/kg IV.",
    )


class ResolveForm(SiteForm):
    resolved_on = forms.DateField(label="Resolved on", widget=DateInput())
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose"), *((v, label) for v, label in ToxicityEvent.Outcome.choices if v != "ongoing")],
        error_messages={"required": "Choose how the event ended."},
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class ManufacturerReportForm(SiteForm):
    """When a secondary malignancy was reported to the product's manufacturer."""

    reported_at = LocalDateTimeField(label="Reported at", help_text="Date and local time the report was made.")
    reference = forms.CharField(label="Manufacturer's case number (optional)", required=False, max_length=120)
