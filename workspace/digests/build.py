"""What one point person's weekly digest says, read in a fixed number of queries.

Everything for all of the person's patients is fetched at once (`patient__in`) by each app's
sections (`carecoord.digest_sections`) and grouped here, so the number of queries does not grow
with patients or events. Every read is of values (tuples), and only of the rows the digest
shows: a course's done or far-off milestones are never loaded. The digest carries the minimum
(docs/clinical-rules.md#minimum-phi): the site-local MRN or initials, event titles and dates;
never a full name, a diagnosis or a free-text note.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Left
from django.utils import timezone

from carecoord.access import visible_patient_ids
from carecoord.digest_sections import DigestScope, digest_sections
from carecoord.lookups import InArray
from carecoord.models import CareTeamLink, PatientIdentifier, PointPerson, User
from carecoord.models.patients import Phase, initials_of
from carecoord.zones import zone_of
from referrals.deaths import died_heading


@dataclass
class PatientDigest:
    """One patient's part of the digest, as plain values (stored as JSON, rendered as is).

    `patient_id` is not rendered: the in-app page uses it to leave out patients the reader no
    longer sees (`workspace.digests.stored`).
    """

    patient_id: str
    reference: str
    site: str
    phase: str
    day: str | None
    active: list[str] = field(default_factory=list)  # active toxicities: shown first
    recent: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)

    @property
    def reports(self) -> bool:
        """Whether the section says anything (a patient with nothing to report is left out)."""
        return bool(self.active or self.recent or self.due or self.overdue)


@dataclass
class Digest:
    """A point person's week: one section per patient they are point person for."""

    week_start: dt.date
    today: dt.date
    patients: list[PatientDigest]

    @property
    def is_empty(self) -> bool:
        return not any(p.reports for p in self.patients)

    def to_content(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "today": self.today.isoformat(),
            "is_empty": self.is_empty,
            # vars(), not asdict(): the fields are strings and lists of strings, already fresh.
            "patients": [vars(p) for p in self.patients],
        }


def build_digest(user: User, week_start: dt.date, today: dt.date, *, zone: zoneinfo.ZoneInfo | None = None) -> Digest:
    """The digest of `user` for the week of `week_start`, as seen on `today` (their date in site time)."""
    zone = zone or zone_of(user, today)
    now = timezone.now()
    # The care-team links naming the person still open on patients they see, with what the
    # heading shows: the values only, and of the names only their first letters. The links
    # naming the person are an array computed first (`InArray`): as a join or `IN (subquery)`,
    # PostgreSQL reads every care-team link to find the person's hundred or so.
    named = PointPerson.objects.filter(user=user).order_by().values("link_id")
    roles = (
        CareTeamLink.objects.open()
        .filter(InArray(F("pk"), named), patient_id__in=visible_patient_ids(user))
        .annotate(
            mrn=Subquery(
                PatientIdentifier.objects.filter(patient=OuterRef("patient_id"), site=OuterRef("site_id"))
                .order_by()  # one at most: unique per patient and site
                .values("mrn")[:1]
            ),
            given_initial=Left("patient__given_name", 1),
            family_initial=Left("patient__family_name", 1),
        )
        # One section per patient, under the first of the person's sites on that care team.
        .order_by("patient_id", "site_id")
        .values_list(
            "patient_id",
            "site_id",
            "site__name",
            "mrn",
            "given_initial",
            "family_initial",
            "patient__phase",
            "patient__death__died_on",
        )
    )
    headings: dict[uuid.UUID, tuple[str, str, str, dt.date | None]] = {}
    site_ids: set[int] = set()
    for patient_id, site_id, site_name, mrn, given_initial, family_initial, cached_phase, died_on in roles:
        site_ids.add(site_id)
        if patient_id not in headings:
            reference = f"MRN {mrn}" if mrn else f"patient {initials_of(given_initial, family_initial)}"
            headings[patient_id] = (reference, site_name, cached_phase, died_on)
    if not headings:
        return Digest(week_start=week_start, today=today, patients=[])
    patient_ids = list(headings)
    scope = DigestScope(user=user, patient_ids=patient_ids, site_ids=site_ids, today=today, zone=zone, now=now)
    # Each app's sections (carecoord.digest_sections), in their order.
    active: dict[uuid.UUID, list[str]] = defaultdict(list)
    recent: dict[uuid.UUID, list[str]] = defaultdict(list)
    due: dict[uuid.UUID, list[str]] = defaultdict(list)
    overdue: dict[uuid.UUID, list[str]] = defaultdict(list)
    phases: dict[uuid.UUID, str] = {}
    days: dict[uuid.UUID, str] = {}
    for section in digest_sections():
        read = section.read(scope)
        for lines, part in ((read.active, active), (read.recent, recent), (read.due, due), (read.overdue, overdue)):
            for patient_id, text in lines:
                part[patient_id].append(text)
        phases.update(read.phases)
        days.update(read.days)

    sections = [
        PatientDigest(
            patient_id=str(patient_id),
            reference=reference,
            site=site_name,
            # A patient who died is headed so, every week they are in a digest; else the phase a
            # section knows, else the one cached on the patient.
            phase=died_heading(died_on) if died_on else phases.get(patient_id) or Phase(cached_phase).label,
            day=None if died_on else days.get(patient_id),
            active=active[patient_id],
            recent=recent[patient_id],
            due=due[patient_id],
            overdue=overdue[patient_id],
        )
        for patient_id, (reference, site_name, cached_phase, died_on) in headings.items()
    ]
    # A patient with an active toxicity or something overdue comes first.
    sections.sort(key=lambda s: (not (s.active or s.overdue), s.reference))
    return Digest(week_start=week_start, today=today, patients=sections)
