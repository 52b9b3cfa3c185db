from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from carecoord.roles import Role

if TYPE_CHECKING:
    from carecoord.models.sites import Site


class SiteMembershipQuerySet(models.QuerySet["SiteMembership"]):
    def active_on(self, day: dt.date) -> SiteMembershipQuerySet:
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))

    def active_at(self, site: Site) -> SiteMembershipQuerySet:
        """The memberships at `site` active on the site's today: who works there now."""
        return self.active_on(site.today()).filter(site=site)


class SiteMembership(models.Model):
    """A person's work at one site in one role, from a start date to an optional end date.

    A person may hold memberships at several sites. A membership is active from `starts_on`
    through `ends_on` inclusive, as dates in the site's time zone; while it is active the
    person sees the patients on whose care team the site is, with what the role allows.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    title = models.CharField(max_length=120, blank=True, help_text="e.g. Nurse coordinator")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    objects = SiteMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["site__name", "user__full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.site}"

    def is_active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    def is_active_today(self, now: dt.datetime | None = None) -> bool:
        """Active on the site's today (as of `now`)."""
        return self.is_active_on(self.site.today(now))
