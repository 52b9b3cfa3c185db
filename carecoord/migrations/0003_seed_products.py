"""Seed the seven FDA-approved CAR-T products (docs/clinical-rules.md#products).

The data is frozen here on purpose: from now on it belongs to the site administrators, who
edit it in the admin as indications and labels change. Monitoring rules take the model
defaults (the label since June 2025, docs/clinical-rules.md#monitoring).

Boxed warnings (docs/clinical-rules.md#products): T-cell malignancies on every product (FDA,
April 2024) and Carvykti's list are from the FDA labels; cytokine release syndrome and
neurologic toxicities (every product) and Abecma's HLH/MAS and prolonged cytopenia are from
the boxed warnings of the US prescribing information. A clinician should check them against
the current labels.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CRS = "Cytokine release syndrome"
NEUROLOGIC = "Neurologic toxicities"
T_CELL_MALIGNANCIES = "T-cell malignancies"

PRODUCTS: list[dict[str, Any]] = [
    {
        "brand_name": "Yescarta",
        "generic_name": "axicabtagene ciloleucel",
        "short_name": "axi-cel",
        "target": "cd19",
        "disease_areas": ["lbcl", "fl"],
        "boxed_warnings": [CRS, NEUROLOGIC, T_CELL_MALIGNANCIES],
    },
    {
        "brand_name": "Kymriah",
        "generic_name": "tisagenlecleucel",
        "short_name": "tisa-cel",
        "target": "cd19",
        # B-ALL for patients up to 25 years of age.
        "disease_areas": ["b_all", "lbcl", "fl"],
        "boxed_warnings": [CRS, NEUROLOGIC, T_CELL_MALIGNANCIES],
    },
    {
        "brand_name": "Breyanzi",
        "generic_name": "lisocabtagene maraleucel",
        "short_name": "liso-cel",
        "target": "cd19",
        "disease_areas": ["lbcl", "cll_sll", "fl", "mcl", "mzl"],
        "boxed_warnings": [CRS, NEUROLOGIC, T_CELL_MALIGNANCIES],
    },
    {
        "brand_name": "Tecartus",
        "generic_name": "brexucabtagene autoleucel",
        "short_name": "brexu-cel",
        "target": "cd19",
        # B-ALL in adults.
        "disease_areas": ["mcl", "b_all"],
        "boxed_warnings": [CRS, NEUROLOGIC, T_CELL_MALIGNANCIES],
    },
    {
        "brand_name": "Aucatzyl",
        "generic_name": "obecabtagene autoleucel",
        "short_name": "obe-cel",
        "target": "cd19",
        # B-ALL in adults.
        "disease_areas": ["b_all"],
        "boxed_warnings": [CRS, NEUROLOGIC, T_CELL_MALIGNANCIES],
    },
    {
        "brand_name": "Abecma",
        "generic_name": "idecabtagene vicleucel",
        "short_name": "ide-cel",
        "target": "bcma",
        "disease_areas": ["multiple_myeloma"],
        "boxed_warnings": [
            CRS,
            NEUROLOGIC,
            "Hemophagocytic lymphohistiocytosis / macrophage activation syndrome (HLH/MAS)",
            "Prolonged cytopenia",
            T_CELL_MALIGNANCIES,
        ],
    },
    {
        "brand_name": "Carvykti",
        "generic_name": "ciltacabtagene autoleucel",
        "short_name": "cilta-cel",
        "target": "bcma",
        "disease_areas": ["multiple_myeloma"],
        "boxed_warnings": [
            CRS,
            NEUROLOGIC,
            "Parkinsonism",
            "Guillain-Barré syndrome",
            "Hemophagocytic lymphohistiocytosis / macrophage activation syndrome (HLH/MAS)",
            "Prolonged and recurrent cytopenia",
            "Immune effector cell enterocolitis",
            T_CELL_MALIGNANCIES,
        ],
    },
]


def seed_products(apps: Any, schema_editor: Any) -> None:
    Product = apps.get_model("carecoord", "Product")
    for data in PRODUCTS:
        Product.objects.create(**{**data, "boxed_warnings": "\n".join(data["boxed_warnings"])})


def remove_products(apps: Any, schema_editor: Any) -> None:
    Product = apps.get_model("carecoord", "Product")
    Product.objects.filter(brand_name__in=[data["brand_name"] for data in PRODUCTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("carecoord", "0002_product"),
    ]

    operations = [
        migrations.RunPython(seed_products, remove_products),
    ]
