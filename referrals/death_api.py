"""The API of a patient's death: read it, record or correct it, withdraw it if recorded in
error (`referrals.deaths`), as the death page does; the same rules, audit and emails."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from carecoord.api.schema import NOT_FOUND
from carecoord.api.serializers import SiteBriefSerializer
from carecoord.api.views import PATIENT_ID, PatientRecordView, actor_of
from carecoord.models import DeathCause, Patient, PatientDeath
from carecoord.models.deaths import DEATH_DETAIL_MAX_LENGTH
from carecoord.reads import ShownWhenSerialized, shown
from carecoord.selectors.sites import sites_directory
from referrals.deaths import WITHDRAW_REASON_MAX_LENGTH, death_of, death_record, death_withdraw
from referrals.serializers import PersonBriefSerializer


class DeathSerializer(ShownWhenSerialized, serializers.ModelSerializer[PatientDeath]):
    """That the patient died: the day, the primary cause, who recorded it for which site. With
    no death recorded, `recorded` is false and the other fields are null."""

    recorded = serializers.SerializerMethodField()

    # Each field is null while no death is recorded.
    died_on = serializers.DateField(allow_null=True)
    cause = serializers.ChoiceField(choices=DeathCause.choices, allow_null=True, help_text="The primary cause.")
    detail = serializers.CharField(allow_null=True)
    site = SiteBriefSerializer(allow_null=True, help_text="The site that recorded it.")
    recorded_by = PersonBriefSerializer(allow_null=True)
    recorded_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    non_relapse = serializers.BooleanField(
        allow_null=True, help_text="A cause other than relapse (and known): non-relapse mortality."
    )
    cancelled_steps = serializers.ListField(
        child=serializers.IntegerField(), help_text="The milestones the death cancelled (planned again if withdrawn)."
    )

    class Meta:
        model = PatientDeath
        fields = [
            "patient",
            "recorded",
            "died_on",
            "cause",
            "non_relapse",
            "detail",
            "site",
            "recorded_by",
            "recorded_at",
            "updated_at",
            "cancelled_steps",
        ]

    def get_recorded(self, death: PatientDeath) -> bool:
        return True


def _nothing_recorded(patient: Patient) -> dict[str, Any]:
    fields = DeathSerializer.Meta.fields
    return {name: None for name in fields} | {"patient": str(patient.pk), "recorded": False, "cancelled_steps": []}


class DeathInputSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, that records it."
    )
    died_on = serializers.DateField()
    cause = serializers.ChoiceField(choices=DeathCause.choices, help_text="The primary cause of death.")
    detail = serializers.CharField(max_length=DEATH_DETAIL_MAX_LENGTH, required=False, allow_blank=True, default="")


class DeathWithdrawSerializer(serializers.Serializer[Any]):
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, that withdraws it."
    )
    reason = serializers.CharField(max_length=WITHDRAW_REASON_MAX_LENGTH, help_text="Why it was recorded in error.")


class DeathView(PatientRecordView):
    """The patient's recorded death."""

    serializer_class = DeathSerializer

    @extend_schema(
        summary="The patient's recorded death",
        parameters=[PATIENT_ID],
        responses={200: DeathSerializer, 404: NOT_FOUND},
        description="With no death recorded, `recorded` is false and the other fields null.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        death = death_of(patient)
        if death is None:
            shown(patient, what="viewed the record of death")
            return Response(_nothing_recorded(patient))
        return Response(DeathSerializer(death).data)

    @extend_schema(
        summary="Record the patient's death, or correct the record, from your site on the care team",
        parameters=[PATIENT_ID],
        request=DeathInputSerializer,
        responses={200: DeathSerializer},
        description="The first record cancels the patient's planned steps and emails the care team's point persons.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        data = DeathInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        death = death_record(actor=actor_of(request), patient=patient, **data.validated_data)
        return Response(DeathSerializer(death).data)


class DeathWithdrawView(PatientRecordView):
    """Withdrawing a death recorded in error."""

    serializer_class = DeathWithdrawSerializer

    @extend_schema(
        summary="Withdraw a death recorded in error: the steps it cancelled are planned again",
        parameters=[PATIENT_ID],
        request=DeathWithdrawSerializer,
        responses={204: None},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        data = DeathWithdrawSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        death_withdraw(actor=actor_of(request), patient=patient, **data.validated_data)
        return Response(status=204)
