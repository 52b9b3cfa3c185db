"""Admin views of referrals for site administrators: read-mostly, because every change of a
referral must go through the workflow services (moves, timeline, reminders)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from carecoord.admin_scoping import Reach, ScopedModelAdmin, ScopedTabularInline
from referrals.models import Milestone, Referral, ReferralDocument, ReferralMove


class ReferralMoveInline(ScopedTabularInline[ReferralMove, Referral]):
    model = ReferralMove
    reach = Reach(patient="referral__patient")
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "site", "at", "note"]

    def has_add_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


class DocumentInline(ScopedTabularInline[ReferralDocument, Referral]):
    model = ReferralDocument
    reach = Reach(patient="referral__patient")
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    exclude = ["file"]

    def has_add_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(ScopedModelAdmin[Referral]):
    list_display = ["pk", "from_site", "to_center", "state", "urgency", "submitted_at", "acknowledge_by"]
    list_filter = ["state", "urgency", "to_center"]
    list_select_related = ["from_site", "to_center"]
    inlines = [ReferralMoveInline, DocumentInline]
    readonly_fields = [field.name for field in Referral._meta.fields]
    reach = Reach(patient="patient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Referral | None = None) -> bool:
        return False


@admin.register(Milestone)
class MilestoneAdmin(ScopedModelAdmin[Milestone]):
    list_display = ["referral", "kind", "planned_on", "actual_on", "status", "manual"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Milestone._meta.fields]
    reach = Reach(patient="referral__patient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Milestone | None = None) -> bool:
        return False
