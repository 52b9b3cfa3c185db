"""API shapes. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from carecoord.api.output import DirectOutput
from carecoord.models import (
    CareTeamLink,
    LateEffectWatchItem,
    Patient,
    PatientIdentifier,
    PointPerson,
    Product,
    Site,
    SiteMembership,
    User,
)
from carecoord.reads import ShownWhenSerialized
from carecoord.roles import Capability
from carecoord.selectors.patients import care_team_links_visible_to
from carecoord.selectors.sites import colleagues_of, sites_directory
from carecoord.services.patients import PATIENT_EDITABLE_FIELDS


def _request_user(field: serializers.Field[Any, Any, Any, Any]) -> AnyUser:
    return field.context["request"].user


# --- Output ---------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.URI)
class DetailLinkField(serializers.Field[Any, Any, str, Any]):
    """The absolute URL of an object's detail: its list's URL, reversed once per answer, and its id.

    A router's detail URL is its list's URL followed by the id, so a list of 50 links costs one
    `reverse`, not 50.
    """

    def __init__(self, list_view: str, **kwargs: Any) -> None:
        self.list_view = list_view
        self._list_url: str | None = None
        super().__init__(source="pk", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        if self._list_url is None:
            self._list_url = reverse(self.list_view, request=self.context.get("request"))
        return f"{self._list_url}{value}/"


class SiteSerializer(DirectOutput, serializers.ModelSerializer[Site]):
    class Meta:
        model = Site
        fields = ["id", "name", "kind", "time_zone", "address", "phone_24_7"]


class WatchItemSerializer(DirectOutput, serializers.ModelSerializer[LateEffectWatchItem]):
    class Meta:
        model = LateEffectWatchItem
        fields = ["name", "typical_timing", "action", "boxed_warning"]


class ProductSerializer(DirectOutput, serializers.ModelSerializer[Product]):
    """A product of the catalog with its label's rules, boxed warnings and late effects to watch."""

    boxed_warnings = serializers.ListField(
        source="boxed_warning_list", child=serializers.CharField(), help_text="One per boxed warning, as on the label."
    )
    watch_items = WatchItemSerializer(many=True, help_text="The late effects to watch for after this product.")

    class Meta:
        model = Product
        fields = [
            "id",
            "brand_name",
            "generic_name",
            "short_name",
            "target",
            "disease_areas",
            "is_active",
            "monitoring_days",
            "daily_monitoring_days",
            "stay_near_center_days",
            "no_driving_days",
            "manufacturer",
            "manufacturer_report_route",
            "boxed_warnings",
            "watch_items",
        ]


class SiteBriefSerializer(DirectOutput, serializers.ModelSerializer[Site]):
    class Meta:
        model = Site
        fields = ["id", "name", "kind", "phone_24_7"]


class MembershipSerializer(DirectOutput, serializers.ModelSerializer[SiteMembership]):
    site = SiteBriefSerializer()
    is_active = serializers.SerializerMethodField(help_text="Active today in the site's time zone.")

    class Meta:
        model = SiteMembership
        fields = ["id", "site", "role", "title", "starts_on", "ends_on", "is_active"]

    def get_is_active(self, membership: SiteMembership) -> bool:
        return membership.is_active_today()


class PersonSerializer(DirectOutput, serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "full_name", "email", "phone"]


class PointPersonBriefSerializer(DirectOutput, serializers.ModelSerializer[PointPerson]):
    user = PersonSerializer()

    class Meta:
        model = PointPerson
        fields = ["id", "rank", "user"]


class CareTeamLinkSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[CareTeamLink]):
    site = SiteBriefSerializer()
    point_persons = PointPersonBriefSerializer(many=True)

    class Meta:
        model = CareTeamLink
        fields = ["id", "patient", "site", "capacity", "joined_at", "ended_at", "is_open", "point_persons"]


class CareTeamMemberSerializer(DirectOutput, serializers.ModelSerializer[CareTeamLink]):
    """A site on a patient's open care team, as shown inside the patient."""

    site = SiteBriefSerializer()
    point_persons = PointPersonBriefSerializer(many=True)

    class Meta:
        model = CareTeamLink
        fields = ["id", "site", "capacity", "joined_at", "point_persons"]


class PointPersonSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[PointPerson]):
    user = PersonSerializer()
    patient = serializers.UUIDField(source="link.patient_id")
    site = SiteBriefSerializer(source="link.site")

    class Meta:
        model = PointPerson
        fields = ["id", "link", "patient", "site", "rank", "user"]


class IdentifierSerializer(DirectOutput, serializers.ModelSerializer[PatientIdentifier]):
    site = SiteBriefSerializer()

    class Meta:
        model = PatientIdentifier
        fields = ["site", "mrn"]


class PatientSummarySerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[Patient]):
    """A patient as listed: identifiers, what the requesting user may do, and the link to the
    patient (`url`), where the open care team and its point persons are.

    Expects patients with their identifiers prefetched and the user's capabilities in
    `context["capabilities"]` ({patient id: codenames}).
    """

    url = DetailLinkField("api:patient-list", help_text="The patient, with the open care team and point persons.")
    identifiers = IdentifierSerializer(many=True, source="listed_identifiers")
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "url",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "disease_area",
            "phase",
            "caregiver_name",
            "caregiver_relationship",
            "caregiver_phone",
            "identifiers",
            "capabilities",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices)))
    def get_capabilities(self, patient: Patient) -> list[str]:
        capabilities: dict[uuid.UUID, set[str]] = self.context["capabilities"]
        return sorted(capabilities.get(patient.pk, ()))


class PatientSerializer(PatientSummarySerializer):
    """A patient with open care team, identifiers and what the requesting user may do.

    Expects a patient from `patient_with_care_team` and the user's capabilities in
    `context["capabilities"]` ({patient id: codenames}).
    """

    care_team = CareTeamMemberSerializer(source="open_care_team", many=True)

    class Meta(PatientSummarySerializer.Meta):
        fields = [*PatientSummarySerializer.Meta.fields[:-4], "care_team", *PatientSummarySerializer.Meta.fields[-4:]]


# --- Input ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ColleagueField(serializers.PrimaryKeyRelatedField[User]):
    """A person working at one of the requesting user's sites; anyone else reads as missing."""

    def get_queryset(self) -> Any:
        return colleagues_of(_request_user(self))


# Output fields a client might try to write: refused with why, rather than silently ignored.
DERIVED_FIELDS = {"phase": "The phase follows from the referral and its milestones; it cannot be set."}


class RefusesDerivedFields(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            refused = {name: [message] for name, message in DERIVED_FIELDS.items() if name in data}
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class PatientUpdateSerializer(RefusesDerivedFields, serializers.ModelSerializer[Patient]):
    """The fields `patient_update` accepts; PATCH sends any of them."""

    class Meta:
        model = Patient
        fields = sorted(PATIENT_EDITABLE_FIELDS)


class PatientCreateSerializer(RefusesDerivedFields, serializers.ModelSerializer[Patient]):
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, where the patient is registered with its MRN."
    )
    mrn = serializers.CharField(max_length=64, help_text="The patient's MRN at `site`.")
    primary_point_person = ColleagueField(
        required=False, allow_null=True, help_text="Whom `site`'s alerts about the patient go to (recommended)."
    )
    backup_point_person = ColleagueField(required=False, allow_null=True, help_text="The primary's backup at `site`.")

    class Meta:
        model = Patient
        fields = ["site", "mrn", "primary_point_person", "backup_point_person", *sorted(PATIENT_EDITABLE_FIELDS)]


class VisiblePatientField(serializers.PrimaryKeyRelatedField[Patient]):
    """A patient id; one the user cannot see reads as missing, never as forbidden."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pk_field=serializers.UUIDField(), **kwargs)

    def get_queryset(self) -> Any:
        return patients_visible_to(_request_user(self))


class CareTeamLinkCreateSerializer(serializers.Serializer[CareTeamLink]):
    patient = VisiblePatientField()
    site = serializers.PrimaryKeyRelatedField(queryset=sites_directory(), help_text="The site that joins.")
    capacity = serializers.ChoiceField(choices=CareTeamLink.Capacity.choices)
    from_site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(),
        required=False,
        default=None,
        help_text="Your site that shares the patient, where your role manages the care team "
        "(by default the first such site).",
    )


@extend_schema_field(OpenApiTypes.INT)
class VisibleLinkField(serializers.PrimaryKeyRelatedField[CareTeamLink]):
    def get_queryset(self) -> Any:
        return care_team_links_visible_to(_request_user(self))


class PointPersonCreateSerializer(serializers.Serializer[PointPerson]):
    link = VisibleLinkField(help_text="The care-team link (site on the patient's care team).")
    user = ColleagueField(help_text="A person working at the link's site in a role that can act.")
    rank = serializers.ChoiceField(choices=PointPerson.Rank.choices)


def confirm_date_field() -> serializers.BooleanField:
    """The flag that keeps a date the service asked to confirm (`carecoord.clinical_dates`)."""
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text="true keeps a date a 400 answer asked to confirm (one far before the patient's first referral).",
    )
