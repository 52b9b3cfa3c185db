"""Shapes of the infections API. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField, confirm_date_field
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from carecoord.text_limits import NOTE_MAX_LENGTH
from infections.models import InfectionEvent, ProphylaxisItem, VaccinationItem
from infections.services import ProphylaxisInput, VaccinationInput
from referrals.serializers import PersonBriefSerializer

# --- Output ---------------------------------------------------------------------------------


class InfectionSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[InfectionEvent]):
    """An infection with its day +N from the infusion; `toxicity_event` is the alert it raised, if severe."""

    url = DetailLinkField("api:infection-list", help_text="The infection.")
    day_label = serializers.CharField(read_only=True, help_text='"day +N" of the onset from the infusion, if infused.')
    reporting_site = SiteBriefSerializer()
    recorded_by = PersonBriefSerializer()

    class Meta:
        model = InfectionEvent
        fields = [
            "id",
            "url",
            "patient",
            "body_site",
            "organism",
            "category",
            "grade",
            "setting",
            "neutropenic_fever",
            "onset_on",
            "day_label",
            "resolved_on",
            "note",
            "toxicity_event",
            "reporting_site",
            "recorded_by",
            "created_at",
        ]


class ProphylaxisSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[ProphylaxisItem]):
    """A line of the prophylaxis plan."""

    url = DetailLinkField("api:prophylaxis-item-list", help_text="The prophylaxis item.")
    site = SiteBriefSerializer()

    class Meta:
        model = ProphylaxisItem
        fields = [
            "id",
            "url",
            "patient",
            "kind",
            "agent",
            "start_on",
            "planned_stop_on",
            "stop_condition",
            "stopped_on",
            "site",
            "created_at",
        ]


class VaccinationSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[VaccinationItem]):
    """A vaccine of the revaccination plan."""

    url = DetailLinkField("api:vaccination-list", help_text="The vaccination.")
    site = SiteBriefSerializer()

    class Meta:
        model = VaccinationItem
        fields = ["id", "url", "patient", "vaccine", "live", "due_on", "given_on", "site", "created_at"]


# --- Input ----------------------------------------------------------------------------------


def _site_field(help_text: str) -> serializers.PrimaryKeyRelatedField[Any]:
    return serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text=help_text)


class InfectionRecordSerializer(serializers.Serializer[Any]):
    patient = VisiblePatientField()
    site = _site_field("Your site, on the patient's care team, which records the infection.")
    body_site = serializers.ChoiceField(choices=InfectionEvent.BodySite.choices)
    organism = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    category = serializers.ChoiceField(choices=InfectionEvent.Category.choices, default=InfectionEvent.Category.UNKNOWN)
    grade = serializers.IntegerField(min_value=1, max_value=5, help_text="CTCAE v5 grade: 3 and above alerts.")
    setting = serializers.ChoiceField(choices=InfectionEvent.Setting.choices, help_text="ICU alerts.")
    neutropenic_fever = serializers.BooleanField(default=False, help_text="Fever while neutropenic: alerts.")
    onset_on = serializers.DateField(help_text="Not in the future nor before the date of birth.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    confirm_date = confirm_date_field()


class InfectionResolveSerializer(serializers.Serializer[Any]):
    site = _site_field("Your site, which records the end.")
    resolved_on = serializers.DateField()


class ProphylaxisAddSerializer(serializers.Serializer[Any]):
    patient = VisiblePatientField()
    site = _site_field("Your site, on the patient's care team.")
    kind = serializers.ChoiceField(choices=ProphylaxisItem.Kind.choices)
    agent = serializers.CharField(max_length=200)
    start_on = serializers.DateField()
    planned_stop_on = serializers.DateField(required=False, allow_null=True, default=None)
    stop_condition = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)

    def item(self) -> ProphylaxisInput:
        data = self.validated_data
        return ProphylaxisInput(
            kind=data["kind"],
            agent=data["agent"],
            start_on=data["start_on"],
            planned_stop_on=data["planned_stop_on"],
            stop_condition=data["stop_condition"],
        )


class ProphylaxisStopSerializer(serializers.Serializer[Any]):
    site = _site_field("Your site.")
    stopped_on = serializers.DateField()


class ProphylaxisReviewSerializer(serializers.Serializer[Any]):
    site = _site_field("Your site.")
    planned_stop_on = serializers.DateField(help_text="The new planned stop or review.")
    stop_condition = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class VaccinationAddSerializer(serializers.Serializer[Any]):
    patient = VisiblePatientField()
    site = _site_field("Your site, on the patient's care team.")
    vaccine = serializers.CharField(max_length=120)
    due_on = serializers.DateField()
    live = serializers.BooleanField(default=False, help_text="Live vaccines: not before 1 year after the infusion.")

    def item(self) -> VaccinationInput:
        data = self.validated_data
        return VaccinationInput(vaccine=data["vaccine"], due_on=data["due_on"], live=data["live"])


class VaccinationGivenSerializer(serializers.Serializer[Any]):
    site = _site_field("Your site.")
    given_on = serializers.DateField()


# --- The standard plan, proposed then confirmed ---------------------------------------------


class ProphylaxisLineSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ProphylaxisItem.Kind.choices)
    agent = serializers.CharField(max_length=200)
    start_on = serializers.DateField()
    planned_stop_on = serializers.DateField(required=False, allow_null=True, default=None)
    stop_condition = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ProposedProphylaxisSerializer(ProphylaxisLineSerializer):
    include = serializers.BooleanField(help_text="Proposed ticked: it applies to every patient.")


class VaccinationLineSerializer(serializers.Serializer[Any]):
    vaccine = serializers.CharField(max_length=120)
    due_on = serializers.DateField()
    live = serializers.BooleanField(default=False)


class ProposedVaccinationSerializer(VaccinationLineSerializer):
    include = serializers.BooleanField(help_text="Proposed ticked: live vaccines are not.")


class PlanProposalSerializer(serializers.Serializer[Any]):
    """The standard plan counted from day 0; nothing is kept until it is confirmed (POST)."""

    day_zero = serializers.DateField(allow_null=True, help_text="Null before an infusion is planned: no proposal.")
    lymphodepletion_on = serializers.DateField(allow_null=True)
    prophylaxis = ProposedProphylaxisSerializer(many=True)
    vaccinations = ProposedVaccinationSerializer(many=True)


class PlanConfirmSerializer(serializers.Serializer[Any]):
    """The lines the clinician keeps, as proposed or edited. A refused line is named by its place:
    `prophylaxis-1-planned_stop_on`."""

    site = _site_field("Your site, on the patient's care team.")
    prophylaxis = ProphylaxisLineSerializer(many=True, required=False, default=list)
    vaccinations = VaccinationLineSerializer(many=True, required=False, default=list)

    def lines(self) -> tuple[list[ProphylaxisInput], list[VaccinationInput]]:
        data = self.validated_data
        return (
            [ProphylaxisInput(**line) for line in data["prophylaxis"]],
            [VaccinationInput(**line) for line in data["vaccinations"]],
        )


class PlanConfirmedSerializer(serializers.Serializer[Any]):
    prophylaxis = ProphylaxisSerializer(many=True)
    vaccinations = VaccinationSerializer(many=True)
