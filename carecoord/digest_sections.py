"""The sections of the weekly digest, each contributed by the app whose data it reads.

The digest (`workspace.digests.build`) tells one point person about the patients they are
point person for. Each app registers its sections in its `AppConfig.ready`; the digest asks
every section, in their `order`, about all of those patients at once, and appends the lines
it gets to each patient's parts: a patient's lines come in the order of the sections. A
section reads in a fixed number of queries whatever the number of patients, so the digest's
queries do not grow with them either.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from django.db.models import F

from carecoord.lookups import AnyOf, IdArray
from carecoord.models import User


@dataclass(frozen=True)
class DigestScope:
    """Whom and what one digest is about, as each section needs it."""

    user: User
    patient_ids: list[uuid.UUID]
    site_ids: set[int]  # the reader's sites on these patients' care teams
    today: dt.date  # the reader's date in site time
    zone: zoneinfo.ZoneInfo  # the reader's site's zone
    now: dt.datetime
    # What sections read once for all of them (`shared`), by the function that reads it.
    reads: dict[Callable[[DigestScope], object], object] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def day_text(day: dt.date) -> str:
        """A date as every digest line writes it ("Mon 07 Dec")."""
        return day.strftime("%a %d %b")

    @cached_property
    def _patient_array(self) -> IdArray:
        return IdArray(self.patient_ids)

    def of_patients(self, field: str = "patient_id") -> AnyOf:
        """The condition "`field` is one of the digest's patients", for `filter()`: the ids go
        as one parameter (`carecoord.lookups.AnyOf`), not one each, written once per digest."""
        return AnyOf(F(field), self._patient_array)

    def shared[T](self, read: Callable[[DigestScope], T]) -> T:
        """`read(self)`, made once for this digest whichever section asks first: several
        sections of one app that need the same rows (the patients' referrals) read them once."""
        if read not in self.reads:
            self.reads[read] = read(self)
        return cast(T, self.reads[read])

    def site_day_text(self, moment: dt.datetime | None) -> str:
        """The day of `moment` in site time (the reader's zone); "?" without one."""
        return self.day_text(moment.astimezone(self.zone).date()) if moment else "?"


RECENT_DAYS = 7  # "the past week" of the digest


def recent_window(scope: DigestScope) -> tuple[dt.datetime, dt.datetime]:
    """The past week as the digest reads it: from the start of the day `RECENT_DAYS` days ago
    to the end of today, in the reader's zone."""
    since = dt.datetime.combine(scope.today - dt.timedelta(days=RECENT_DAYS), dt.time(), tzinfo=scope.zone)
    until = dt.datetime.combine(scope.today + dt.timedelta(days=1), dt.time(), tzinfo=scope.zone)
    return since, until


type Lines = list[tuple[uuid.UUID, str]]  # (patient, line), in the order the digest shows them


@dataclass
class SectionRead:
    """What one section says of the patients: lines for each part of a patient's entry (the
    toxicities still active, whenever they began; what happened this past week, what is due in
    the coming days, what is overdue or waits on the reader), and, when the section knows them,
    each patient's phase (its label) and day counted from the infusion ("day +14")."""

    active: Lines = field(default_factory=list)
    recent: Lines = field(default_factory=list)
    due: Lines = field(default_factory=list)
    overdue: Lines = field(default_factory=list)
    phases: dict[uuid.UUID, str] = field(default_factory=dict)
    days: dict[uuid.UUID, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DigestSection:
    """One registered section; `order` fixes where its lines go among the others'."""

    name: str
    order: int
    read: Callable[[DigestScope], SectionRead]


_registry: dict[str, DigestSection] = {}


def register_digest_section(section: DigestSection) -> DigestSection:
    if any(other.order == section.order and other.name != section.name for other in _registry.values()):
        raise ValueError(f"Digest section {section.name!r}: order {section.order} is taken; the order must be fixed.")
    _registry[section.name] = section
    return section


def digest_sections() -> list[DigestSection]:
    """Every registered section, in their order."""
    return sorted(_registry.values(), key=lambda section: section.order)
