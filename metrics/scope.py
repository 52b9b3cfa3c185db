"""What a metrics page counts: the viewer's patients (the one access path,
`carecoord.access.visible_patient_ids`), narrowed to one of the viewer's sites or a partner
site on the care team, a product, over a period of days in the viewer's time zone.

Nothing here widens what a person sees: every block starts from `visible_patient_ids` and
only narrows it. A site the viewer does not work at narrows to nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from carecoord.access import visible_patient_ids
from carecoord.access.scope import AnyUser, access_key
from carecoord.models import CareTeamLink, Site
from referrals.models import Referral


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in `zone` (the viewer's)."""

    start: dt.date
    end: dt.date
    zone: zoneinfo.ZoneInfo

    @property
    def since(self) -> dt.datetime:
        """The first moment of the period."""
        return dt.datetime.combine(self.start, dt.time(), tzinfo=self.zone)

    @property
    def until(self) -> dt.datetime:
        """The first moment after the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches, in order."""
        first = self.start.replace(day=1)
        months = []
        while first <= self.end:
            months.append(first)
            first = (first + dt.timedelta(days=32)).replace(day=1)
        return months

    def moments(self, field: str) -> Q:
        """`field` (a moment) within the period."""
        return Q(**{f"{field}__gte": self.since, f"{field}__lt": self.until})

    def days(self, field: str) -> Q:
        """`field` (a date) within the period."""
        return Q(**{f"{field}__gte": self.start, f"{field}__lte": self.end})


@dataclass(frozen=True)
class Cohort:
    """Who is counted and over which days: the patients `visible` (a subquery of patient ids:
    a person's, `for_user`, or a site's, `for_site`), at one of the viewer's own sites
    (`site_id`) or at all of them, shared with a partner site (`partner_id`), referred or
    treated with a product (`product_id`)."""

    visible: QuerySet[Any, Any]
    own_site_ids: frozenset[int]
    period: Period
    now: dt.datetime
    site_id: int | None = None
    partner_id: int | None = None
    product_id: int | None = None

    @classmethod
    def for_user(cls, user: AnyUser, period: Period, now: dt.datetime, **narrowed: int | None) -> Cohort:
        """What `user` sees: the one access path (`visible_patient_ids`)."""
        own = frozenset(access_key(user).site_names)
        return cls(visible_patient_ids(user), own, period, now, **narrowed)

    @classmethod
    def for_site(cls, site: Site, period: Period, now: dt.datetime) -> Cohort:
        """What the staff of `site` see, whoever they are: the patients whose care team it is on
        (its role groups hold their grants exactly while its link is open), for its report."""
        on_team = CareTeamLink.objects.open().filter(site=site).values("patient_id")
        return cls(on_team, frozenset({site.pk}), period, now, site_id=site.pk)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.period.zone).date()

    def patients(self, path: str) -> Q:
        """The rows whose patient (`path`, e.g. "patient" or "referral__patient") is counted."""
        condition = Q(**{f"{path}__in": self.visible})
        if self.site_id is not None:
            own = self.site_id in self.own_site_ids
            on_team = CareTeamLink.objects.open().filter(site_id=self.site_id) if own else CareTeamLink.objects.none()
            condition &= Q(**{f"{path}__in": on_team.values("patient_id")})
        if self.partner_id is not None:
            shared = CareTeamLink.objects.open().filter(site_id=self.partner_id)
            condition &= Q(**{f"{path}__in": shared.values("patient_id")})
        return condition

    def referrals(self, path: str = "") -> Q:
        """The referrals (`path` leads to one, "" for a referral itself) counted: of a counted
        patient, and of the product when one is asked."""
        prefix = f"{path}__" if path else ""
        condition = self.patients(f"{prefix}patient")
        if self.product_id is not None:
            condition &= Q(**{f"{prefix}product_id": self.product_id})
        return condition

    def treated_patients(self, path: str) -> Q:
        """The rows of a counted patient, limited to patients with a referral of the product
        when one is asked (a toxicity, an alert, a hand-off belong to the patient, not to one
        referral)."""
        condition = self.patients(path)
        if self.product_id is not None:
            with_product = Referral.objects.filter(product_id=self.product_id).values("patient_id")
            condition &= Q(**{f"{path}__in": with_product})
        return condition
