"""The admins that installed apps register for accounts, scoped like ours.

A person's authenticator devices are their site administrators' to see and reset; permission
groups (which carry the site grants, written only by carecoord.access.grants) and sign-in
throttling records belong to no site, so they are for superusers alone.
"""

from __future__ import annotations

import django_otp.plugins.otp_totp.admin  # noqa: F401 - registers the admin scoped below
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.admin import StaticTokenInline as OtpStaticTokenInline
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.admin_scoping import Reach, ScopedAdminMixin, ScopedModelAdmin, SuperusersOnlyMixin, reregister


class StaticTokenInline(ScopedAdminMixin[StaticToken], OtpStaticTokenInline):
    reach = Reach(person="device__user")


def scope_account_admins() -> None:
    reregister(TOTPDevice, ScopedModelAdmin, reach=Reach(person="user"))
    reregister(StaticDevice, ScopedModelAdmin, reach=Reach(person="user"), inlines=[StaticTokenInline])
    for model in (Group, AccessAttempt, AccessLog, AccessFailureLog):
        reregister(model, SuperusersOnlyMixin)
