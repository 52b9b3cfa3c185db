"""Django admin for site administrators (staff accounts).

Writes that change access (memberships, care-team links) go through the services, so that
grants stay exact. Staff who are not superusers see only the patients of their own sites.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst

from carecoord.access import patients_visible_to
from carecoord.access.grants import sync_patient_access, sync_user_access
from carecoord.accounts.api_tokens import api_token_revoke
from carecoord.models import (
    ApiToken,
    CareTeamLink,
    OutgoingEmail,
    Patient,
    PatientIdentifier,
    PointPerson,
    Product,
    Site,
    SiteMembership,
    User,
    WrongSecondFactorCode,
)
from carecoord.models.patients import DiseaseArea
from carecoord.services.memberships import user_deactivate


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = ["name", "kind", "time_zone", "phone_24_7"]
    list_filter = ["kind"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline[SiteMembership, User]):
    model = SiteMembership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_active", "is_staff"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "phone")}),
        ("Account", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    filter_horizontal = ("groups", "user_permissions")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and "is_active" in form.changed_data and not form.instance.is_active:
            # Closing an account here does what closing it anywhere does: sessions and tokens end.
            user_deactivate(user=form.instance)
        else:
            sync_user_access(form.instance)


@admin.register(SiteMembership)
class SiteMembershipAdmin(admin.ModelAdmin[SiteMembership]):
    list_display = ["user", "site", "role", "starts_on", "ends_on"]
    list_filter = ["site", "role"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: SiteMembership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sync_user_access(obj.user)

    def delete_model(self, request: HttpRequest, obj: SiteMembership) -> None:
        user = obj.user
        super().delete_model(request, obj)
        sync_user_access(user)


class IdentifierInline(admin.TabularInline[PatientIdentifier, Patient]):
    model = PatientIdentifier
    extra = 0


class CareTeamInline(admin.TabularInline[CareTeamLink, Patient]):
    model = CareTeamLink
    extra = 0
    fields = ["site", "capacity", "ended_at"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ["family_name", "given_name", "disease_area", "phase"]
    list_filter = ["phase", "disease_area"]
    inlines = [IdentifierInline, CareTeamInline]
    # Derived from the referral and its milestones (referrals.phase), never typed.
    readonly_fields = ["phase"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=patients_visible_to(request.user).values("pk"))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is CareTeamLink:
            sync_patient_access(form.instance)


@admin.register(PointPerson)
class PointPersonAdmin(admin.ModelAdmin[PointPerson]):
    list_display = ["link", "rank", "user"]
    autocomplete_fields = ["user"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ["brand_name", "short_name", "target", "disease_area_names", "monitoring_days", "is_active"]
    list_filter = ["target", "is_active"]
    search_fields = ["brand_name", "generic_name", "short_name"]

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        # Disease areas are stored as a JSON list; administrators tick them instead of typing JSON.
        if db_field.name == "disease_areas":
            return forms.MultipleChoiceField(
                choices=DiseaseArea.choices,
                widget=forms.CheckboxSelectMultiple,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Disease areas")
    def disease_area_names(self, obj: Product) -> str:
        labels = dict(DiseaseArea.choices)
        return ", ".join(labels.get(area, area) for area in obj.disease_areas)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin[OutgoingEmail]):
    """Operators see what was sent, what is waiting and what failed (with the last error)."""

    list_display = ["created_at", "template", "to_address", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    readonly_fields = [
        "recipient",
        "to_address",
        "template",
        "subject",
        "status",
        "attempts",
        "last_error",
        "dedupe_key",
        "created_at",
        "claimed_at",
        "sent_at",
    ]
    exclude = ["body_text", "body_html"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """People make their own tokens on their Account page; here administrators only look and revoke."""

    list_display = ["name", "user", "key_hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email"]
    readonly_fields = ["user", "name", "key_hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # a revoked token stays as a record of what existed

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


@admin.register(WrongSecondFactorCode)
class WrongSecondFactorCodeAdmin(admin.ModelAdmin[WrongSecondFactorCode]):
    """Wrong second-factor codes of the last 24 hours. Deleting a person's rows lifts the daily
    cap at once (carecoord.accounts.wrong_codes): do so only once you know the attempts were theirs."""

    list_display = ["at", "user", "ip_address"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "at", "ip_address"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WrongSecondFactorCode | None = None) -> bool:
        return False
