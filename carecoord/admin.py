"""Django admin for site administrators (staff accounts).

Writes that change access (memberships, care-team links) go through the services, so that
grants stay exact. Staff who are not superusers see and pick only what belongs to the sites
they administer (carecoord.admin_scoping): each admin says how its rows reach a site.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst

from carecoord.access.grants import sync_user_access
from carecoord.accounts.admin import scope_account_admins
from carecoord.accounts.api_tokens import api_token_revoke
from carecoord.admin_scoping import Reach, ScopedModelAdmin, ScopedTabularInline
from carecoord.models import (
    ApiToken,
    CareTeamLink,
    LateEffectWatchItem,
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
from carecoord.phones import PhoneField
from carecoord.services.care_teams import care_team_end_site, care_team_join
from carecoord.services.memberships import user_deactivate

# The numbers people dial (a site's 24/7 line, a person's direct phone, a caregiver's), checked
# as the pages check them.
PHONE_COLUMNS = frozenset({"phone", "phone_24_7", "caregiver_phone"})


def phone_field_for(db_field: Any) -> PhoneField | None:
    if db_field.name not in PHONE_COLUMNS:
        return None
    label = str(db_field.verbose_name)
    extra = {"help_text": db_field.help_text} if db_field.help_text else {}
    return PhoneField(label=label[:1].upper() + label[1:], required=not db_field.blank, **extra)


@admin.register(Site)
class SiteAdmin(ScopedModelAdmin[Site]):
    list_display = ["name", "kind", "time_zone", "phone_24_7"]
    list_filter = ["kind"]
    search_fields = ["name"]
    reach = Reach(site="pk")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        return phone_field_for(db_field) or super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new site has no members yet, so only a superuser can administer it.
        return request.user.is_superuser and super().has_add_permission(request)


class MembershipInline(ScopedTabularInline[SiteMembership, User]):
    model = SiteMembership
    extra = 0
    reach = Reach(site="site")

    def get_formset(self, request: HttpRequest, obj: User | None = None, **kwargs: Any) -> Any:
        if obj is None and not request.user.is_superuser:
            # A person a site administrator adds joins one of their sites at once, or they
            # could not see the account they have just made.
            kwargs.update(min_num=1, validate_min=True)
        return super().get_formset(request, obj, **kwargs)


@admin.register(User)
class UserAdmin(ScopedModelAdmin[User], BaseUserAdmin):
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
    reach = Reach(person="pk")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        return phone_field_for(db_field) or super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Permissions and groups (which carry site grants) are not a site administrator's to hand out.
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and "is_active" in form.changed_data and not form.instance.is_active:
            # Closing an account here does what closing it anywhere does: sessions and tokens end.
            user_deactivate(user=form.instance)
        else:
            sync_user_access(form.instance)


@admin.register(SiteMembership)
class SiteMembershipAdmin(ScopedModelAdmin[SiteMembership]):
    list_display = ["user", "site", "role", "starts_on", "ends_on"]
    list_filter = ["site", "role"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    reach = Reach(site="site")

    def save_model(self, request: HttpRequest, obj: SiteMembership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sync_user_access(obj.user)

    def delete_model(self, request: HttpRequest, obj: SiteMembership) -> None:
        user = obj.user
        super().delete_model(request, obj)
        sync_user_access(user)


class IdentifierInline(ScopedTabularInline[PatientIdentifier, Patient]):
    model = PatientIdentifier
    extra = 0
    reach = Reach(site="site", patient="patient")


class CareTeamLinkForm(forms.ModelForm[CareTeamLink]):
    """A new row is a site joining; an existing one can only be ended (the link stays)."""

    end_participation = forms.BooleanField(
        required=False, help_text="The site stops taking part; its staff lose access to the patient."
    )

    class Meta:
        model = CareTeamLink
        fields = ["site", "capacity"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["site"].disabled = self.fields["capacity"].disabled = True
            self.fields["end_participation"].disabled = not self.instance.is_open


class CareTeamInline(ScopedTabularInline[CareTeamLink, Patient]):
    """Sites join and leave through the care-team services (`PatientAdmin.save_formset`), so the
    grants, point persons, timeline entry and emails are those of every other way."""

    model = CareTeamLink
    form = CareTeamLinkForm
    extra = 0
    fields = ["site", "capacity", "joined_at", "ended_at", "end_participation"]
    readonly_fields = ["joined_at", "ended_at"]
    can_delete = False
    # A site administrator sees and changes their own sites' links; other sites join and leave
    # a care team from the application.
    reach = Reach(site="site", patient="patient")


@admin.register(Patient)
class PatientAdmin(ScopedModelAdmin[Patient]):
    list_display = ["family_name", "given_name", "disease_area", "phase"]
    list_filter = ["phase", "disease_area"]
    inlines = [IdentifierInline, CareTeamInline]
    # Derived from the referral and its milestones (referrals.phase), never typed.
    readonly_fields = ["phase"]
    reach = Reach(patient="pk")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        return phone_field_for(db_field) or super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not CareTeamLink:
            super().save_formset(request, form, formset, change)
            return
        actor = cast(User, request.user)
        # What the admin's change message reads (formset.save() is not called: the services write).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed() or not hasattr(row, "cleaned_data"):
                continue
            link, data = row.instance, row.cleaned_data
            try:
                if link.pk is None:
                    joined = care_team_join(
                        actor=actor, patient=form.instance, site=data["site"], capacity=data["capacity"], notify=True
                    )
                    formset.new_objects.append(joined)
                elif data.get("end_participation"):
                    formset.changed_objects.append(
                        (care_team_end_site(actor=actor, link=link, in_admin=True), ["ended_at"])
                    )
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, f"{data.get('site') or link.site}: {text}")


@admin.register(PointPerson)
class PointPersonAdmin(ScopedModelAdmin[PointPerson]):
    list_display = ["link", "rank", "user"]
    autocomplete_fields = ["user"]
    reach = Reach(site="link__site", patient="link__patient")


class LateEffectWatchItemInline(admin.TabularInline[LateEffectWatchItem, Product]):
    """The product's late effects to watch for, as on its label (docs/clinical-rules.md#late-effects)."""

    model = LateEffectWatchItem
    extra = 1
    fields = ["order", "name", "typical_timing", "action", "boxed_warning"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    inlines = [LateEffectWatchItemInline]
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
class OutgoingEmailAdmin(ScopedModelAdmin[OutgoingEmail]):
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
    reach = Reach(person="recipient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedModelAdmin[ApiToken]):
    """People make their own tokens on their Account page; here administrators only look and revoke."""

    list_display = ["name", "user", "key_hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__email"]
    readonly_fields = ["user", "name", "key_hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["revoke"]
    reach = Reach(person="user")

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
class WrongSecondFactorCodeAdmin(ScopedModelAdmin[WrongSecondFactorCode]):
    """Wrong second-factor codes of the last 24 hours. Deleting a person's rows lifts the daily
    cap at once (carecoord.accounts.wrong_codes): do so only once you know the attempts were theirs."""

    list_display = ["at", "user", "ip_address"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "at", "ip_address"]
    reach = Reach(person="user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WrongSecondFactorCode | None = None) -> bool:
        return False


scope_account_admins()
