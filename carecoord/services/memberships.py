from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from carecoord.access.grants import sync_user_access
from carecoord.accounts.api_tokens import api_tokens_revoke_all
from carecoord.accounts.sessions import end_sessions
from carecoord.models import Site, SiteMembership, User
from carecoord.roles import Role


def membership_start(
    *,
    user: User,
    site: Site,
    role: Role | str,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    title: str = "",
) -> SiteMembership:
    """Record that `user` works at `site` in `role`; access follows at once if active today."""
    starts_on = starts_on or site.today()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "The end date cannot be before the start date."})
    with transaction.atomic():
        membership = SiteMembership.objects.create(
            user=user, site=site, role=role, starts_on=starts_on, ends_on=ends_on, title=title
        )
        sync_user_access(user)
    return membership


def membership_end(*, membership: SiteMembership, ends_on: dt.date | None = None) -> SiteMembership:
    """End a membership (today by default); access through it stops after that date."""
    ends_on = ends_on or membership.site.today()
    if ends_on < membership.starts_on:
        raise ValidationError({"ends_on": "The end date cannot be before the start date."})
    with transaction.atomic():
        membership.ends_on = ends_on
        membership.save(update_fields=["ends_on"])
        sync_user_access(membership.user)
    return membership


def membership_revoke_now(*, membership: SiteMembership) -> SiteMembership:
    """End a membership with immediate effect (it ends yesterday, in site time)."""
    yesterday = membership.site.today() - dt.timedelta(days=1)
    with transaction.atomic():
        if yesterday < membership.starts_on:
            membership.starts_on = yesterday
        membership.ends_on = yesterday
        membership.save(update_fields=["starts_on", "ends_on"])
        sync_user_access(membership.user)
    return membership


def user_deactivate(*, user: User) -> User:
    """Close an account: no sign-in and no access through any membership."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        sync_user_access(user)
        end_sessions(user)
        api_tokens_revoke_all(user=user)
    return user
