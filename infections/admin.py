"""The admin of a treating center's own prophylaxis defaults, for its site administrators."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models

from carecoord.admin_scoping import Reach, ScopedModelAdmin
from infections.models import ProphylaxisDefaults


@admin.register(ProphylaxisDefaults)
class ProphylaxisDefaultsAdmin(ScopedModelAdmin[ProphylaxisDefaults]):
    list_display = ["site", "antiviral_months", "pjp_from_day", "pjp_months", "updated_at"]
    fieldsets = [
        (None, {"fields": ["site"]}),
        ("Antiviral (HSV/VZV)", {"fields": ["antiviral_agent", "antiviral_months"]}),
        ("Pneumocystis (PJP)", {"fields": ["pjp_agent", "pjp_from_day", "pjp_months"]}),
        ("Conditional lines", {"fields": ["antifungal_agent", "hepatitis_b_agent", "ivig_agent"]}),
        ("Revaccination", {"fields": ["inactivated_vaccines_from_day", "live_vaccines_from_day"]}),
    ]
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"size": 80})}}  # the agents
    reach = Reach(site="site")
