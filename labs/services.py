"""Writes of lab results: keyword-only arguments, one transaction, the audit rows, and the
same-day notice of flagged values to the patient's point persons through the outbox.

One value, one notice: recording locks the patient's row and looks again at what is there, so
two racing requests (a double click, a file uploaded twice) record each value once and notify
once; the second finds the values already recorded and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.services import audited_atomic, audited_bulk_create, audited_update
from carecoord.access import acting_site_for, require_acting_site
from carecoord.clinical_dates import check_happened
from carecoord.emails import Email, email_queue_new
from carecoord.models import Patient, Site, TimelineEntry, User
from carecoord.recipients import Recipient, alert_recipients
from carecoord.roles import Capability
from carecoord.timeline import timeline_record
from labs.entry import Entry
from labs.kinds import KINDS, LabKind
from labs.models import LabFlagNotice, LabResult
from labs.selectors import flag_thresholds_for
from labs.thresholds import flag_line
from referrals.selectors import record_dates


@dataclass(frozen=True)
class Recorded:
    """What an entry did: the results it created, how many were already there (and which: their
    ids, so a caller shows them without looking them up again), who was told."""

    created: list[LabResult] = field(default_factory=list)
    repeated: int = 0
    notices: list[LabFlagNotice] = field(default_factory=list)
    already: list[int] = field(default_factory=list)

    @property
    def flagged(self) -> list[LabResult]:
        return [result for result in self.created if result.flagged]


def _line(entry: Entry) -> str:
    return f"Line {entry.line}: " if entry.line else ""


def _check_dates(entries: Sequence[Entry], patient: Patient, site: Site, confirmed: bool) -> None:
    dates = record_dates(patient, site.zone)
    errors = []
    for entry in entries:
        try:
            check_happened("taken_on", entry.taken_on, dates, confirmed=confirmed)
        except ValidationError as exc:
            errors += [f"{_line(entry)}{message}" for message in exc.messages]
    if errors:
        raise ValidationError({"taken_on": errors})


def _reference(patient: Patient, mrn: str) -> str:
    """The minimum that identifies the patient to a site: its own MRN, else initials."""
    return f"MRN {mrn}" if mrn else f"patient {patient.initials}"


def _notify(patient: Patient, flagged: Sequence[LabResult], *, actor: User, site: Site) -> list[LabFlagNotice]:
    """Tell each point person (primary and backup at every care-team site, or a site's
    coordinators where it names no primary) of the values flagged, in one email each; the
    person who entered them is told nothing they know, and the notices of their site are
    acknowledged by them at once. The notices name who was told."""
    recipients: list[Recipient] = alert_recipients(patient.pk)
    link = reverse("patient-timeline", kwargs={"patient_id": patient.pk}) + "#counts"
    below = {result.kind: result.flag_below for result in flagged if result.flag_below is not None}
    flags = [flag_line(kind, below[kind]) for kind in sorted(below, key=list(LabKind.values).index)]
    to_email = [r for r in recipients if r.user.pk != actor.pk]
    emails = email_queue_new(
        [
            Email(
                recipient=r.user,
                template="lab-flag",
                context={
                    "reference": _reference(patient, r.mrn),
                    "flags": flags,
                    "taken_on": min(result.taken_on for result in flagged),
                    "measured_at": site.name,
                    "point_site": r.site.name,
                    "link": link,
                },
                dedupe_key=f"lab-flag:{flagged[0].pk}:{r.site.pk}:{r.user.pk}",
            )
            for r in to_email
        ],
        urgent=True,
    )
    email_of = {r.user.pk: email for r, email in zip(to_email, emails, strict=True)}
    seen: set[int] = set()
    notices = []
    now = timezone.now()
    for r in recipients:
        if r.user.pk in seen:  # a person named at two sites is told once
            continue
        seen.add(r.user.pk)
        own_site = r.site.pk == site.pk
        notices += [
            LabFlagNotice(
                result=result,
                recipient=r.user,
                site=r.site,
                role=r.role,
                email=email_of.get(r.user.pk),
                acknowledged_at=now if own_site else None,
                acknowledged_by=actor if own_site else None,
            )
            for result in flagged
        ]
    return audited_bulk_create(LabFlagNotice, notices)


def lab_results_record(
    *, actor: User, patient: Patient, site: Site, entries: Sequence[Entry], confirm_date: bool = False
) -> Recorded:
    """Record results measured at `site` (one of the actor's on the care team); notify the point
    persons of flagged values the same day. A value already recorded (same kind, day, site and
    value) is not recorded again and notifies nobody again."""
    require_acting_site(actor, patient, site, Capability.RECORD_CARE)
    if not entries:
        raise ValidationError({"results": "Enter at least one result."})
    _check_dates(entries, patient, site, confirm_date)
    thresholds = flag_thresholds_for(patient.pk)
    with audited_atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
        there: dict[tuple[str, dt.date, float], int | None] = {
            (kind, taken_on, value): pk
            for kind, taken_on, value, pk in LabResult.objects.filter(
                patient=patient, site=site, taken_on__in={e.taken_on for e in entries}
            ).values_list("kind", "taken_on", "value", "pk")
        }
        new: list[LabResult] = []
        already: dict[int, None] = {}  # the results entered again, in order, once each
        for entry in entries:
            key = (entry.kind, entry.taken_on, entry.reading.value)
            if key in there:
                if (pk := there[key]) is not None:
                    already[pk] = None
                continue
            there[key] = None  # twice in this entry: recorded once
            new.append(
                LabResult(
                    patient=patient,
                    kind=entry.kind,
                    value=entry.reading.value,
                    unit=KINDS[entry.kind].unit,
                    entered_value=entry.reading.entered_value,
                    entered_unit=entry.reading.entered_unit[:32],
                    taken_on=entry.taken_on,
                    site=site,
                    recorded_by=actor,
                    flagged=thresholds.is_flagged(entry.kind, entry.reading.value),
                    flag_below=thresholds.of(entry.kind),
                )
            )
        if not new:
            return Recorded(repeated=len(entries), already=list(already))
        created = audited_bulk_create(LabResult, new)
        flagged = [result for result in created if result.flagged]
        notices = _notify(patient, flagged, actor=actor, site=site) if flagged else []
        values = "; ".join(f"{r.get_kind_display()} {r.value_text} ({r.taken_on:%d %b})" for r in created)
        timeline_record(
            patient=patient,
            kind=TimelineEntry.Kind.LAB,
            actor=actor,
            site=site,
            title=(
                f"Lab results flagged: {', '.join(sorted({r.get_kind_display() for r in flagged}))} "
                f"({len(created)} recorded)"
                if flagged
                else f"Lab results recorded ({len(created)})"
            ),
            body=values,
            subject=created[0],
        )
    return Recorded(created=created, repeated=len(entries) - len(created), notices=notices, already=list(already))


def lab_flag_acknowledge(*, actor: User, notice: LabFlagNotice) -> int:
    """The person told has seen the flagged values: their site's open notices of the patient
    count as seen too. Returns how many notices that acknowledged.

    They act for the site they were told as, while they still work there: what is written is
    signed by that site, not by another site of theirs on the care team."""
    if notice.recipient_id != actor.pk:
        raise PermissionDenied("Only the person told can acknowledge this.")
    if notice.is_acknowledged:
        raise ValidationError({"notice": "Already acknowledged."})
    acting_site_for(actor, notice.result.patient, Capability.VIEW, among=[notice.site])
    with audited_atomic():
        return audited_update(
            LabFlagNotice.objects.unacknowledged().filter(
                result__patient_id=notice.result.patient_id, site=notice.site
            ),
            acknowledged_at=timezone.now(),
            acknowledged_by=actor,
        )
