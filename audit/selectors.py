"""Reads of the audit trail, already scoped to the site administrator asking."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet

from audit.models import AuditEntry
from carecoord.access import patients_visible_to, visible_patient_ids
from carecoord.access.scope import AnyUser, access_key
from carecoord.models import Patient, User


def _is_administrator(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def audit_patients_for(user: AnyUser) -> QuerySet[Patient]:
    """The patients whose entries `user` may search: all for a superuser, else those visible."""
    if not _is_administrator(user):
        return Patient.objects.none()
    return Patient.objects.all() if user.is_superuser else patients_visible_to(user)


def audit_entries_for(user: AnyUser) -> QuerySet[AuditEntry]:
    """Entries a site administrator may read, newest first.

    A superuser reads every entry. Other staff read the entries about patients visible to
    them and those written from a site where they actively work (their site-role groups).
    Everyone else reads none.
    """
    if not isinstance(user, User) or not _is_administrator(user):
        return AuditEntry.objects.none()
    entries = AuditEntry.objects.all()
    if not user.is_superuser:
        own_sites = set(access_key(user).site_of_group.values())
        entries = entries.filter(Q(patient_id__in=visible_patient_ids(user)) | Q(site_id__in=own_sites))
    return entries.order_by("-at", "-pk")


def audit_entries_filtered(
    entries: QuerySet[AuditEntry],
    *,
    patient_id: uuid.UUID | None = None,
    email: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEntry]:
    """`entries` about one patient, by one person (email), from `since` to before `until`."""
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    if email:
        entries = entries.filter(actor_email__iexact=email)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries


def with_display(entries: QuerySet[AuditEntry], user: AnyUser) -> QuerySet[AuditEntry]:
    """Joined with the site and patient for the page, in the same query.

    `patient_shown` says whether the reader may see the patient's name: an entry written
    from the reader's site may be about a patient no longer shared with it.
    """
    return entries.select_related("site", "patient").annotate(
        patient_shown=Exists(audit_patients_for(user).filter(pk=OuterRef("patient_id")))
    )
