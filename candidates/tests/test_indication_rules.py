"""The labelled uses as data: seeded with every row of the table of earliest labelled uses,
each with its source and date, and edited in the admin by site administrators without code."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from candidates.models import IndicationRule
from carecoord.roles import Role
from tests.factories import member
from tests.helpers import World, login

pytestmark = pytest.mark.django_db

# (disease area, product, minimum lines, required classes) of every row, one rule per product.
TABLE = {
    ("lbcl", "Yescarta", 1, ("chemoimmunotherapy",)),
    ("lbcl", "Breyanzi", 1, ("chemoimmunotherapy",)),  # early relapse, and not a transplant candidate
    ("lbcl", "Yescarta", 2, ()),
    ("lbcl", "Kymriah", 2, ()),
    ("lbcl", "Breyanzi", 2, ()),
    ("fl", "Yescarta", 2, ()),
    ("fl", "Kymriah", 2, ()),
    ("fl", "Breyanzi", 2, ()),
    ("mcl", "Tecartus", 1, ()),
    ("mcl", "Breyanzi", 2, ("btk_inhibitor",)),
    ("cll_sll", "Breyanzi", 2, ("btk_inhibitor", "bcl2_inhibitor")),
    ("b_all", "Kymriah", 1, ()),
    ("b_all", "Tecartus", 1, ()),
    ("b_all", "Aucatzyl", 1, ()),
    ("multiple_myeloma", "Carvykti", 1, ("pi", "imid")),
    ("multiple_myeloma", "Abecma", 2, ("pi", "imid", "anti_cd38")),
}


def test_every_row_of_the_table_is_seeded_with_its_source_and_date() -> None:
    rules = list(IndicationRule.objects.select_related("product"))
    assert len(rules) == 17
    seeded = {
        (r.disease_area, r.product.brand_name, r.min_prior_lines, tuple(sorted(r.required_classes))) for r in rules
    }
    assert seeded == {(area, brand, lines, tuple(sorted(classes))) for area, brand, lines, classes in TABLE}
    for rule in rules:
        assert rule.is_active and rule.summary
        assert (
            rule.label_source.startswith(f"{rule.product.brand_name} (")
            and "prescribing information" in rule.label_source
        )
        expected = "April 2024" if rule.disease_area == "multiple_myeloma" else "check current label"
        assert rule.label_date == expected, rule


def test_the_seeded_rules_say_what_the_labels_ask() -> None:
    rules = IndicationRule.objects.select_related("product")
    carvykti = rules.get(product__brand_name="Carvykti")
    assert carvykti.refractory_to == "lenalidomide"
    kymriah_all = rules.get(product__brand_name="Kymriah", disease_area="b_all")
    assert (kymriah_all.max_age, kymriah_all.refractory_to, kymriah_all.min_relapses) == (25, "any_line", 2)
    adults = rules.filter(disease_area="b_all", min_age=18, relapsed_or_refractory=True)
    assert {r.product.brand_name for r in adults} == {"Tecartus", "Aucatzyl"}
    early = rules.filter(disease_area="lbcl", relapse_within_months=12, refractory_to="first_line")
    assert {r.product.brand_name for r in early} == {"Yescarta", "Breyanzi"}
    (not_transplant,) = rules.filter(requires_transplant_ineligible=True)
    assert (not_transplant.product.brand_name, not_transplant.relapsed_or_refractory) == ("Breyanzi", True)


def test_a_superuser_edits_a_rule_in_the_admin_without_code(client: Client, world: World) -> None:
    admin = member(world.center, Role.COORDINATOR, email="root@lakeside.test", is_staff=True)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    login(client, admin)
    rule = IndicationRule.objects.get(product__brand_name="Abecma")
    url = reverse("admin:candidates_indicationrule_change", args=[rule.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Anti-CD38 antibody" in page.content.decode()
    data = {
        "product": rule.product_id,
        "disease_area": rule.disease_area,
        "summary": "one or more prior lines including an IMiD, a PI and an anti-CD38 antibody (new label)",
        "min_prior_lines": 1,
        "required_classes": ["pi", "imid", "anti_cd38"],
        "refractory_to": "",
        "label_source": rule.label_source,
        "label_date": "March 2027",
        "is_active": "on",
        "order": rule.order,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    rule.refresh_from_db()
    assert (rule.min_prior_lines, rule.label_date) == (1, "March 2027")
    refused = client.post(url, data | {"min_age": 30, "max_age": 20})
    assert refused.status_code == 200 and "The maximum age cannot be below the minimum." in refused.content.decode()


def test_a_site_administrator_edits_rules_once_given_the_permission(client: Client, world: World) -> None:
    staff = member(world.practice, Role.COORDINATOR, email="staff@riverbend.test", is_staff=True)
    login(client, staff)
    changelist = reverse("admin:candidates_indicationrule_changelist")
    assert client.get(changelist).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="change_indicationrule"))
    assert client.get(changelist).status_code == 200
    coordinator = member(world.practice, Role.COORDINATOR, email="plain@riverbend.test")
    response = login(Client(), coordinator).get(changelist)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
