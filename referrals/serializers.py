"""Shapes of the referral API. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import (
    ColleagueField,
    DetailLinkField,
    SiteBriefSerializer,
    VisiblePatientField,
    confirm_date_field,
)
from carecoord.models import Patient, Product, TimelineEntry, User
from carecoord.reads import ShownWhenSerialized
from carecoord.records_on_file import records_on_file
from carecoord.roles import Capability
from carecoord.selectors.sites import sites_directory
from carecoord.services.comments import COMMENT_MAX_LENGTH
from carecoord.services.patients import PATIENT_EDITABLE_FIELDS
from carecoord.text_limits import NOTE_MAX_LENGTH, PRIOR_THERAPIES_MAX_LENGTH, REASON_MAX_LENGTH, STEP_TEXT_MAX_LENGTH
from referrals.milestones.kinds import PreparationKind, milestone_label
from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove
from referrals.readiness import ChecklistItem, checklist
from referrals.schedule import day_label
from referrals.services import REFERRAL_FIELDS
from referrals.workflow import STATE_LABELS, Move, Side, State, moves_available

MOVE_CHOICES = [(move.value, move.value.replace("_", " ").capitalize()) for move in Move]


def _day_label(infusion_on: dt.date | None, on: dt.date | None) -> str | None:
    if infusion_on is None or on is None:
        return None
    return day_label(infusion_on, on)


def _preparation_choices() -> list[tuple[str, str]]:
    return [(kind.value, milestone_label(kind)) for kind in PreparationKind]


# --- Output ---------------------------------------------------------------------------------


class PersonBriefSerializer(DirectOutput, serializers.ModelSerializer[User]):
    """Who did something: a name, no contact details."""

    class Meta:
        model = User
        fields = ["id", "full_name"]


class ProductBriefSerializer(DirectOutput, serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "short_name", "brand_name"]


class ReferralMoveSerializer(DirectOutput, serializers.ModelSerializer[ReferralMove]):
    actor = PersonBriefSerializer()
    site = SiteBriefSerializer()

    class Meta:
        model = ReferralMove
        fields = ["from_state", "to_state", "actor", "site", "at", "note"]


class DocumentSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[ReferralDocument]):
    kind = serializers.ChoiceField(choices=ReferralDocument.Kind.choices, read_only=True)
    name = serializers.CharField(source="original_name")
    uploaded_by = PersonBriefSerializer()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReferralDocument
        fields = [
            "id",
            "referral",
            "kind",
            "name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, document: ReferralDocument) -> str:
        return reverse("api:document-download", kwargs={"document_id": document.pk}, request=self.context["request"])


class ReferralSummarySerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[Referral]):
    """A referral as listed: where it stands and the moves the requesting user may make, and the
    link to it (`url`), where its history and documents are.

    Expects referrals from `referrals_visible_to` and in the context the user's `acting`
    capabilities by patient and site (`carecoord.access.acting_capabilities`).
    """

    url = DetailLinkField("api:referral-list", help_text="The referral, with its history and documents.")
    state_label = serializers.SerializerMethodField()
    from_site = SiteBriefSerializer()
    to_center = SiteBriefSerializer()
    referring_physician = PersonBriefSerializer()
    product = ProductBriefSerializer(allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Submitted and not acknowledged by the deadline.")
    available_moves = serializers.SerializerMethodField(help_text="Moves the requesting user may make now.")

    class Meta:
        model = Referral
        fields = [
            "id",
            "url",
            "patient",
            "from_site",
            "to_center",
            "referring_physician",
            *sorted(REFERRAL_FIELDS),
            "state",
            "state_label",
            "decline_reason",
            "product",
            "hand_back_day",
            "created_at",
            "submitted_at",
            "acknowledge_by",
            "acknowledged_at",
            "overdue",
            "available_moves",
        ]

    def get_state_label(self, referral: Referral) -> str:
        return STATE_LABELS[State(referral.state)]

    def get_overdue(self, referral: Referral) -> bool:
        return referral.is_acknowledgement_overdue()

    # Inline, so that the `move` input's MoveEnum stays the one name of this choice set.
    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": [move.value for move in Move]}})
    def get_available_moves(self, referral: Referral) -> list[str]:
        # As the service decides: each move is its side's, and the role at that side's site
        # must record care (`carecoord.access.acting`).
        acting: dict[int, set[str]] = self.context["acting"].get(referral.patient_id, {})
        sides = [
            side
            for side, site_id in ((Side.CENTER, referral.to_center_id), (Side.PRACTICE, referral.from_site_id))
            if Capability.RECORD_CARE in acting.get(site_id, ())
        ]
        return [move.value for side in sides for move in moves_available(State(referral.state), side)]


class ChecklistItemSerializer(DirectOutput, serializers.Serializer[ChecklistItem]):
    """One item of the referral's checklist (`referrals.readiness`): advisory, never a gate."""

    kind = serializers.ChoiceField(choices=ReferralDocument.Kind.choices, read_only=True)
    name = serializers.CharField(source="label", read_only=True)
    needed = serializers.BooleanField(
        read_only=True, help_text="The center will need it to evaluate a patient of the referral's disease."
    )
    what = serializers.CharField(read_only=True, help_text="What the center looks for in it (empty when not needed).")
    on_file = serializers.BooleanField(read_only=True, help_text="A document of this kind, or a record that holds it.")
    documents = serializers.IntegerField(read_only=True, help_text="Documents of this kind attached.")
    records = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What the patient's records hold for it, in words (the prior lines: the treatment history).",
    )


class ReferralSerializer(ReferralSummarySerializer):
    """A referral with its history, documents and checklist (`moves` and `documents` prefetched,
    see `referrals.api`)."""

    moves = ReferralMoveSerializer(many=True, help_text="The history of the referral, oldest first.")
    documents = DocumentSerializer(many=True)
    checklist = serializers.SerializerMethodField(
        help_text="Each checklist item: whether the center needs it for the disease, and whether it is on file."
    )

    class Meta(ReferralSummarySerializer.Meta):
        fields = [*ReferralSummarySerializer.Meta.fields[:-1], "moves", "documents", "checklist", "available_moves"]

    @extend_schema_field(ChecklistItemSerializer(many=True))
    def get_checklist(self, referral: Referral) -> Any:
        kinds = [document.kind for document in referral.documents.all()]
        items = checklist(referral.disease_area, kinds, records_on_file(referral.patient_id))
        return ChecklistItemSerializer(items, many=True).data


class MilestoneSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[Milestone]):
    """A milestone; `day_label` needs `infusion_on` annotated (see `with_infusion_date`)."""

    patient = serializers.UUIDField(source="referral.patient_id", read_only=True)
    kind_label = serializers.SerializerMethodField()
    given_at = SiteBriefSerializer(allow_null=True)
    day_label = serializers.SerializerMethodField(help_text='"day +N" from the infusion, once it is planned.')
    conflict = serializers.CharField(
        read_only=True, help_text="Why the planned date no longer fits the course (empty when it fits)."
    )
    conflict_open = serializers.BooleanField(
        source="has_open_conflict", read_only=True, help_text="A conflict nobody has confirmed yet."
    )
    conflict_confirmation = serializers.CharField(read_only=True, help_text="Why the date was kept despite it.")

    class Meta:
        model = Milestone
        fields = [
            "id",
            "referral",
            "patient",
            "kind",
            "kind_label",
            "planned_on",
            "actual_on",
            "status",
            "manual",
            "given_at",
            "note",
            "done_note",
            "day_label",
            "conflict",
            "conflict_open",
            "conflict_confirmation",
            "updated_at",
        ]

    def get_kind_label(self, milestone: Milestone) -> str:
        return milestone_label(milestone.kind)

    def get_day_label(self, milestone: Milestone) -> str | None:
        infusion_on = self.context.get("infusion_on", getattr(milestone, "infusion_on", None))
        return _day_label(infusion_on, milestone.actual_on or milestone.planned_on)


class TimelineEntrySerializer(DirectOutput, serializers.ModelSerializer[TimelineEntry]):
    """One entry; `day_label` is the day of the entry in the zone of `context["zone"]`."""

    kind = serializers.ChoiceField(choices=TimelineEntry.Kind.choices, read_only=True)
    site = SiteBriefSerializer(allow_null=True)
    actor_name = serializers.CharField(source="actor.full_name", allow_null=True, default=None)
    day_label = serializers.SerializerMethodField(help_text='"day +N" from the infusion, once it is planned.')

    class Meta:
        model = TimelineEntry
        fields = ["id", "kind", "occurred_at", "title", "body", "site", "actor_name", "day_label"]

    def get_day_label(self, entry: TimelineEntry) -> str | None:
        on = timezone.localdate(entry.occurred_at, self.context["zone"])
        return _day_label(self.context["infusion_on"], on)


class ReferralBriefSerializer(DirectOutput, serializers.ModelSerializer[Referral]):
    to_center = SiteBriefSerializer()
    from_site = SiteBriefSerializer()

    class Meta:
        model = Referral
        fields = ["id", "state", "from_site", "to_center", "created_at"]


class PatientTimelineSerializer(serializers.Serializer[Any]):
    """The shared timeline of one patient: a page of its entries (`count`, `next`, `previous` and
    `results`, as every list of the API) and, on every page, its whole planned course
    (`referrals.selectors.PatientTimeline`)."""

    count = serializers.IntegerField(help_text="Entries in the whole timeline.")
    next = serializers.URLField(allow_null=True, help_text="The next page of entries (newer), if any.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page of entries (older), if any.")
    results = TimelineEntrySerializer(many=True, help_text="This page of what happened, oldest first.")
    patient = serializers.UUIDField(source="patient.pk")
    infusion_on = serializers.DateField(allow_null=True)
    referrals = ReferralBriefSerializer(many=True)
    milestones = MilestoneSerializer(many=True)
    upcoming = MilestoneSerializer(many=True, help_text="Planned milestones from today on (at most five).")
    overdue = MilestoneSerializer(many=True, help_text="Planned milestones whose date has passed.")


# --- Input ----------------------------------------------------------------------------------


class NewPatientSerializer(serializers.ModelSerializer[Patient]):
    """A patient registered at the referring practice together with the referral."""

    mrn = serializers.CharField(max_length=64, help_text="The patient's MRN at the referring practice.")

    class Meta:
        model = Patient
        fields = ["mrn", *sorted(PATIENT_EDITABLE_FIELDS)]


class ReferralCreateSerializer(serializers.ModelSerializer[Referral]):
    patient = VisiblePatientField(required=False, help_text="An existing patient; or send `new_patient`.")
    new_patient = NewPatientSerializer(required=False, help_text="Register a new patient at `from_site`.")
    from_site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your community practice, on the patient's care team."
    )
    to_center = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="An academic CAR-T center.")
    referring_physician = ColleagueField(help_text="A physician at `from_site`.")

    class Meta:
        model = Referral
        fields = ["patient", "new_patient", "from_site", "to_center", "referring_physician", *sorted(REFERRAL_FIELDS)]
        extra_kwargs = {
            "reason": {"max_length": REASON_MAX_LENGTH},
            "prior_therapies": {"max_length": PRIOR_THERAPIES_MAX_LENGTH},
        }
        # The one-open-referral rule is the service's to check, with its own message.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("patient" in attrs) == ("new_patient" in attrs):
            message = "Send either an existing patient or a new patient, not both."
            if "patient" not in attrs:
                message = "Choose a patient or register a new one."
            raise serializers.ValidationError({"patient": message})
        return attrs


class ReferralMoveInputSerializer(serializers.Serializer[Any]):
    move = serializers.ChoiceField(choices=MOVE_CHOICES)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    decline_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH, help_text="For decline."
    )
    consult_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="For schedule_consult.")


class DocumentUploadSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ReferralDocument.Kind.choices)
    file = serializers.FileField(help_text="PDF, PNG, JPEG or TIFF, within the size limit.")


class InfusionInputSerializer(serializers.Serializer[Any]):
    infusion_on = serializers.DateField(help_text="Day 0.")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=STEP_TEXT_MAX_LENGTH,
        help_text="Required when an infusion date moves.",
    )
    confirm_date = confirm_date_field()


class TreatmentPlanSerializer(serializers.Serializer[Any]):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_active=True), allow_null=True, help_text="The CAR-T product, or null."
    )
    hand_back_day = serializers.IntegerField(
        min_value=1, max_value=90, help_text="Planned hand-back, day after infusion."
    )


class MilestonePlanSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=_preparation_choices())
    planned_on = serializers.DateField()
    given_at = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=STEP_TEXT_MAX_LENGTH)
    confirm_date = confirm_date_field()


class MilestoneCompleteSerializer(serializers.Serializer[Any]):
    actual_on = serializers.DateField(help_text="Not in the future nor before the date of birth.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=STEP_TEXT_MAX_LENGTH)
    confirm_date = confirm_date_field()


class MilestoneCorrectSerializer(serializers.Serializer[Any]):
    actual_on = serializers.DateField(help_text="The day the step was really done: not in the future.")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=STEP_TEXT_MAX_LENGTH, help_text="Why it is corrected."
    )
    confirm_date = confirm_date_field()


class MilestoneMoveSerializer(serializers.Serializer[Any]):
    planned_on = serializers.DateField()
    reason = serializers.CharField(max_length=STEP_TEXT_MAX_LENGTH, help_text="Why the date moves.")
    confirm_date = confirm_date_field()


class MilestoneConfirmSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        max_length=STEP_TEXT_MAX_LENGTH, help_text="Why the date stays although it conflicts with the course."
    )


class MilestoneCancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=STEP_TEXT_MAX_LENGTH, help_text="Why the milestone is cancelled.")


class CommentInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site on the patient's care team, which the comment comes from."
    )
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH)
