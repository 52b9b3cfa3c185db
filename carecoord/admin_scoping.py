"""What a site administrator who is not a superuser sees and picks in the Django admin.

A staff person administers the sites where they hold a membership active today (in each
site's time zone); one who administers none sees nothing. Each scoped admin declares, with
a `Reach`, how its rows reach a site, a patient or a person; a row is shown when every
declared way holds:

- site: the row belongs to a site they administer (a row without a site belongs to none,
  unless `no_site_means_shared`, for things every site shares);
- patient: the row is about a patient visible to them (`patients_visible_to`), or about none;
- person: the row is about a person who holds a membership (past, present or future) at a
  site they administer, or about nobody. Superusers' accounts are never theirs.

Foreign-key choices follow the same rule, through the reach declared by the admin (or inline)
of the related model; a related model that nobody declared offers no choice at all. Saving a
row for a site they do not administer is refused. Superusers see and pick everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.http import HttpRequest

from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from carecoord.models import SiteMembership, User
from carecoord.selectors.sites import active_memberships_of


@dataclass(frozen=True)
class Reach:
    """How a model's rows reach what a site administrator administers: ORM lookups from the
    row to a Site, a Patient and a User ("pk" for the row itself); None where it does not."""

    site: str | None = None
    patient: str | None = None
    person: str | None = None
    no_site_means_shared: bool = False

    def __bool__(self) -> bool:
        return any((self.site, self.patient, self.person))


def sites_administered_by(user: AnyUser) -> list[int]:
    """The ids of the sites where the staff `user` holds a membership active today."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return []
    return sorted({membership.site_id for membership in active_memberships_of(user)})


def people_administered_by(user: AnyUser) -> QuerySet[User]:
    """Everyone with a membership, past, present or future, at a site `user` administers."""
    members = SiteMembership.objects.filter(site_id__in=sites_administered_by(user)).values("user_id")
    return User.objects.filter(pk__in=members, is_superuser=False)


def _is_unrestricted(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def scope_rows[M: Model](queryset: QuerySet[M], reach: Reach, user: AnyUser) -> QuerySet[M]:
    """The rows of `queryset` that `user` administers, by `reach` (all, for a superuser)."""
    if _is_unrestricted(user):
        return queryset
    sites = sites_administered_by(user)
    if not reach or not sites:
        return queryset.none()
    condition = Q()
    if reach.site:
        on_site = Q(**{f"{reach.site}__in": sites})
        if reach.no_site_means_shared:
            on_site |= Q(**{f"{reach.site}__isnull": True})
        condition &= on_site
    if reach.patient:
        visible = patients_visible_to(user).values("pk")
        condition &= Q(**{f"{reach.patient}__in": visible}) | Q(**{f"{reach.patient}__isnull": True})
    if reach.person:
        people = people_administered_by(user).values("pk")
        condition &= Q(**{f"{reach.person}__in": people}) | Q(**{f"{reach.person}__isnull": True})
    return queryset.filter(condition)


def _site_id_of(obj: Model, lookup: str) -> Any:
    """Follow `lookup` ("link__site", "site", "pk") from `obj` to a site's id."""
    *path, last = lookup.split("__")
    target: Any = obj
    for name in path:
        target = getattr(target, name)
    return target.pk if last == "pk" else getattr(target, f"{last}_id")


class ScopedAdminMixin[M: Model](BaseModelAdmin[M]):
    """Put before ModelAdmin or an inline: rows and foreign-key choices scoped by `reach`."""

    reach: ClassVar[Reach] = Reach()

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        return scope_rows(super().get_queryset(request), self.reach, request.user)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if "queryset" not in kwargs and not _is_unrestricted(request.user):
            related = db_field.remote_field.model
            reach = reach_of(self.admin_site, related)
            kwargs["queryset"] = scope_rows(related._default_manager.all(), reach or Reach(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A related filter lists every row of its model; offer only those among the rows shown.
        return [
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and isinstance(self.opts.get_field(name), ForeignKey)
            else name
            for name in super().get_list_filter(request)  # type: ignore[misc]
        ]

    def refuse_foreign_site(self, request: HttpRequest, obj: Model) -> None:
        """Refuse to save `obj` for a site that `request.user` does not administer."""
        if _is_unrestricted(request.user) or not self.reach.site:
            return
        site_id = _site_id_of(obj, self.reach.site)
        if site_id is None and self.reach.no_site_means_shared:
            return
        if site_id not in sites_administered_by(request.user):
            raise PermissionDenied("You do not administer this site.")


class ScopedModelAdmin[M: Model](ScopedAdminMixin[M], admin.ModelAdmin[M]):
    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        self.refuse_foreign_site(request, obj)
        super().save_model(request, obj, form, change)

    # Views that fetch an object themselves (not through get_queryset) still ask these.
    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._administers(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._administers(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._administers(request, obj)

    def _administers(self, request: HttpRequest, obj: M | None) -> bool:
        if obj is None or obj.pk is None:
            return True
        return scope_rows(self.model._default_manager.filter(pk=obj.pk), self.reach, request.user).exists()


class ScopedTabularInline[M: Model, P: Model](ScopedAdminMixin[M], admin.TabularInline[M, P]):
    pass


class SuperusersOnlyMixin[M: Model](BaseModelAdmin[M]):
    """For admins of machinery no site owns (permission groups, sign-in throttling)."""

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return _is_unrestricted(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return _is_unrestricted(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _is_unrestricted(request.user) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return _is_unrestricted(request.user) and super().has_delete_permission(request, obj)


def reregister(model: type[Model], mixin: type[BaseModelAdmin[Any]], **attributes: Any) -> None:
    """Register again an installed app's admin of `model`, with `mixin` in front of it."""
    original = type(admin.site._registry[model])
    admin.site.unregister(model)
    admin.site.register(model, type(original.__name__, (mixin, original), attributes))


def reach_of(admin_site: admin.AdminSite, model: type[Model]) -> Reach | None:
    """The reach declared for `model` by its registered admin or by an inline of another."""
    registered = admin_site._registry.get(model)
    if isinstance(registered, ScopedAdminMixin):
        return registered.reach
    for model_admin in admin_site._registry.values():
        for inline in model_admin.inlines:
            if issubclass(inline, ScopedAdminMixin) and issubclass(inline, InlineModelAdmin) and inline.model is model:
                return inline.reach
    return None
