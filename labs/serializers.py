"""Shapes of the labs API. Output serializers render; the input serializer only parses, the service writes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField, confirm_date_field
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from labs.entry import Entry
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


class LabResultInputSerializer(serializers.Serializer[Any]):
    """One result measured at your site on the patient's care team."""

    patient = VisiblePatientField()
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, which measured it."
    )
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
    confirm_date = confirm_date_field()

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
        attrs["entries"] = [Entry(0, kind, reading, attrs["taken_on"])]
        return attrs
