"""The demo's showcase patient (`carecoord.demo.handed_back_patient`) exported with `$everything`:
every resource parses back as FHIR R4 (the `fhir.resources` R4B models), as an EHR would read it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from carecoord.demo import handed_back_patient
from carecoord.models import SiteMembership
from carecoord.roles import Role
from fhir_api.export import RESOURCE_TYPES
from tests.helpers import login

pytestmark = pytest.mark.django_db


def test_the_showcase_patient_exports_as_valid_fhir(client: Client) -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=StringIO())
    patient = handed_back_patient()
    assert patient is not None
    center = patient.care_team.get(capacity="treating_center").site
    coordinator = SiteMembership.objects.filter(site=center, role=Role.COORDINATOR).first()
    assert coordinator is not None
    login(client, coordinator.user)
    response = client.get(reverse("fhir-everything", kwargs={"patient_id": patient.pk}))
    assert response.status_code == 200
    bundle = json.loads(response.content)
    get_fhir_model_class("Bundle").model_validate(bundle)
    types = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        types.add(resource["resourceType"])
    assert types == set(RESOURCE_TYPES)
