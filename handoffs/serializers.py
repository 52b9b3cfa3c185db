"""Shapes of the hand-off API. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplate, HandoffTemplateVersion
from handoffs.schema import FIELD_TYPES, MAX_ROWS, ROW_COLUMNS, fields_of
from handoffs.selectors import templates_visible_to
from handoffs.services import QUESTION_MAX_LENGTH
from referrals.serializers import PersonBriefSerializer

# More keys than any template has fields: a bigger map is a mistake or an attack.
MAX_VALUE_KEYS = 500


def schema_paths(schema: dict[str, Any]) -> set[str]:
    return {field.path for field in fields_of(schema)}


def normalized_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A valid schema with every optional key filled in, and the columns of row fields."""
    fields = fields_of(schema)
    return {
        "sections": [
            {
                "key": section["key"],
                "title": section["title"],
                "fields": [
                    {
                        "key": field.key,
                        "path": field.path,
                        "label": field.label,
                        "type": field.type,
                        "required": field.required,
                        "help": field.help,
                        "choices": list(field.choices),
                        "prefill": field.prefill,
                        "columns": list(ROW_COLUMNS.get(field.type, ())),
                    }
                    for field in fields
                    if field.section == section["key"]
                ],
            }
            for section in schema["sections"]
        ]
    }


# --- Output ---------------------------------------------------------------------------------


class SchemaFieldSerializer(serializers.Serializer[Any]):
    """One field of a template version. Its value in a hand-off is keyed by `path`."""

    key = serializers.CharField()
    path = serializers.CharField(help_text='"section.field": the key of this field in a hand-off\'s values.')
    # `label`, `required`, `fields` and `errors` shadow attributes of DRF's classes in the stubs only:
    # the serializer metaclass takes declared fields off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=FIELD_TYPES)
    required = serializers.BooleanField(  # type: ignore[assignment]
        help_text="Required to send the hand-off (a draft may leave it empty)."
    )
    help = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField(), help_text="The options of a choice field.")
    prefill = serializers.CharField(allow_blank=True, help_text="What carecoord fills in when a hand-off starts.")
    columns = serializers.ListField(
        child=serializers.CharField(),
        help_text=f"For medication_list and lab_schedule: the value is a list of up to {MAX_ROWS} rows "
        "(objects with these keys).",
    )


class SchemaSectionSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    title = serializers.CharField()
    fields = SchemaFieldSerializer(many=True)  # type: ignore[assignment]


class TemplateSchemaSerializer(serializers.Serializer[Any]):
    sections = SchemaSectionSerializer(many=True)


class TemplateVersionSerializer(serializers.ModelSerializer[HandoffTemplateVersion]):
    schema = serializers.SerializerMethodField()

    class Meta:
        model = HandoffTemplateVersion
        fields = ["id", "number", "status", "published_at", "schema"]

    @extend_schema_field(TemplateSchemaSerializer)
    def get_schema(self, version: HandoffTemplateVersion) -> dict[str, Any]:
        return normalized_schema(version.schema)


class HandoffTemplateSerializer(serializers.ModelSerializer[HandoffTemplate]):
    """A template with the version new hand-offs use.

    Expects templates with their published versions prefetched, newest first, as
    `published_versions` (see `handoffs.api.HandoffTemplateViewSet`).
    """

    owner_site = SiteBriefSerializer(allow_null=True, help_text="Null: shared by every site.")
    published_version = serializers.SerializerMethodField(help_text="Null until a version is published.")

    class Meta:
        model = HandoffTemplate
        fields = ["id", "name", "description", "owner_site", "published_version"]

    @extend_schema_field(TemplateVersionSerializer(allow_null=True))
    def get_published_version(self, template: HandoffTemplate) -> dict[str, Any] | None:
        versions: list[HandoffTemplateVersion] = template.published_versions  # type: ignore[attr-defined]
        if not versions:
            return None
        return dict(TemplateVersionSerializer(versions[0], context=self.context).data)


class TemplateBriefSerializer(DirectOutput, serializers.ModelSerializer[HandoffTemplate]):
    class Meta:
        model = HandoffTemplate
        fields = ["id", "name"]


class VersionBriefSerializer(DirectOutput, serializers.ModelSerializer[HandoffTemplateVersion]):
    class Meta:
        model = HandoffTemplateVersion
        fields = ["id", "number"]


class HandoffQuestionSerializer(DirectOutput, serializers.ModelSerializer[HandoffQuestion]):
    author = PersonBriefSerializer()
    site = SiteBriefSerializer(help_text="The site the message comes from.")
    kind = serializers.ChoiceField(
        choices=HandoffQuestion.Kind.choices,
        help_text="question: waits for the other site's answer; answer: closes the other site's open "
        "question; note: needs no answer.",
    )

    class Meta:
        model = HandoffQuestion
        fields = ["id", "author", "site", "kind", "body", "created_at"]


# The sites and people a hand-off names, as the summary and the detail show them.
HANDOFF_PARTIES = ("from_site", "to_site", "created_by", "sent_by", "acknowledged_by")


class HandoffSummarySerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[Handoff]):
    """A hand-off as listed: who hands what to whom, its state and deadlines, and the link to it
    (`url`), where its values, questions and schema are. Expects hand-offs from `handoffs_visible_to`."""

    url = DetailLinkField("api:handoff-list", help_text="The hand-off, with its values, questions and schema.")
    template = TemplateBriefSerializer(source="version.template")
    version = VersionBriefSerializer(help_text="The template version this hand-off was started from; it keeps it.")
    from_site = SiteBriefSerializer()
    to_site = SiteBriefSerializer()
    created_by = PersonBriefSerializer()
    sent_by = PersonBriefSerializer(allow_null=True)
    acknowledged_by = PersonBriefSerializer(allow_null=True)

    class Meta:
        model = Handoff
        fields = [
            "id",
            "url",
            "patient",
            "template",
            "version",
            "from_site",
            "to_site",
            "state",
            "created_by",
            "created_at",
            "updated_at",
            "sent_by",
            "sent_at",
            "acknowledge_by",
            "acknowledged_by",
            "acknowledged_at",
            "superseded_by",
        ]


class HandoffDetailSerializer(HandoffSummarySerializer):
    """A hand-off with its values, its questions and the schema of its version: what a client
    needs to fill it in. Expects `questions` prefetched (see `handoffs.api`)."""

    values = serializers.DictField(
        child=serializers.JSONField(), help_text='Keyed "section.field"; a draft keeps them as typed.'
    )
    questions = HandoffQuestionSerializer(many=True, help_text="Questions and answers between the sites, oldest first.")
    schema = serializers.SerializerMethodField()

    class Meta(HandoffSummarySerializer.Meta):
        fields = [*HandoffSummarySerializer.Meta.fields, "values", "questions", "schema"]

    @extend_schema_field(TemplateSchemaSerializer)
    def get_schema(self, handoff: Handoff) -> dict[str, Any]:
        return normalized_schema(handoff.version.schema)


class HandoffSavedSerializer(serializers.Serializer[Any]):
    handoff = HandoffDetailSerializer()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(),
        help_text='What is not right yet, by "section.field"; sending needs every required field too.',
    )


# --- Input ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class VisibleTemplateField(serializers.PrimaryKeyRelatedField[HandoffTemplate]):
    """A template id; one owned by a site the user does not work at reads as missing."""

    def get_queryset(self) -> Any:
        return templates_visible_to(self.context["request"].user)


class HandoffCreateSerializer(serializers.Serializer[Any]):
    patient = VisiblePatientField()
    template = VisibleTemplateField(help_text="The hand-off starts from its published version.")
    from_site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="Your site, sending.")
    to_site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="The other site of the patient's care team, receiving."
    )


class HandoffValuesSerializer(serializers.Serializer[Any]):
    """Values keyed "section.field"; expects the hand-off's field paths in `context["paths"]`."""

    values = serializers.DictField(
        child=serializers.JSONField(),
        allow_empty=True,
        help_text='Keyed "section.field": text, a date (YYYY-MM-DD), a number, one of the choices, '
        "true/false, or a list of rows for medication_list and lab_schedule.",
    )

    def validate_values(self, values: dict[str, Any]) -> dict[str, Any]:
        if len(values) > MAX_VALUE_KEYS:
            raise serializers.ValidationError(f"Send at most {MAX_VALUE_KEYS} values.")
        unknown = sorted(set(values) - self.context["paths"])
        if unknown:
            shown = ", ".join(key[:80] for key in unknown[:5]) + (", …" if len(unknown) > 5 else "")
            raise serializers.ValidationError(f"Not fields of this hand-off's template: {shown}.")
        return values


class HandoffQuestionInputSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=QUESTION_MAX_LENGTH, help_text="A question, or an answer to one.")
    # `default=None` also stands for the field missing from a form body (a plain BooleanField
    # would read that as false).
    needs_answer = serializers.BooleanField(
        default=None,
        allow_null=True,
        help_text="Whether the other site must answer. Left out or null: false when the other site's "
        "question waits for your site (the message answers it), true otherwise (a question); false "
        "with nothing waiting is a note.",
    )
