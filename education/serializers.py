"""Shapes of the education API. Output serializers render; input serializers only parse, services write."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from carecoord.api.output import DirectOutput
from carecoord.api.serializers import DetailLinkField, SiteBriefSerializer, VisiblePatientField, confirm_date_field
from carecoord.reads import ShownWhenSerialized
from carecoord.selectors.sites import sites_directory
from education.models import Audience, EducationGiven, EducationMaterial, EducationMaterialVersion
from referrals.serializers import PersonBriefSerializer


class MaterialVersionSerializer(DirectOutput, serializers.ModelSerializer[EducationMaterialVersion]):
    """One version of a material: never changed once saved."""

    class Meta:
        model = EducationMaterialVersion
        fields = ["id", "number", "title", "body", "created_at"]


class MaterialVersionBriefSerializer(DirectOutput, serializers.ModelSerializer[EducationMaterialVersion]):
    material = serializers.IntegerField(source="material_id", read_only=True)
    material_name = serializers.CharField(source="material.name", read_only=True)

    class Meta:
        model = EducationMaterialVersion
        fields = ["id", "material", "material_name", "number", "title"]


class MaterialSerializer(DirectOutput, serializers.ModelSerializer[EducationMaterial]):
    """A material with its versions, newest (the one taught now) first."""

    url = DetailLinkField("api:education-material-list")
    versions = MaterialVersionSerializer(many=True)

    class Meta:
        model = EducationMaterial
        fields = ["id", "url", "name", "phase", "audience", "versions"]


class EducationGivenSerializer(ShownWhenSerialized, DirectOutput, serializers.ModelSerializer[EducationGiven]):
    """That a material version was taught: to whom, by whom, from which site, when."""

    url = DetailLinkField("api:education-given-list")
    version = MaterialVersionBriefSerializer()
    given_by = PersonBriefSerializer()
    site = SiteBriefSerializer()

    class Meta:
        model = EducationGiven
        fields = ["id", "url", "patient", "version", "recipient", "given_at", "given_by", "site", "created_at"]


class EducationGivenInputSerializer(serializers.Serializer[Any]):
    patient = VisiblePatientField()
    site = serializers.PrimaryKeyRelatedField(
        queryset=sites_directory(), help_text="Your site, on the patient's care team, which taught it."
    )
    version = serializers.PrimaryKeyRelatedField(
        queryset=EducationMaterialVersion.objects.select_related("material"),
        help_text="The material version taught (a material's `versions[].id`).",
    )
    recipient = serializers.ChoiceField(choices=Audience.choices, help_text="Who was taught.")
    given_at = serializers.DateTimeField(help_text="Not in the future nor before the date of birth.")
    confirm_date = confirm_date_field()
