"""The admin of the labelled uses that prompt candidates: shared by every site, like the
products they belong to, and edited by site administrators when a label changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Field
from django.http import HttpRequest
from django.utils.text import capfirst

from candidates.drug_classes import DrugClass, class_names
from candidates.models import IndicationRule


@admin.register(IndicationRule)
class IndicationRuleAdmin(admin.ModelAdmin[IndicationRule]):
    list_display = [
        "product",
        "disease_area",
        "summary",
        "min_prior_lines",
        "required_class_names",
        "label_date",
        "is_active",
    ]
    list_filter = ["disease_area", "product", "is_active"]
    search_fields = ["summary", "label_source", "product__brand_name"]
    list_select_related = ["product"]

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        # Drug classes are stored as a JSON list; administrators tick them instead of typing JSON.
        if db_field.name == "required_classes":
            return forms.MultipleChoiceField(
                choices=DrugClass.choices,
                widget=forms.CheckboxSelectMultiple,
                required=False,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Required classes")
    def required_class_names(self, obj: IndicationRule) -> str:
        return class_names(obj.required_classes)
