"""A treating center's own flag thresholds: its patients' values are flagged by them at every
care-team site, each result keeps the value it was compared with, and without a center's own
the consensus defaults hold."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carecoord.models import CareTeamLink, OutgoingEmail, Patient
from carecoord.roles import Role
from labs.counts import counts_panel
from labs.entry import read_pasted
from labs.models import LabFlagThresholds, LabResult
from labs.selectors import flag_thresholds_for, results_of
from labs.services import lab_results_record
from labs.thresholds import DEFAULTS
from tests.factories import member, patient_at
from tests.helpers import World, api, login, name_point_persons

pytestmark = pytest.mark.django_db


def _record(world: World, text: str, patient: Patient | None = None) -> list[LabResult]:
    """Measured at the practice, today."""
    on = timezone.localdate(timezone=world.center.zone)
    entries = read_pasted(text, taken_on=on, day_zero=None)
    return lab_results_record(
        actor=world.community_oncologist, patient=patient or world.shared_patient, site=world.practice, entries=entries
    ).created


def test_without_a_treating_center_the_consensus_defaults_flag(world: World) -> None:
    patient = patient_at(world.practice, world.community_coordinator)
    assert not CareTeamLink.objects.filter(patient=patient, capacity=CareTeamLink.Capacity.TREATING_CENTER).exists()
    LabFlagThresholds.objects.create(site=world.practice, igg_below=500)  # the practice treats with no CAR-T
    assert flag_thresholds_for(patient.pk) == DEFAULTS
    [igg] = _record(world, "IgG 4.5", patient)
    assert not igg.flagged and igg.flag_below == 400


def test_the_treating_centers_thresholds_flag_a_value_measured_at_the_practice(world: World) -> None:
    name_point_persons(world)
    LabFlagThresholds.objects.create(site=world.center, igg_below=500, platelets_below=10_000)
    igg, platelets = _record(world, "IgG 4.5\nPLT 15")
    assert igg.flagged and igg.flag_below == 500
    assert igg.flag_reason == "below 500 mg/dL (hypogammaglobulinemia: consider IVIG)"
    assert not platelets.flagged and platelets.flag_below == 10_000
    email = OutgoingEmail.objects.filter(template="lab-flag").first()
    assert email is not None and "IgG below 500 mg/dL" in email.body_text
    shown = api(world.center_coordinator).get(f"/api/lab-results/{igg.pk}/").json()
    assert (shown["flagged"], shown["flag_below"]) == (True, 500)
    assert shown["flag_reason"].startswith("below 500 mg/dL")


def test_a_result_keeps_the_threshold_it_was_compared_with_when_the_center_changes_it(world: World) -> None:
    [before] = _record(world, "IgG 4.5")
    assert not before.flagged
    LabFlagThresholds.objects.create(site=world.center, igg_below=500)
    [after] = _record(world, "IgG 4.6")
    before.refresh_from_db()
    assert (before.flagged, before.flag_below) == (False, 400)
    assert (after.flagged, after.flag_below) == (True, 500)
    # The chart's line is the one the latest value was compared with.
    panel = counts_panel(results_of(world.shared_patient), infusion_on=None, today=after.taken_on)
    [igg] = panel.kinds
    assert igg.threshold == "flagged below 500 mg/dL"
    assert igg.chart.threshold_y is not None


def test_a_kind_never_flagged_has_no_threshold(world: World) -> None:
    [crp] = _record(world, "CRP 250")
    assert (crp.flagged, crp.flag_below, crp.flag_reason) == (False, None, "")


def test_the_migration_keeps_the_defaults_results_were_compared_with(world: World) -> None:
    _record(world, "ANC 0.3\nCRP 12")
    LabResult.objects.update(flag_below=None)
    migration = importlib.import_module("labs.migrations.0002_flag_thresholds_per_center")
    migration.keep_what_results_were_compared_with(apps, None)
    assert dict(LabResult.objects.values_list("kind", "flag_below")) == {"anc": 500, "crp": None}


def test_a_site_administrator_sets_their_centers_thresholds_in_the_admin(client: Client, world: World) -> None:
    admin = member(world.center, Role.COORDINATOR, email="admin@lakeside.test", full_name="Ada Admin", is_staff=True)
    admin.user_permissions.add(*_permissions("labflagthresholds"))
    login(client, admin)
    url = reverse("admin:labs_labflagthresholds_add")
    refused = client.post(url, _form(world.center.pk, igg_below="0"))
    assert (
        refused.status_code == 200 and "Ensure this value is greater than or equal to 0.01" in refused.content.decode()
    )
    foreign = client.post(url, _form(world.unrelated_practice.pk))
    assert foreign.status_code == 200 and "Select a valid choice" in foreign.content.decode()
    saved = client.post(url, _form(world.center.pk))
    assert saved.status_code == 302
    assert LabFlagThresholds.objects.get(site=world.center).igg_below == 450


def _form(site_id: int, **values: str) -> dict[str, str]:
    form = {"site": str(site_id), "anc_below": "500", "platelets_below": "20000", "hemoglobin_below": "7"}
    return form | {"igg_below": "450"} | values


def _permissions(model: str) -> list[Permission]:
    return list(Permission.objects.filter(content_type__model=model))


def test_every_flag_default_is_the_consensus_value() -> None:
    # Rejeski et al. 2023 and Hayden et al. 2022, as docs/clinical-rules.md cites them.
    assert dict(DEFAULTS.below) == {"anc": 500, "platelets": 20_000, "hemoglobin": 7, "igg": 400}


def test_the_entry_page_says_which_thresholds_flag_this_patient(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    url = reverse("lab-entry", kwargs={"patient_id": world.shared_patient.pk})
    assert "IgG below 400 mg/dL (the consensus defaults)" in client.get(url).content.decode()
    LabFlagThresholds.objects.create(site=world.center, igg_below=500)
    page = client.get(url).content.decode()
    assert f"IgG below 500 mg/dL (the thresholds of {world.center.name}, the treating center)" in page
