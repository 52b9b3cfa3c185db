"""Admin views of referrals for site administrators: read-mostly, because every change of a
referral must go through the workflow services (moves, timeline, reminders)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove
from referrals.selectors import referrals_visible_to


class ReferralMoveInline(admin.TabularInline[ReferralMove, Referral]):
    model = ReferralMove
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "site", "at", "note"]

    def has_add_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


class DocumentInline(admin.TabularInline[ReferralDocument, Referral]):
    model = ReferralDocument
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    exclude = ["file"]

    def has_add_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin[Referral]):
    list_display = ["pk", "from_site", "to_center", "state", "urgency", "submitted_at", "acknowledge_by"]
    list_filter = ["state", "urgency", "to_center"]
    inlines = [ReferralMoveInline, DocumentInline]
    readonly_fields = [field.name for field in Referral._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Referral]:
        queryset = super().get_queryset(request).select_related("from_site", "to_center")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=referrals_visible_to(request.user).values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin[Milestone]):
    list_display = ["referral", "kind", "planned_on", "actual_on", "status", "manual"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Milestone._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Milestone]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(referral__in=referrals_visible_to(request.user).values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Milestone | None = None) -> bool:
        return False
