"""Shapes of the labs API. Output serializers render; the input serializer only parses, the service writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import TextChoices
from rest_framework import serializers
from rest_framework.settings import api_settings

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField, confirm_date_field
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from labs.entry import MAX_LINES, Entry, EntryErrors, read_csv, read_pasted
from labs.forms import MAX_TEXT_CHARACTERS
from labs.kinds import KINDS, LabKind
from labs.models import LabFlagNotice, LabResult
from labs.units import PLAUSIBLE_MAX, UNIT_CHOICES, Reading, UnreadableValue, read_value, unit_factor
from referrals.serializers import PersonBriefSerializer


class NoticeSerializer(DirectOutput, serializers.ModelSerializer[LabFlagNotice]):
    """A point person told of the flagged value."""

    recipient_name = serializers.CharField(source="recipient.full_name")
    site = SiteBriefSerializer()
    acknowledged_by = PersonBriefSerializer(allow_null=True, help_text="Who at the site has seen it.")

    class Meta:
        model = LabFlagNotice
        fields = ["id", "recipient_name", "site", "role", "created_at", "acknowledged_at", "acknowledged_by"]


class LabResultSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[LabResult]):
    """A result in its kind's canonical unit, with what was entered and whether it was flagged.
    Expects results from `labs.selectors.lab_results_visible_to`."""

    url = DetailLinkField("api:lab-result-list", help_text="The result, with who was told of it if flagged.")
    site = SiteBriefSerializer(help_text="The site that measured it.")
    recorded_by = PersonBriefSerializer()
    flag_reason = serializers.CharField(read_only=True, help_text="Why it was flagged, or empty.")

    class Meta:
        model = LabResult
        fields = [
            "id",
            "url",
            "patient",
            "kind",
            "value",
            "unit",
            "entered_value",
            "entered_unit",
            "taken_on",
            "site",
            "recorded_by",
            "flagged",
            "flag_below",
            "flag_reason",
            "created_at",
        ]


class LabResultDetailSerializer(LabResultSerializer):
    notices = NoticeSerializer(many=True, help_text="Who was told of the flagged value, site by site.")

    class Meta(LabResultSerializer.Meta):
        fields = [*LabResultSerializer.Meta.fields, "notices"]


def _unit_help() -> str:
    return "; ".join(
        f"{LabKind(kind).label}: {', '.join(label for _, label in UNIT_CHOICES[kind])}" for kind in LabKind.values
    )


class ResultLineSerializer(serializers.Serializer[Any]):
    """One result as read from a report: its kind, value (in `unit`, or the kind's canonical one)
    and the day the sample was taken. Validated into `reading`, the value in the canonical unit."""

    kind = serializers.ChoiceField(choices=LabKind.choices)
    value = serializers.FloatField(min_value=0, help_text="The value in `unit`.")
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text=f"Empty: the kind's canonical unit ({', '.join(f'{k}: {i.unit}' for k, i in KINDS.items())}). "
        f"Accepted: {_unit_help()}.",
    )
    taken_on = serializers.DateField(help_text="The day the sample was taken.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind, value, unit = attrs["kind"], attrs["value"], attrs["unit"].strip()
        if unit and unit_factor(kind, unit) is None:
            raise serializers.ValidationError({"unit": f"Not a unit of {LabKind(kind).label}: use {_unit_help()}."})
        if unit:
            try:
                reading = read_value(kind, format(float(value), "f"), unit)
            except UnreadableValue as exc:
                raise serializers.ValidationError({"value": str(exc)}) from None
        else:
            if value > PLAUSIBLE_MAX[kind]:
                raise serializers.ValidationError(
                    {"value": f"{value:g} {KINDS[kind].unit} is not a plausible {LabKind(kind).label}."}
                )
            reading = Reading(value=value, entered_value=value, entered_unit=KINDS[kind].unit)
        attrs["reading"] = reading
        return attrs


class LabResultInputSerializer(ResultLineSerializer):
    """One result measured at your site on the patient's care team."""

    patient = VisiblePatientField()
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, which measured it."
    )
    confirm_date = confirm_date_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["entries"] = [Entry(0, attrs["kind"], attrs["reading"], attrs["taken_on"])]
        return attrs


class PatientNamedSerializer(serializers.Serializer[Any]):
    """The patient a write concerns, read before the rest of the body: the view loads it through
    the access path first (404 outside the user's scope, 403 for a role that may not record care)."""

    patient = serializers.UUIDField(help_text="The patient, on one of whose care-team sites you work.")


class TextFormat(TextChoices):
    PASTED = "pasted", "A block pasted from a report"
    CSV = "csv", "CSV with a header row"


def _line_messages(errors: dict[Any, Any]) -> list[str] | None:
    """The errors of a list of results, by index, as messages naming the line (1 for the first)
    and the field; None for errors of the list as a whole."""
    if not errors or not all(isinstance(index, int) for index in errors):
        return None
    messages = []
    for index, item in sorted(errors.items()):
        for name, texts in item.items() if isinstance(item, dict) else [(api_settings.NON_FIELD_ERRORS_KEY, item)]:
            where = f"Line {index + 1}" if name == api_settings.NON_FIELD_ERRORS_KEY else f"Line {index + 1}, {name}"
            messages += [f"{where}: {text}" for text in (texts if isinstance(texts, list) else [texts])]
    return messages


class LabResultBulkSerializer(PatientNamedSerializer):
    """Several results measured at your site: a list, or text read as the browser reads it (a block
    pasted from a report, or a CSV file's content). Validated into `entries` by `read_entries`."""

    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, which measured them."
    )
    results: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ResultLineSerializer(),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text=f"The results, one object each (at most {MAX_LINES}). Give this or `text`.",
    )
    text = serializers.CharField(
        required=False,
        # The entry page's limit for a pasted block: 500 lines of 80 characters. Also keeps a
        # form-encoded body of any characters under Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
        max_length=MAX_TEXT_CHARACTERS,
        trim_whitespace=False,
        help_text='The results as text; give this or `results`. `pasted`: one per line, "KIND VALUE [UNIT] [DATE]" '
        "(a line with only a date, YYYY-MM-DD or day +N, dates the lines below it). `csv`: a header row with the "
        f"columns kind, value, unit and taken_on. At most {MAX_LINES} lines.",
    )
    text_format = serializers.ChoiceField(
        choices=TextFormat.choices, default=TextFormat.PASTED, help_text="How `text` is written."
    )
    taken_on = serializers.DateField(
        required=False, default=None, help_text="For pasted lines that give no date of their own."
    )
    confirm_date = confirm_date_field()

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            lines = detail.get("results") if isinstance(detail, dict) else None
            if isinstance(detail, dict) and isinstance(lines, dict) and (messages := _line_messages(lines)):
                raise serializers.ValidationError({**detail, "results": messages}) from None
            raise

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("results", "text") if attrs.get(name)]
        if len(given) != 1:
            message = "Give either `results` or `text`, not both." if given else "Give `results` or `text`."
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
        return attrs

    def read_entries(self, *, day_zero: dt.date | None) -> tuple[str, list[Entry]]:
        """The entries, and the field they came from. A line the browser's reader cannot read is a
        400 on `text` naming its line, as on the entry page; nothing is saved."""
        data = self.validated_data
        if "results" in data:
            return "results", [
                Entry(number, line["kind"], line["reading"], line["taken_on"])
                for number, line in enumerate(data["results"], start=1)
            ]
        try:
            if data["text_format"] == TextFormat.CSV:
                return "text", read_csv(data["text"].encode(), day_zero=day_zero)
            return "text", read_pasted(data["text"], taken_on=data["taken_on"], day_zero=day_zero)
        except EntryErrors as exc:
            raise serializers.ValidationError({"text": exc.errors}) from None


class NotifiedSerializer(serializers.Serializer[Any]):
    """A point person told of the values flagged: once each, however many values."""

    recipient_name = serializers.CharField()
    site = SiteBriefSerializer(help_text="The site they were told as.")
    role = serializers.CharField(help_text="Primary, backup, or coordinator where the site names no primary.")
    emailed = serializers.BooleanField(help_text="False for whoever entered the values: not emailed what they entered.")


class LabBulkRecordedSerializer(serializers.Serializer[Any]):
    """What a bulk entry did."""

    recorded = LabResultDetailSerializer(many=True, help_text="The results recorded now.")
    repeated = serializers.IntegerField(help_text="How many of the results sent were already recorded.")
    already_recorded = LabResultSerializer(many=True, help_text="The results already recorded that were sent again.")
    notified = NotifiedSerializer(many=True, help_text="Who was told of the values flagged now.")
