"""Shapes of the toxicity API. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField, confirm_date_field
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from carecoord.text_limits import NOTE_MAX_LENGTH
from referrals.serializers import PersonBriefSerializer
from toxicity.assessment import CRS_INPUTS, ICANS_INPUTS, Circumstances, InputError, grade_assessment
from toxicity.grading import (
    CAPD_MAX,
    CONSCIOUSNESS_LEVELS,
    EDEMA_FINDINGS,
    MOTOR_FINDINGS,
    OXYGEN_SUPPORT,
    SEIZURE_TYPES,
)
from toxicity.models import (
    ASTCT_KINDS,
    Alert,
    ManufacturerReport,
    ToxicityAssessment,
    ToxicityEvent,
    ToxicityKind,
    ToxicityTreatment,
)

# The same leeway as `toxicity_record` gives the onset, for clocks a little ahead.


def _choices(table: dict[str, tuple[int, str]]) -> list[tuple[str, str]]:
    return [(value, text) for value, (_, text) in table.items()]


# --- Output ---------------------------------------------------------------------------------


class FeverMaskingSerializer(DirectOutput, serializers.ModelSerializer[ToxicityTreatment]):
    """The treatment after which a CRS no longer needs fever to be graded (ASTCT)."""

    class Meta:
        model = ToxicityTreatment
        fields = ["id", "kind", "given_at"]


class AssessmentSerializer(DirectOutput, serializers.ModelSerializer[ToxicityAssessment]):
    """One grading in the course of an event, with what was entered."""

    assessed_by = PersonBriefSerializer()
    site = SiteBriefSerializer()
    inputs = serializers.DictField(help_text="The structured inputs (CRS, ICANS); empty for a CTCAE grade.")
    fever_masked_by = FeverMaskingSerializer(
        allow_null=True,
        help_text="CRS: the tocilizumab, siltuximab, anakinra or steroid given before this assessment, after "
        "which fever was no longer required (inputs.fever_masked is then true).",
    )

    class Meta:
        model = ToxicityAssessment
        fields = ["id", "assessed_at", "assessed_by", "site", "grade", "reason", "inputs", "fever_masked_by", "note"]


class TreatmentSerializer(DirectOutput, serializers.ModelSerializer[ToxicityTreatment]):
    recorded_by = PersonBriefSerializer()
    site = SiteBriefSerializer()

    class Meta:
        model = ToxicityTreatment
        fields = ["id", "kind", "given_at", "detail", "recorded_by", "site"]


class EventAlertSerializer(DirectOutput, serializers.ModelSerializer[Alert]):
    """Who was alerted about the event, and whether and by whom it was acknowledged."""

    recipient_name = serializers.CharField(source="recipient.full_name")
    site = SiteBriefSerializer()
    acknowledged_by = PersonBriefSerializer(allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "recipient_name",
            "site",
            "reason",
            "grade",
            "created_at",
            "escalated_at",
            "acknowledged_at",
            "acknowledged_by",
        ]


# What a summary shows of the event's relations, read with it.
EVENT_SUMMARY_RELATIONS = ("reporting_site", "reported_by")


class ToxicityEventSummarySerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[ToxicityEvent]):
    """An event as listed: its kind, grade, timing and state, and the link to it (`url`), where
    its course, treatments and alerts are. Expects events from `toxicity_events_visible_to`."""

    url = DetailLinkField("api:toxicity-event-list", help_text="The event, with its course, treatments and alerts.")
    kind_label = serializers.SerializerMethodField()
    grading_system = serializers.ChoiceField(choices=[("ASTCT", "ASTCT"), ("CTCAE", "CTCAE")], read_only=True)
    onset_day = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Day +N of the onset from the patient's day 0 as it is now."
    )
    day_label = serializers.SerializerMethodField(help_text='"day +N" of the onset from the infusion, if infused.')
    atypical_reason = serializers.CharField(
        read_only=True, help_text="Why the timing is unusual (CRS before day 0, a first CRS after day +14), or empty."
    )
    reporting_site = SiteBriefSerializer()
    reported_by = PersonBriefSerializer()

    class Meta:
        model = ToxicityEvent
        fields = [
            "id",
            "url",
            "patient",
            "kind",
            "kind_label",
            "grading_system",
            "grade",
            "highest_grade",
            "grade_reason",
            "onset_at",
            "onset_day",
            "day_label",
            "atypical_reason",
            "infection_site",
            "organism",
            "status",
            "resolved_on",
            "outcome",
            "note",
            "reporting_site",
            "reported_by",
            "created_at",
            "updated_at",
        ]

    def get_kind_label(self, event: ToxicityEvent) -> str:
        return event.get_kind_display()

    def get_day_label(self, event: ToxicityEvent) -> str | None:
        return event.day_label or None


class ManufacturerReportSerializer(DirectOutput, serializers.ModelSerializer[ManufacturerReport]):
    """That a secondary malignancy was reported to the product's manufacturer: when, to whom, by whom."""

    recorded_by = PersonBriefSerializer()
    site = SiteBriefSerializer()

    class Meta:
        model = ManufacturerReport
        fields = ["id", "reported_at", "reported_to", "reference", "recorded_by", "site", "created_at"]


class ToxicityEventSerializer(ToxicityEventSummarySerializer):
    """An event with its course, treatments and alerts (prefetched: `toxicity.selectors.event_prefetches`)."""

    assessments = AssessmentSerializer(many=True, help_text="The course of the grade, oldest first.")
    treatments = TreatmentSerializer(many=True)
    alerts = EventAlertSerializer(many=True, help_text="Every alert sent about the event, newest first.")
    manufacturer_report = serializers.SerializerMethodField(
        help_text="A secondary malignancy: its report to the manufacturer once recorded, else null."
    )

    @extend_schema_field(ManufacturerReportSerializer(allow_null=True))
    def get_manufacturer_report(self, event: ToxicityEvent) -> dict[str, Any] | None:
        report = getattr(event, "manufacturer_report", None)
        return ManufacturerReportSerializer(report).data if report is not None else None

    class Meta(ToxicityEventSummarySerializer.Meta):
        fields = [
            *ToxicityEventSummarySerializer.Meta.fields[:-2],
            "assessments",
            "treatments",
            "alerts",
            "manufacturer_report",
            "created_at",
            "updated_at",
        ]


class AlertSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[Alert]):
    """One of the requesting user's alerts (the in-app notifications)."""

    patient = serializers.UUIDField(source="event.patient_id")
    kind = serializers.ChoiceField(source="event.kind", choices=ToxicityKind.choices, read_only=True)
    site = SiteBriefSerializer(help_text="The site the alert was sent for.")
    acknowledged_by = PersonBriefSerializer(allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "event",
            "patient",
            "kind",
            "site",
            "reason",
            "grade",
            "created_at",
            "escalate_at",
            "escalated_at",
            "acknowledged_at",
            "acknowledged_by",
        ]


# --- Input ----------------------------------------------------------------------------------


class _InputsSerializer(serializers.Serializer[Any]):
    """Structured inputs of one kind; an unknown name or an impossible value is an error on it."""

    kind: str
    names: tuple[str, ...]

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.names))
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"Not an input of the {self.kind.upper()} assessment."] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The grading itself says what it cannot grade (nasal cannula without a flow...). The
        # instrument is the one the inputs use; whether it fits the patient's age is the service's.
        try:
            grade_assessment(self.kind, dict(attrs), circumstances=Circumstances(pediatric="capd_score" in attrs))
        except InputError as exc:
            raise serializers.ValidationError({exc.field: [exc.plain]}) from None
        return attrs


class CRSInputsSerializer(_InputsSerializer):
    """What the ASTCT consensus grades CRS from; findings attributable to another cause stay out."""

    kind = ToxicityKind.CRS
    names = CRS_INPUTS

    temperature_c = serializers.FloatField(
        allow_null=True, help_text="Highest temperature in the period graded; null when not recorded."
    )
    fever_masked = serializers.BooleanField(
        required=False, help_text="Antipyretic or anti-cytokine therapy given, so fever is no longer required."
    )
    hypotension = serializers.BooleanField(required=False)
    # The upper bounds only catch typing slips (40 for 4); the grading engine has none.
    vasopressors = serializers.IntegerField(
        required=False, min_value=0, max_value=10, help_text="How many vasopressors other than vasopressin."
    )
    vasopressin = serializers.BooleanField(required=False)
    oxygen = serializers.ChoiceField(choices=_choices(OXYGEN_SUPPORT), required=False)
    oxygen_flow_l_min = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="Required for a nasal cannula (> 6 is high flow).",
    )


class ICEItemsSerializer(serializers.Serializer[Any]):
    """The five items of the ICE test, when it was scored item by item."""

    orientation = serializers.IntegerField(min_value=0, max_value=4, help_text="Year, month, city, hospital: 0-4.")
    naming = serializers.IntegerField(min_value=0, max_value=3, help_text="Three objects named: 0-3.")
    follows_commands = serializers.BooleanField()
    writes_sentence = serializers.BooleanField()
    counts_backwards = serializers.BooleanField(help_text="From 100 by 10.")


class ICANSInputsSerializer(_InputsSerializer):
    """What the ASTCT consensus grades ICANS from; sedation is not depressed consciousness."""

    kind = ToxicityKind.ICANS
    names = (*ICANS_INPUTS, "capd_score")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "capd_score" in attrs and ({"ice_score", "ice_items"} & set(attrs)):
            raise serializers.ValidationError(
                {"capd_score": ["Send the CAPD (12 and under) or the ICE score, not both."]}
            )
        return super().validate(attrs)

    capd_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=CAPD_MAX,
        help_text="Children 12 and under, instead of the ICE score: the CAPD total 0-32 (higher is worse); "
        "null when the CAPD could not be done.",
    )
    ice_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10,
        help_text="ICE score 0-10; null when it could not be done. May be left out when `ice_items` are given.",
    )
    ice_items = ICEItemsSerializer(
        required=False, help_text="The ICE items one by one; the score is what they add up to, and they are kept."
    )
    consciousness = serializers.ChoiceField(choices=_choices(CONSCIOUSNESS_LEVELS), required=False)
    seizure = serializers.ChoiceField(choices=_choices(SEIZURE_TYPES), required=False)
    motor = serializers.ChoiceField(choices=_choices(MOTOR_FINDINGS), required=False)
    cerebral_edema = serializers.ChoiceField(choices=_choices(EDEMA_FINDINGS), required=False)


INPUTS_SERIALIZERS: dict[str, type[_InputsSerializer]] = {
    ToxicityKind.CRS: CRSInputsSerializer,
    ToxicityKind.ICANS: ICANSInputsSerializer,
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="AssessmentInputs",
        serializers=[CRSInputsSerializer, ICANSInputsSerializer],
        resource_type_field_name=None,
    )
)
class AssessmentInputsField(serializers.DictField):
    """The structured inputs; which ones depends on the kind, so the form is checked in `validate`."""


class _GradedInputSerializer(serializers.Serializer[Any]):
    """Either structured inputs (CRS, ICANS: ASTCT) or a grade (other kinds: CTCAE)."""

    assessment = AssessmentInputsField(
        required=False, help_text="For CRS and ICANS: the structured inputs the ASTCT grade is computed from."
    )
    grade = serializers.IntegerField(
        required=False, min_value=1, max_value=5, help_text="For every other kind: the CTCAE grade 1-5."
    )

    def _kind(self, attrs: dict[str, Any]) -> str:
        raise NotImplementedError

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = self._kind(attrs)
        label = ToxicityKind(kind).label
        if kind in ASTCT_KINDS:
            if "grade" in attrs:
                raise serializers.ValidationError({"grade": f"{label} is graded from `assessment` (ASTCT)."})
            if "assessment" not in attrs:
                raise serializers.ValidationError({"assessment": f"{label} needs the assessment it is graded from."})
            inputs = INPUTS_SERIALIZERS[kind](data=attrs["assessment"])
            if not inputs.is_valid():
                raise serializers.ValidationError({"assessment": inputs.errors})
            attrs["inputs"] = dict(inputs.validated_data)
        else:
            if "assessment" in attrs:
                raise serializers.ValidationError({"assessment": f"{label} is graded by CTCAE: send `grade`."})
            if "grade" not in attrs:
                raise serializers.ValidationError({"grade": f"{label} needs a CTCAE grade from 1 to 5."})
            attrs["ctcae_grade"] = attrs["grade"]
        attrs.pop("assessment", None)
        attrs.pop("grade", None)
        return attrs


class ToxicityRecordSerializer(_GradedInputSerializer):
    """A new event: CRS and ICANS with `assessment`, every other kind with a CTCAE `grade`."""

    patient = VisiblePatientField()
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, which records the event."
    )
    kind = serializers.ChoiceField(choices=ToxicityKind.choices)
    onset_at = serializers.DateTimeField(
        help_text="Not in the future nor before the date of birth; day +N is counted from it."
    )
    confirm_date = confirm_date_field()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    infection_site = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    organism = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)

    def _kind(self, attrs: dict[str, Any]) -> str:
        return str(attrs["kind"])


class ToxicityAssessInputSerializer(_GradedInputSerializer):
    """A new grading of the event; its kind (in `context["kind"]`) says which inputs it takes."""

    site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="Your site, which assesses.")
    assessed_at = serializers.DateTimeField(help_text="Not in the future nor before the date of birth.")
    confirm_date = confirm_date_field()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)

    def _kind(self, attrs: dict[str, Any]) -> str:
        return str(self.context["kind"])


class ToxicityTreatmentInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="Your site, which gave it.")
    kind = serializers.ChoiceField(choices=ToxicityTreatment.Kind.choices)
    given_at = serializers.DateTimeField(help_text="Not in the future nor before the date of birth.")
    confirm_date = confirm_date_field()
    detail = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Dose, drug or unit."
    )


class ToxicityResolveInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="Your site, which records it.")
    resolved_on = serializers.DateField()
    outcome = serializers.ChoiceField(
        choices=[(value, label) for value, label in ToxicityEvent.Outcome.choices if value != "ongoing"]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    confirm_date = confirm_date_field()


class ManufacturerReportInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="Your site, which reported it.")
    reported_at = serializers.DateTimeField(help_text="When the report was made; not in the future.")
    reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120, help_text="The manufacturer's case number."
    )
    confirm_date = confirm_date_field()
