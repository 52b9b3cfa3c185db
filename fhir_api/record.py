"""Everything the FHIR export shows of one patient, loaded in a fixed number of queries.

One query per kind of row, with what each row names (sites, people) joined in, whatever the
number of milestones, events, comments or documents: the resources are then built from these
lists without touching the database again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carecoord.models import CareTeamLink, Patient, PatientDeath, PatientIdentifier, PointPerson, Site, TimelineEntry
from fhir_api.models import ReferralIntake
from handoffs.models import Handoff
from referrals.models import Milestone, Referral, ReferralDocument
from toxicity.models import ToxicityEvent, ToxicityTreatment


@dataclass(frozen=True)
class PatientRecord:
    """One patient's data, each list in the order the resources are listed."""

    patient: Patient
    identifiers: list[PatientIdentifier]
    links: list[CareTeamLink]
    point_persons: list[PointPerson]
    referrals: list[Referral]
    milestones: list[Milestone]
    documents: list[ReferralDocument]
    events: list[ToxicityEvent]
    treatments: list[ToxicityTreatment]
    handoffs: list[Handoff]
    timeline: list[TimelineEntry]
    intakes: list[ReferralIntake]  # the referrals that came in as FHIR bundles, with the sender's identifier
    died_on: dt.date | None = None  # the day of the patient's recorded death

    @property
    def sites(self) -> list[Site]:
        """Every site the record names (care team, referrals, events, hand-offs, timeline), by id."""
        named: list[Site | None] = [
            *(identifier.site for identifier in self.identifiers),
            *(link.site for link in self.links),
            *(site for referral in self.referrals for site in (referral.from_site, referral.to_center)),
            *(milestone.given_at for milestone in self.milestones),
            *(event.reporting_site for event in self.events),
            *(treatment.site for treatment in self.treatments),
            *(site for handoff in self.handoffs for site in (handoff.from_site, handoff.to_site)),
            *(entry.site for entry in self.timeline),
        ]
        by_id = {site.pk: site for site in named if site is not None}
        return [by_id[pk] for pk in sorted(by_id)]


def patient_record(patient: Patient) -> PatientRecord:
    """The record of a patient that came through the access path: thirteen queries."""
    return PatientRecord(
        patient=patient,
        died_on=PatientDeath.objects.filter(patient=patient).values_list("died_on", flat=True).first(),
        identifiers=list(PatientIdentifier.objects.filter(patient=patient).select_related("site")),
        links=list(CareTeamLink.objects.filter(patient=patient).select_related("site")),
        point_persons=list(
            PointPerson.objects.filter(link__patient=patient).select_related("user", "link__site").order_by("pk")
        ),
        referrals=list(
            Referral.objects.filter(patient=patient)
            .select_related("from_site", "to_center", "referring_physician", "product")
            .order_by("created_at", "pk")
        ),
        milestones=list(
            Milestone.objects.filter(referral__patient=patient)
            .select_related("given_at")
            .order_by("referral_id", "planned_on", "pk")
        ),
        documents=list(
            ReferralDocument.objects.filter(referral__patient=patient).select_related("uploaded_by").order_by("pk")
        ),
        events=list(
            ToxicityEvent.objects.filter(patient=patient)
            .with_timing()
            .select_related("reporting_site", "reported_by")
            .order_by("onset_at", "pk")
        ),
        treatments=list(
            ToxicityTreatment.objects.filter(event__patient=patient)
            .select_related("site", "recorded_by")
            .order_by("given_at", "pk")
        ),
        handoffs=list(
            Handoff.objects.filter(patient=patient)
            .select_related("version__template", "from_site", "to_site", "created_by", "sent_by")
            .order_by("created_at", "pk")
        ),
        timeline=list(TimelineEntry.objects.filter(patient=patient).select_related("site", "actor")),
        intakes=list(ReferralIntake.objects.filter(referral__patient=patient).select_related("site").order_by("pk")),
    )
