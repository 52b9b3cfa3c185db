"""Seed the labelled uses of the CAR-T products (docs/clinical-rules.md#candidates).

One rule per product and row of the table of earliest labelled uses. The myeloma rows are the
labels of April 2024; for the others the label is named and is to be checked against the
current one. From now on the rules belong to the site administrators, who edit them in the
admin as labels change. A product renamed or removed before this runs gets no rule.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CHECK = "check current label"
CHEMO = ["chemoimmunotherapy"]


def _label(brand: str, generic: str) -> str:
    return f"{brand} ({generic}) US prescribing information"


YESCARTA = _label("Yescarta", "axicabtagene ciloleucel")
KYMRIAH = _label("Kymriah", "tisagenlecleucel")
BREYANZI = _label("Breyanzi", "lisocabtagene maraleucel")
TECARTUS = _label("Tecartus", "brexucabtagene autoleucel")
AUCATZYL = _label("Aucatzyl", "obecabtagene autoleucel")
ABECMA = _label("Abecma", "idecabtagene vicleucel")
CARVYKTI = _label("Carvykti", "ciltacabtagene autoleucel")

LBCL_EARLY = "refractory to first-line chemoimmunotherapy, or relapse within 12 months of it"
LBCL_EARLY_RULE = {"required_classes": CHEMO, "refractory_to": "first_line", "relapse_within_months": 12}
TWO_LINES = "after two or more lines of systemic therapy"

RULES: list[dict[str, Any]] = [
    {"product": "Yescarta", "disease_area": "lbcl", "summary": LBCL_EARLY, "label_source": YESCARTA, **LBCL_EARLY_RULE},
    {"product": "Breyanzi", "disease_area": "lbcl", "summary": LBCL_EARLY, "label_source": BREYANZI, **LBCL_EARLY_RULE},
    {
        "product": "Breyanzi",
        "disease_area": "lbcl",
        "summary": "relapse after first line and not a transplant candidate (age, comorbidity)",
        "label_source": BREYANZI,
        "required_classes": CHEMO,
        "relapsed_or_refractory": True,
        "requires_transplant_ineligible": True,
    },
    *(
        {"product": product, "disease_area": area, "summary": TWO_LINES, "label_source": label, "min_prior_lines": 2}
        for area in ("lbcl", "fl")
        for product, label in (("Yescarta", YESCARTA), ("Kymriah", KYMRIAH), ("Breyanzi", BREYANZI))
    ),
    {
        "product": "Tecartus",
        "disease_area": "mcl",
        "summary": "relapsed or refractory",
        "label_source": TECARTUS,
        "relapsed_or_refractory": True,
    },
    {
        "product": "Breyanzi",
        "disease_area": "mcl",
        "summary": "relapsed or refractory after two or more lines including a BTK inhibitor",
        "label_source": BREYANZI,
        "min_prior_lines": 2,
        "required_classes": ["btk_inhibitor"],
    },
    {
        "product": "Breyanzi",
        "disease_area": "cll_sll",
        "summary": "after two or more lines including a BTK inhibitor and a BCL-2 inhibitor",
        "label_source": BREYANZI,
        "min_prior_lines": 2,
        "required_classes": ["btk_inhibitor", "bcl2_inhibitor"],
    },
    {
        "product": "Kymriah",
        "disease_area": "b_all",
        "summary": "patients up to 25 years: refractory, or second or later relapse",
        "label_source": KYMRIAH,
        "max_age": 25,
        "refractory_to": "any_line",
        "min_relapses": 2,
    },
    *(
        {
            "product": product,
            "disease_area": "b_all",
            "summary": "adults: relapsed or refractory",
            "label_source": label,
            "min_age": 18,
            "relapsed_or_refractory": True,
        }
        for product, label in (("Tecartus", TECARTUS), ("Aucatzyl", AUCATZYL))
    ),
    {
        "product": "Carvykti",
        "disease_area": "multiple_myeloma",
        "summary": "one or more prior lines including a PI and an IMiD, and lenalidomide-refractory",
        "label_source": CARVYKTI,
        "label_date": "April 2024",
        "required_classes": ["pi", "imid"],
        "refractory_to": "lenalidomide",
    },
    {
        "product": "Abecma",
        "disease_area": "multiple_myeloma",
        "summary": "two or more prior lines including an IMiD, a PI and an anti-CD38 antibody",
        "label_source": ABECMA,
        "label_date": "April 2024",
        "min_prior_lines": 2,
        "required_classes": ["pi", "imid", "anti_cd38"],
    },
]


def seed_rules(apps: Any, schema_editor: Any) -> None:
    Product = apps.get_model("carecoord", "Product")
    IndicationRule = apps.get_model("candidates", "IndicationRule")
    products = {product.brand_name: product for product in Product.objects.all()}
    for order, data in enumerate(RULES, start=1):
        product = products.get(data["product"])
        if product is None:
            continue
        values = {"label_date": CHECK, **data, "product": product, "order": order}
        IndicationRule.objects.create(**values)


def remove_rules(apps: Any, schema_editor: Any) -> None:
    apps.get_model("candidates", "IndicationRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("candidates", "0002_indication_rules"),
        ("carecoord", "0003_seed_products"),
    ]

    operations = [
        migrations.RunPython(seed_rules, remove_rules),
    ]
