"""The transition hand-off after the infusion (template version 3): counts, immune recovery and
the late effects of the patient's product, prefilled where carecoord holds them."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from handoffs.models import HandoffTemplateVersion
from handoffs.prefill import SOURCES, prefill_values
from handoffs.schema import fields_of
from handoffs.services import handoff_start, published_version
from tests.helpers import World, accepted_referral, transition, treated_with_carvykti

pytestmark = pytest.mark.django_db

AFTER_INFUSION_KEYS = {
    "counts_trend",
    "icaht_grade",
    "igg",
    "ivig",
    "prophylaxis_plan",
    "vaccinations_due",
    "late_effect_watch_items",
}


def ship_version_3() -> HandoffTemplateVersion:
    """The shipped transition template through migrations 0003 and 0007 (a flushed test database
    keeps only what `transition()` ships again)."""
    template = transition()
    for name in ("0003_typed_grades_and_ecog", "0007_transition_after_infusion"):
        importlib.import_module(f"handoffs.migrations.{name}").ship(apps, None)
    version = published_version(template)
    assert version is not None and version.number == 3
    return version


def test_version_3_carries_every_field_of_the_issue_with_its_prefill_key(world: World) -> None:
    version = ship_version_3()
    keys = {field.prefill for field in fields_of(version.schema) if field.path.startswith("after_infusion.")}
    assert keys == AFTER_INFUSION_KEYS
    # Before the follow-up section, which stays last.
    assert [section["key"] for section in version.schema["sections"]][-2:] == ["after_infusion", "follow_up"]


def test_the_watch_items_of_the_product_are_prefilled_and_keys_without_a_source_stay_empty(world: World) -> None:
    version = ship_version_3()
    treated_with_carvykti(world, accepted_referral(world))
    values = prefill_values(world.shared_patient, version.schema)
    watch = values["after_infusion.late_effect_watch_items"]
    assert "T-cell malignancies (weeks to years after infusion)" in watch
    assert "Parkinsonism" in watch and "Guillain-Barré syndrome" in watch
    assert "Immune effector cell enterocolitis" in watch
    assert "[boxed warning]" in watch
    for field in fields_of(version.schema):
        if field.prefill and field.prefill not in SOURCES:
            assert field.path not in values  # skipped, not an error


def test_a_patient_without_a_product_gets_no_watch_items(world: World) -> None:
    version = ship_version_3()
    assert "after_infusion.late_effect_watch_items" not in prefill_values(world.shared_patient, version.schema)


def test_a_new_transition_hand_off_starts_with_the_watch_items(world: World) -> None:
    ship_version_3()
    treated_with_carvykti(world, accepted_referral(world))
    handoff = handoff_start(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        template=transition(),
        from_site=world.center,
        to_site=world.practice,
    )
    assert handoff.version.number == 3
    assert "Parkinsonism" in handoff.values["after_infusion.late_effect_watch_items"]


def test_a_template_edited_since_it_shipped_is_left_alone(world: World) -> None:
    template = transition()
    importlib.import_module("handoffs.migrations.0003_typed_grades_and_ecog").ship(apps, None)
    latest = published_version(template)
    assert latest is not None
    HandoffTemplateVersion.objects.filter(template=template, number__gt=2).delete()
    HandoffTemplateVersion.objects.create(template=template, number=3, schema=latest.schema, status="draft")
    importlib.import_module("handoffs.migrations.0007_transition_after_infusion").ship(apps, None)
    assert not template.versions.filter(number=4).exists()
    assert template.versions.get(number=3).status == "draft"
