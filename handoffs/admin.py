"""Admin views of hand-off templates (edit them in the application, where versions are kept)
and of hand-offs (read-only: they change through the workflow)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from carecoord.admin_scoping import Reach, ScopedModelAdmin, ScopedTabularInline
from handoffs.models import Handoff, HandoffTemplate, HandoffTemplateVersion


class VersionInline(ScopedTabularInline[HandoffTemplateVersion, HandoffTemplate]):
    model = HandoffTemplateVersion
    reach = Reach(site="template__owner_site", no_site_means_shared=True)
    extra = 0
    can_delete = False
    fields = ["number", "status", "published_at", "created_by"]
    readonly_fields = ["number", "status", "published_at", "created_by"]

    def has_add_permission(self, request: HttpRequest, obj: HandoffTemplate | None = None) -> bool:
        return False


@admin.register(HandoffTemplate)
class HandoffTemplateAdmin(ScopedModelAdmin[HandoffTemplate]):
    list_display = ["name", "owner_site", "created_at"]
    list_filter = ["owner_site"]
    inlines = [VersionInline]
    # Templates hold no patient data: a site administrator has their sites' own and the shared ones.
    reach = Reach(site="owner_site", no_site_means_shared=True)


@admin.register(Handoff)
class HandoffAdmin(ScopedModelAdmin[Handoff]):
    list_display = ["pk", "version", "from_site", "to_site", "state", "sent_at", "acknowledged_at"]
    list_filter = ["state"]
    readonly_fields = [field.name for field in Handoff._meta.fields]
    exclude = ["values"]
    reach = Reach(patient="patient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Handoff | None = None) -> bool:
        return False
