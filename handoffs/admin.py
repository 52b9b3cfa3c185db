"""Admin views of hand-off templates (edit them in the application, where versions are kept)
and of hand-offs (read-only: they change through the workflow)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from handoffs.models import Handoff, HandoffTemplate, HandoffTemplateVersion
from handoffs.selectors import handoffs_visible_to


class VersionInline(admin.TabularInline[HandoffTemplateVersion, HandoffTemplate]):
    model = HandoffTemplateVersion
    extra = 0
    can_delete = False
    fields = ["number", "status", "published_at", "created_by"]
    readonly_fields = ["number", "status", "published_at", "created_by"]

    def has_add_permission(self, request: HttpRequest, obj: HandoffTemplate | None = None) -> bool:
        return False


@admin.register(HandoffTemplate)
class HandoffTemplateAdmin(admin.ModelAdmin[HandoffTemplate]):
    list_display = ["name", "owner_site", "created_at"]
    list_filter = ["owner_site"]
    inlines = [VersionInline]


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin[Handoff]):
    list_display = ["pk", "version", "from_site", "to_site", "state", "sent_at", "acknowledged_at"]
    list_filter = ["state"]
    readonly_fields = [field.name for field in Handoff._meta.fields]
    exclude = ["values"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Handoff | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Handoff]:
        queryset = super().get_queryset(request)
        return (
            queryset
            if request.user.is_superuser
            else queryset.filter(pk__in=handoffs_visible_to(request.user).values("pk"))
        )
