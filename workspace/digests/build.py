"""What one point person's weekly digest says, read in a fixed number of queries.

Everything for all of the person's patients is fetched at once (`patient__in`) and grouped
here, so the number of queries does not grow with patients or events. The digest carries the
minimum (docs/clinical-rules.md#minimum-phi): the site-local MRN or initials, event titles and
dates; never a full name, a diagnosis or a free-text note.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone

from carecoord.access import patients_visible_to
from carecoord.models import CareTeamLink, PatientIdentifier, PointPerson, SiteMembership, TimelineEntry, User
from handoffs.models import Handoff
from referrals.day_zero import day_zero_in
from referrals.milestones.kinds import milestone_label
from referrals.models import Milestone, Referral
from referrals.phase import phases_now
from referrals.schedule import day_label
from toxicity.models import Alert

RECENT_DAYS = 7
DUE_DAYS = 14
UTC = zoneinfo.ZoneInfo("UTC")


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
    recent: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)


@dataclass
class Digest:
    """A point person's week: one section per patient they are point person for."""

    week_start: dt.date
    today: dt.date
    patients: list[PatientDigest]

    @property
    def is_empty(self) -> bool:
        return not any(p.recent or p.due or p.overdue for p in self.patients)

    def to_content(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "today": self.today.isoformat(),
            "is_empty": self.is_empty,
            "patients": [asdict(p) for p in self.patients],
        }


def zones_of(user_ids: Iterable[int], today: dt.date | None = None) -> dict[int, zoneinfo.ZoneInfo]:
    """Each person's zone: their first active membership site's (one query for everyone).
    People with no active membership are left out."""
    memberships = (
        SiteMembership.objects.active_on(today or timezone.now().date())
        .filter(user__in=list(user_ids))
        .select_related("site")
        .order_by("starts_on", "pk")
    )
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    for membership in memberships:
        zones.setdefault(membership.user_id, membership.site.zone)
    return zones


def zone_of(user: User, today: dt.date | None = None) -> zoneinfo.ZoneInfo:
    """The zone of the person's first active membership site; UTC when they have none."""
    return zones_of([user.pk], today).get(user.pk, UTC)


def _day_text(day: dt.date) -> str:
    return day.strftime("%a %d %b")


def _site_day_text(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    """The day of `moment` in site time (the reader's site's `zone`)."""
    return _day_text(moment.astimezone(zone).date()) if moment else "?"


def build_digest(user: User, week_start: dt.date, today: dt.date, *, zone: zoneinfo.ZoneInfo | None = None) -> Digest:
    """The digest of `user` for the week of `week_start`, as seen on `today` (their date in site time)."""
    zone = zone or zone_of(user, today)
    now = timezone.now()
    roles = list(
        PointPerson.objects.open()
        .filter(user=user, link__patient__in=patients_visible_to(user))
        .select_related("link__patient", "link__site")
    )
    if not roles:
        return Digest(week_start=week_start, today=today, patients=[])
    # One section per patient, keyed by the first of the person's sites on that care team.
    links: dict[uuid.UUID, CareTeamLink] = {}
    for role in sorted(roles, key=lambda r: (r.link.patient_id, r.link.site_id)):
        links.setdefault(role.link.patient_id, role.link)
    patient_ids = list(links)
    site_ids = {role.link.site_id for role in roles}

    mrns = {
        (patient_id, site_id): mrn
        for patient_id, site_id, mrn in PatientIdentifier.objects.filter(
            patient__in=patient_ids, site__in=site_ids
        ).values_list("patient_id", "site_id", "mrn")
    }
    since = dt.datetime.combine(today - dt.timedelta(days=RECENT_DAYS), dt.time(), tzinfo=zone)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    recent: dict[uuid.UUID, list[str]] = defaultdict(list)
    # The biggest read of a digest (a week of every patient's events): tuples, not model
    # instances, and each day's label formatted once.
    day_labels: dict[dt.date, str] = {}
    for patient_id, occurred_at, title in TimelineEntry.objects.filter(
        patient__in=patient_ids, occurred_at__gte=since, occurred_at__lt=until
    ).values_list("patient_id", "occurred_at", "title"):
        day = occurred_at.astimezone(zone).date()
        label = day_labels.get(day) or day_labels.setdefault(day, _day_text(day))
        recent[patient_id].append(f"{label}: {title}")

    by_patient: dict[uuid.UUID, list[Milestone]] = defaultdict(list)
    due: dict[uuid.UUID, list[str]] = defaultdict(list)
    overdue: dict[uuid.UUID, list[str]] = defaultdict(list)
    milestones = (
        Milestone.objects.filter(referral__patient__in=patient_ids)
        .exclude(status=Milestone.Status.CANCELLED)
        .select_related("referral")
        .order_by("referral__created_at", "planned_on", "pk")
    )
    horizon = today + dt.timedelta(days=DUE_DAYS)
    for milestone in milestones:
        patient_id = milestone.referral.patient_id
        by_patient[patient_id].append(milestone)
        if milestone.status != Milestone.Status.PLANNED or milestone.planned_on is None:
            continue
        label = milestone_label(milestone.kind)
        if milestone.has_open_conflict:
            overdue[patient_id].append(
                f"Date conflict: {label} on {_day_text(milestone.planned_on)}. {milestone.conflict}"
            )
        if today <= milestone.planned_on <= horizon:
            due[patient_id].append(f"{_day_text(milestone.planned_on)}: {label}")
        elif milestone.is_overdue(today):
            overdue[patient_id].append(f"{label} was planned on {_day_text(milestone.planned_on)}, not recorded")

    for alert in (
        Alert.objects.unacknowledged()
        .filter(recipient=user, event__patient__in=patient_ids)
        .select_related("event")
        .order_by("created_at")
    ):
        overdue[alert.event.patient_id].append(
            f"Unacknowledged {alert.event.get_kind_display()} alert, grade {alert.grade}, "
            f"since {_site_day_text(alert.created_at, zone)}"
        )
    for handoff in (
        Handoff.objects.acknowledgement_overdue(now)
        .filter(patient__in=patient_ids, to_site__in=site_ids)
        .order_by("acknowledge_by")
    ):
        overdue[handoff.patient_id].append(
            f"Hand-off not acknowledged, due {_site_day_text(handoff.acknowledge_by, zone)}"
        )
    for referral in (
        Referral.objects.acknowledgement_overdue(now)
        .filter(patient__in=patient_ids, to_center__in=site_ids)
        .order_by("acknowledge_by")
    ):
        overdue[referral.patient_id].append(
            f"Referral waiting on your site, acknowledgement due {_site_day_text(referral.acknowledge_by, zone)}"
        )

    phases = phases_now(patient_ids)
    sections = []
    for patient_id, link in links.items():
        patient = link.patient
        mrn = mrns.get((patient_id, link.site_id))
        infused = day_zero_in(by_patient[patient_id])
        sections.append(
            PatientDigest(
                patient_id=str(patient_id),
                reference=f"MRN {mrn}" if mrn else f"patient {patient.initials}",
                site=link.site.name,
                phase=phases[patient_id].label,
                day=day_label(infused, today) if infused else None,
                recent=recent[patient_id],
                due=due[patient_id],
                overdue=overdue[patient_id],
            )
        )
    sections.sort(key=lambda s: (not s.overdue, s.reference))
    return Digest(week_start=week_start, today=today, patients=sections)
