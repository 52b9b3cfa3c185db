"""What a calendar shows, read afresh from the person's access at every read.

A feed shows the milestones of the patients its person is point person for (on an open
care-team link) at a site where they still work, among the patients they still see: a person
deactivated, whose membership ended, or no longer named point person stops seeing the patient
at the next read. Each patient is named by the minimum that identifies them to that person:
their site's MRN, else initials (docs/clinical-rules.md#minimum-phi). Two queries whatever the
number of patients and milestones (after the person's access key, kept for the request).
"""

from __future__ import annotations

import uuid

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Left

from carecoord.access.scope import access_key, visible_patient_ids
from carecoord.lookups import AnyOf
from carecoord.models import Patient, PatientIdentifier, PointPerson, User
from carecoord.models.patients import initials_of
from referrals.models import Milestone


def patient_label(mrn: str | None, given_initial: str, family_initial: str) -> str:
    """How an event names its patient: the MRN at the reader's site, else the initials."""
    return f"MRN {mrn}" if mrn else initials_of(given_initial, family_initial)


def _mrn_at(*, patient: str, site: str) -> Subquery:
    """The MRN of the outer row's patient at its site (`patient`, `site`: the outer columns)."""
    identifiers = PatientIdentifier.objects.filter(patient_id=OuterRef(patient), site_id=OuterRef(site))
    return Subquery(identifiers.values("mrn")[:1])


def feed_patients(user: User) -> dict[uuid.UUID, str]:
    """The patients `user`'s feed shows, each with its label (one query)."""
    sites = sorted(set(access_key(user).site_of_group.values()))
    if not sites:
        return {}
    rows = (
        PointPerson.objects.open()
        .filter(user_id=user.pk, link__site_id__in=sites, link__patient_id__in=visible_patient_ids(user))
        .annotate(
            patient_id=F("link__patient_id"),
            mrn=_mrn_at(patient="link__patient_id", site="link__site_id"),
            given_initial=Left("link__patient__given_name", 1),
            family_initial=Left("link__patient__family_name", 1),
        )
        # A person named at two sites of one patient: the first site's MRN, whichever it is.
        .order_by("link__patient_id", "link__site_id")
        .values_list("patient_id", "mrn", "given_initial", "family_initial")
    )
    labels: dict[uuid.UUID, str] = {}
    for patient_id, mrn, given_initial, family_initial in rows:
        labels.setdefault(patient_id, patient_label(mrn, given_initial, family_initial))
    return labels


def patient_label_for(patient: Patient, site_id: int | None) -> str:
    """A patient already loaded through the access path, named for a reader at `site_id`."""
    mrn = None
    if site_id is not None:
        mrn = PatientIdentifier.objects.filter(patient=patient, site_id=site_id).values_list("mrn", flat=True).first()
    return patient_label(mrn, patient.given_name[:1], patient.family_name[:1])


def dated_milestones(patient_ids: list[uuid.UUID]) -> list[Milestone]:
    """Every milestone of the patients with a date, planned or actual (one query); cancelled ones
    too, so that a calendar app takes them off. Only what an event shows is read."""
    if not patient_ids:
        return []
    return list(
        Milestone.objects.filter(AnyOf(F("referral__patient_id"), patient_ids))
        .filter(Q(planned_on__isnull=False) | Q(actual_on__isnull=False))
        .annotate(patient_id=F("referral__patient_id"))
        .only("pk", "kind", "planned_on", "actual_on", "status", "updated_at")
        .order_by("planned_on", "pk")
    )
