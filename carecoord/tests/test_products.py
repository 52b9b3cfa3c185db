"""CAR-T products are data: seeded by migration, edited by site administrators, validated."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from carecoord.models import Product
from carecoord.models.patients import DiseaseArea
from referrals.schedule import MonitoringRules
from tests.factories import UserFactory
from tests.helpers import World, api, login, results

pytestmark = pytest.mark.django_db

SEEDED = {
    "Yescarta": ("axicabtagene ciloleucel", "axi-cel", Product.Target.CD19),
    "Kymriah": ("tisagenlecleucel", "tisa-cel", Product.Target.CD19),
    "Breyanzi": ("lisocabtagene maraleucel", "liso-cel", Product.Target.CD19),
    "Tecartus": ("brexucabtagene autoleucel", "brexu-cel", Product.Target.CD19),
    "Aucatzyl": ("obecabtagene autoleucel", "obe-cel", Product.Target.CD19),
    "Abecma": ("idecabtagene vicleucel", "ide-cel", Product.Target.BCMA),
    "Carvykti": ("ciltacabtagene autoleucel", "cilta-cel", Product.Target.BCMA),
}
RULES = ["monitoring_days", "daily_monitoring_days", "stay_near_center_days", "no_driving_days"]


def valid_product(**overrides: Any) -> Product:
    fields: dict[str, Any] = {
        "brand_name": "Testcel",
        "generic_name": "testcabtagene autoleucel",
        "short_name": "test-cel",
        "target": Product.Target.CD19,
        "disease_areas": [DiseaseArea.LBCL],
    }
    return Product(**(fields | overrides))


def test_migrations_seed_the_seven_approved_products() -> None:
    seeded = {p.brand_name: (p.generic_name, p.short_name, p.target) for p in Product.objects.all()}

    assert seeded == SEEDED


def test_seeded_products_carry_their_disease_areas() -> None:
    areas = dict(Product.objects.values_list("brand_name", "disease_areas"))

    assert areas["Breyanzi"] == ["lbcl", "cll_sll", "fl", "mcl", "mzl"]
    assert areas["Tecartus"] == ["mcl", "b_all"]
    assert areas["Aucatzyl"] == ["b_all"]
    assert areas["Abecma"] == areas["Carvykti"] == ["multiple_myeloma"]


def test_seeded_products_are_valid_active_and_on_the_june_2025_rules() -> None:
    for product in Product.objects.all():
        product.full_clean()
        assert product.is_active
        assert (
            product.monitoring_days,
            product.daily_monitoring_days,
            product.stay_near_center_days,
            product.no_driving_days,
        ) == (14, 7, 14, 14)


def test_every_product_carries_the_t_cell_malignancy_warning() -> None:
    for product in Product.objects.all():
        assert "T-cell malignancies" in product.boxed_warning_list, product


def test_carvykti_carries_its_boxed_warnings() -> None:
    warnings = Product.objects.get(brand_name="Carvykti").boxed_warning_list

    for expected in [
        "Parkinsonism",
        "Guillain-Barré syndrome",
        "Hemophagocytic lymphohistiocytosis / macrophage activation syndrome (HLH/MAS)",
        "Prolonged and recurrent cytopenia",
        "Immune effector cell enterocolitis",
    ]:
        assert expected in warnings


def test_a_new_product_defaults_to_the_june_2025_rules() -> None:
    product = valid_product()

    product.full_clean()
    product.save()

    assert MonitoringRules.from_product(product) == MonitoringRules() == MonitoringRules(14, 7, 14, 14)


@pytest.mark.parametrize("field", RULES)
@pytest.mark.parametrize("value", [0, -3])
def test_rules_must_be_at_least_one_day(field: str, value: int) -> None:
    product = valid_product(**{field: value})

    with pytest.raises(ValidationError) as error:
        product.full_clean()

    assert list(error.value.message_dict) == [field]


def test_the_database_refuses_a_zero_day_rule_too() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        valid_product(no_driving_days=0).save()


def test_stricter_local_rules_are_accepted() -> None:
    product = Product.objects.get(brand_name="Carvykti")
    product.monitoring_days = product.stay_near_center_days = 28
    product.no_driving_days = 56

    product.full_clean()
    product.save()

    assert MonitoringRules.from_product(product) == MonitoringRules(28, 7, 28, 56)


def test_daily_monitoring_cannot_outlast_monitoring() -> None:
    product = valid_product(monitoring_days=7, daily_monitoring_days=10)

    with pytest.raises(ValidationError) as error:
        product.full_clean()

    assert list(error.value.message_dict) == ["daily_monitoring_days"]


@pytest.mark.parametrize("areas", [[], ["lbcl", "lbcl"], ["lymphoma"], "lbcl"])
def test_disease_areas_must_be_a_list_of_known_areas(areas: Any) -> None:
    with pytest.raises(ValidationError) as error:
        valid_product(disease_areas=areas).full_clean()

    assert list(error.value.message_dict) == ["disease_areas"]


def test_brand_names_are_unique() -> None:
    with pytest.raises(ValidationError) as error:
        valid_product(brand_name="Yescarta").full_clean()

    assert list(error.value.message_dict) == ["brand_name"]


def test_site_administrator_adds_a_product_by_ticking_disease_areas(client: Client) -> None:
    login(client, UserFactory.create(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:carecoord_product_add"),
        {
            "brand_name": "Testcel",
            "generic_name": "testcabtagene autoleucel",
            "short_name": "test-cel",
            "target": Product.Target.BCMA,
            "disease_areas": [DiseaseArea.MULTIPLE_MYELOMA, DiseaseArea.OTHER],
            "boxed_warnings": "T-cell malignancies",
            "monitoring_days": 21,
            "daily_monitoring_days": 7,
            "stay_near_center_days": 21,
            "no_driving_days": 28,
            "is_active": "on",
            "manufacturer": "Test Therapeutics",
            "manufacturer_report_route": "Test Therapeutics, 1-800-555-0100",
            # Its late effects to watch for, edited beside it (docs/clinical-rules.md#late-effects).
            "watch_items-TOTAL_FORMS": "1",
            "watch_items-INITIAL_FORMS": "0",
            "watch_items-0-order": "0",
            "watch_items-0-name": "T-cell malignancies",
            "watch_items-0-typical_timing": "weeks to years",
            "watch_items-0-action": "Report to the manufacturer.",
            "watch_items-0-boxed_warning": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(brand_name="Testcel")
    assert product.disease_areas == ["multiple_myeloma", "other"]
    assert [(item.name, item.boxed_warning) for item in product.watch_items.all()] == [("T-cell malignancies", True)]
    assert MonitoringRules.from_product(product) == MonitoringRules(21, 7, 21, 28)


def test_product_list_shows_disease_area_names(client: Client) -> None:
    login(client, UserFactory.create(is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:carecoord_product_changelist"), {"target__exact": "bcma"})

    assert response.status_code == 200
    assert response.content.decode().count("Multiple myeloma") == 2


def test_the_catalog_is_in_the_api_with_its_boxed_warnings_and_watch_items(world: World) -> None:
    carvykti = Product.objects.get(short_name="cilta-cel")
    body = api(world.outsider).get(f"/api/products/{carvykti.pk}/").json()
    assert body["brand_name"] == "Carvykti"
    assert body["boxed_warnings"] == carvykti.boxed_warning_list and body["boxed_warnings"]
    names = [item["name"] for item in body["watch_items"]]
    assert names == list(carvykti.watch_items.values_list("name", flat=True))
    assert any("arkinsonism" in name for name in names)
    listed = results(api(world.outsider).get("/api/products/"))
    assert {row["short_name"] for row in listed} >= {"cilta-cel", "axi-cel"}
