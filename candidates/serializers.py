"""Shapes of the treatment history API. Output serializers render; input serializers only
parse, the services write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from candidates.drug_classes import DrugClass
from candidates.models import MAX_LINES, BestResponse, TherapyLine, TransplantCandidacy
from candidates.services import REASON_MAX_LENGTH, REGIMEN_MAX_LENGTH
from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from referrals.serializers import PersonBriefSerializer

# A line's values, as `candidates.services.therapy_line_record` takes them.
LINE_VALUES = (
    "number",
    "regimen",
    "drug_classes",
    "lenalidomide",
    "started_on",
    "ended_on",
    "best_response",
    "refractory",
    "progressed_on",
)


class TherapyLineSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[TherapyLine]):
    """A line of therapy the patient received. Expects lines from `candidates.selectors`."""

    url = DetailLinkField("api:therapy-line-list")
    drug_classes = serializers.ListField(child=serializers.ChoiceField(choices=DrugClass.choices))
    site = SiteBriefSerializer(help_text="The site that recorded it.")
    recorded_by = PersonBriefSerializer()

    class Meta:
        model = TherapyLine
        fields = ["id", "url", "patient", *LINE_VALUES, "site", "recorded_by", "created_at"]


class TherapyLineValuesSerializer(serializers.Serializer[Any]):
    """A line's values and the site that records them: a new line's, or a correction's (PUT
    sends them all, PATCH those it changes and the site, which then signs the line)."""

    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, that records it."
    )
    number = serializers.IntegerField(min_value=1, max_value=MAX_LINES, help_text="1 for the first line.")
    regimen = serializers.CharField(max_length=REGIMEN_MAX_LENGTH)
    drug_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=DrugClass.choices), allow_empty=False, max_length=len(DrugClass.values)
    )
    lenalidomide = serializers.BooleanField(required=False, default=False, help_text="The line included lenalidomide.")
    started_on = serializers.DateField()
    ended_on = serializers.DateField(required=False, allow_null=True, default=None)
    best_response = serializers.ChoiceField(
        choices=BestResponse.choices, required=False, default=BestResponse.NOT_ASSESSED
    )
    refractory = serializers.BooleanField(
        required=False,
        default=False,
        help_text="No response, or progression on the line or within 60 days of its last dose.",
    )
    progressed_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The relapse or progression, if any."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "site" not in attrs:  # a PATCH too says which of the user's sites signs the change
            raise serializers.ValidationError({"site": ["Name your site that records the change."]})
        return attrs


class TherapyLineInputSerializer(TherapyLineValuesSerializer):
    patient = VisiblePatientField()


class TransplantCandidacySerializer(
    ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[TransplantCandidacy]
):
    """Whether the patient is a transplant candidate: never a reason against CAR-T."""

    site = SiteBriefSerializer(help_text="The site that recorded it.")
    recorded_by = PersonBriefSerializer()

    class Meta:
        model = TransplantCandidacy
        fields = ["patient", "status", "reason", "site", "recorded_by", "updated_at"]


class TransplantCandidacyInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, that records it."
    )
    status = serializers.ChoiceField(choices=TransplantCandidacy.Status.choices)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


class PromptSerializer(serializers.Serializer[Any]):
    """One labelled use the history meets, or is one step from (advisory only)."""

    standing = serializers.ChoiceField(choices=[("meets", "Meets"), ("approaching", "One step from it")])
    rule = serializers.IntegerField(source="rule.id", help_text="The indication rule's id.")
    product = serializers.CharField(source="rule.product")
    summary = serializers.CharField(source="rule.summary", help_text="The labelled use in words.")
    why = serializers.CharField(help_text="Why it is met, or what one next event would do.")
    label_source = serializers.CharField(source="rule.source", help_text="The label the rule comes from, and its date.")


class CandidacySerializer(serializers.Serializer[Any]):
    """Whether the patient is, or is about to be, a CAR-T candidate: advisory, never a gate."""

    standing = serializers.ChoiceField(
        choices=[("meets", "Meets"), ("approaching", "One step from it")], allow_null=True
    )
    products = serializers.ListField(child=serializers.CharField())
    prompts = PromptSerializer(many=True)
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="Prior BCMA-directed therapy with its dates, for the center."
    )
