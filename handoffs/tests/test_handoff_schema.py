"""Hand-off template schemas and the values filled into them, without a database."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from handoffs.schema import SchemaError, fields_of, validate_schema, validate_values

SHIPPED = importlib.import_module("handoffs.migrations.0002_shipped_templates").SHIPPED

SCHEMA: dict[str, Any] = {
    "sections": [
        {
            "key": "care",
            "title": "Care",
            "fields": [
                {"key": "product", "label": "Product", "type": "text", "required": True},
                {"key": "day0", "label": "Infusion", "type": "date", "required": True},
                {"key": "grade", "label": "Highest CRS", "type": "number"},
                {"key": "eligible", "label": "Eligibility", "type": "choice", "choices": ["yes", "no"]},
                {"key": "irradiated", "label": "Irradiated products", "type": "yes_no", "required": True},
                {"key": "meds", "label": "Medications", "type": "medication_list", "required": True},
                {"key": "labs", "label": "Labs", "type": "lab_schedule"},
            ],
        },
    ]
}


@pytest.mark.parametrize(("name", "description", "schema"), SHIPPED, ids=lambda v: str(v)[:30])
def test_every_shipped_template_is_a_valid_schema(name: str, description: str, schema: dict[str, Any]) -> None:
    validate_schema(schema)
    assert fields_of(schema)


def test_the_transition_template_carries_what_domain_section_6_asks() -> None:
    transition = SHIPPED[0][2]
    labels = " ".join(field.label for field in fields_of(transition)).lower()
    for topic in (
        "product",
        "infusion",
        "crs",
        "icans",
        "hsv",
        "pjp",
        "immunoglobulin",
        "lab schedule",
        "irradiated",
        "vaccination",
        "driving",
        "red-flag",
        "24/7",
        "next visit",
        "long-term",
    ):
        assert topic in labels, topic


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({}, "sections"),
        ({"sections": [{"key": "A", "title": "x", "fields": [{}]}]}, "section 1: key"),
        ({"sections": [{"key": "a", "title": "", "fields": []}]}, "title"),
        ({"sections": [{"key": "a", "title": "A", "fields": [{"key": "f", "label": "F", "type": "colour"}]}]}, "type"),
        (
            {
                "sections": [
                    {
                        "key": "a",
                        "title": "A",
                        "fields": [{"key": "f", "label": "F", "type": "choice", "choices": ["only"]}],
                    }
                ]
            },
            "two choices",
        ),
        (
            {
                "sections": [
                    {
                        "key": "a",
                        "title": "A",
                        "fields": [
                            {"key": "f", "label": "F", "type": "text"},
                            {"key": "f", "label": "G", "type": "text"},
                        ],
                    }
                ]
            },
            "field 2",
        ),
    ],
)
def test_a_bad_schema_is_refused_with_where(schema: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        validate_schema(schema)


def test_a_draft_keeps_empty_required_fields_but_sending_requires_them() -> None:
    _, draft_errors = validate_values(SCHEMA, {"care.product": "Yescarta"}, require=False)
    assert draft_errors == {}
    _, errors = validate_values(SCHEMA, {"care.product": "Yescarta"}, require=True)
    assert set(errors) == {"care.day0", "care.irradiated", "care.meds"}
    assert errors["care.day0"] == "Infusion is required."


def test_values_are_cleaned_by_type() -> None:
    cleaned, errors = validate_values(
        SCHEMA,
        {
            "care.product": " Yescarta ",
            "care.day0": "2027-01-11",
            "care.grade": "2",
            "care.eligible": "no",
            "care.irradiated": "yes",
            "unknown.key": "dropped",
            "care.meds": [
                {"drug": "Acyclovir", "dose": "800 mg", "frequency": "bid", "until": "12 months"},
                {"drug": "", "dose": "", "frequency": "", "until": ""},
            ],
        },
        require=True,
    )
    assert errors == {}
    assert cleaned["care.product"] == "Yescarta" and cleaned["care.grade"] == 2 and cleaned["care.irradiated"] is True
    assert cleaned["care.meds"] == [{"drug": "Acyclovir", "dose": "800 mg", "frequency": "bid", "until": "12 months"}]
    assert "unknown.key" not in cleaned


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("care.day0", "11/01/2027", "YYYY-MM-DD"),
        ("care.grade", "three", "number"),
        ("care.grade", "nan", "number"),
        ("care.eligible", "maybe", "Choose one of"),
        ("care.irradiated", "perhaps", "yes or no"),
        ("care.meds", [{"dose": "1 g"}], "drug is missing"),
        ("care.meds", [{"drug": "x", "colour": "red"}], "columns"),
        ("care.product", "x" * 5000, "under 4000"),
    ],
)
def test_each_malformed_value_gets_a_message_on_its_field(path: str, value: Any, message: str) -> None:
    _, errors = validate_values(SCHEMA, {path: value}, require=False)
    assert message in errors[path]
