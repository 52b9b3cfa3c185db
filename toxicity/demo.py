"""Demonstration toxicities: CRS, ICANS and an infection on treated demo patients.

Recorded through the services (so point persons are alerted as in real use) for patients who
have none yet; seeding twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.models import CareTeamLink, Patient, Site, User
from carecoord.models.patients import Phase
from referrals.day_zero import day_zero_of
from toxicity.alerts import alert_acknowledge
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_add_treatment, toxicity_assess, toxicity_record, toxicity_resolve

CRS_GRADE_1 = {"temperature_c": 38.4}
CRS_GRADE_2 = {"temperature_c": 38.9, "hypotension": True}
ICANS_GRADE_1 = {"ice_score": 8}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def _story(
    patient: Patient, infusion_on: dt.date, center: tuple[Site, User], practice: tuple[Site, User], now: dt.datetime
) -> ToxicityEvent | None:
    """The toxicity of the patient's phase, told from day 0: each `(site, who records there)`."""
    (center_site, at_center), (practice_site, at_practice) = center, practice

    def day(n: int) -> dt.datetime:
        return _at(infusion_on + dt.timedelta(days=n), 14)  # 14:00 UTC on day +n

    if patient.phase == Phase.MONITORING:
        event = toxicity_record(
            actor=at_center, patient=patient, site=center_site, kind="crs", onset_at=day(2), inputs=CRS_GRADE_1
        )
        toxicity_assess(actor=at_center, event=event, site=center_site, assessed_at=day(3), inputs=CRS_GRADE_2)
        toxicity_add_treatment(
            actor=at_center,
            event=event,
            site=center_site,
            kind="tocilizumab",
            given_at=day(3),
            detail="8 mg/kg IV, one dose",
        )
    elif patient.phase == Phase.HAND_BACK:
        event = toxicity_record(
            actor=at_center, patient=patient, site=center_site, kind="icans", onset_at=day(5), inputs=ICANS_GRADE_1
        )
        toxicity_add_treatment(
            actor=at_center,
            event=event,
            site=center_site,
            kind="corticosteroid",
            given_at=day(5),
            detail="dexamethasone 10 mg IV every 12 hours",
        )
        toxicity_resolve(actor=at_center, event=event, site=center_site, resolved_on=day(8).date(), outcome="recovered")
    elif day(45) < now:
        event = toxicity_record(
            actor=at_practice,
            patient=patient,
            site=practice_site,
            kind="infection",
            onset_at=day(45),
            ctcae_grade=3,
            infection_site="Lung",
            organism="Respiratory syncytial virus",
        )
        # Treated at the practice: the showcase patient's record then holds something of every
        # kind the FHIR export serves (fhir_api), a medication given included.
        toxicity_add_treatment(
            actor=at_practice, event=event, site=practice_site, kind="antimicrobial", given_at=day(45)
        )
    else:
        return None
    return event


def seed_toxicities(recorder: dict[int, User]) -> int:
    """Toxicities for infused demo patients; `recorder` maps site id to who records there."""
    created = 0
    now = timezone.now()
    for patient in Patient.objects.filter(phase__in=[Phase.MONITORING, Phase.HAND_BACK, Phase.FOLLOW_UP]):
        if ToxicityEvent.objects.filter(patient=patient).exists():
            continue
        infusion_on = day_zero_of(patient)
        if infusion_on is None:
            continue
        center = CareTeamLink.objects.open().get(patient=patient, capacity="treating_center").site
        practice = CareTeamLink.objects.open().get(patient=patient, capacity="community_practice").site
        event = _story(patient, infusion_on, (center, recorder[center.pk]), (practice, recorder[practice.pk]), now)
        if event is None:
            continue
        # The older alerts were seen; the newest stay open so the demo shows what waiting looks like.
        if patient.phase != Phase.MONITORING:
            # Acknowledging one alert covers its site's others, so re-read before each.
            while alert := Alert.objects.unacknowledged().filter(event=event).first():
                alert_acknowledge(actor=alert.recipient, alert=alert)
        created += 1
    return created
