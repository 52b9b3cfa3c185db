"""The admin of a treating center's own lab flag thresholds, for its site administrators."""

from __future__ import annotations

from django.contrib import admin

from carecoord.admin_scoping import Reach, ScopedModelAdmin
from labs.models import LabFlagThresholds


@admin.register(LabFlagThresholds)
class LabFlagThresholdsAdmin(ScopedModelAdmin[LabFlagThresholds]):
    list_display = ["site", "anc_below", "platelets_below", "hemoglobin_below", "igg_below", "updated_at"]
    reach = Reach(site="site")
