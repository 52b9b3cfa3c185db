"""Demonstration infections and prevention plans: for the first patient being handed back, the
standard prophylaxis plan as confirmed by the center (with an antifungal and IVIG whose review
is due this week, so the work queue shows them), an infection, and the revaccination plan.

Seeded before the hand-offs, so the transition hand-off is prefilled with the plan. Recorded
through the services; seeding twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from carecoord.demo import handed_back_patient
from carecoord.models import CareTeamLink, User
from infections.models import InfectionEvent, ProphylaxisItem
from infections.selectors import course_dates, proposed_plan
from infections.services import ProphylaxisInput, VaccinationInput, infection_record, plan_confirm


def seed_infections(recorders: dict[int, User]) -> int:
    """`recorders` maps a site id to who records there (its nurse). Returns the items created."""
    patient = handed_back_patient()
    if patient is None or ProphylaxisItem.objects.filter(patient=patient).exists():
        return 0
    dates = course_dates(patient)
    if dates.day_zero is None:
        return 0
    center = CareTeamLink.objects.open().get(patient=patient, capacity="treating_center").site
    nurse = recorders[center.pk]
    today = center.today()
    plan = proposed_plan(patient)
    proposed = [p for p in plan.prophylaxis if p.include]
    prophylaxis = [ProphylaxisInput(p.kind, p.agent, p.start_on, p.planned_stop_on, p.stop_condition) for p in proposed]
    # Started for prolonged neutropenia and low IgG: both reviewed this week.
    prophylaxis += [
        ProphylaxisInput(
            kind=ProphylaxisItem.Kind.ANTIFUNGAL,
            agent="Fluconazole 400 mg daily",
            start_on=dates.day_zero,
            planned_stop_on=today + dt.timedelta(days=3),
            stop_condition="Until ANC > 500/µL on two counts.",
        ),
        ProphylaxisInput(
            kind=ProphylaxisItem.Kind.IVIG,
            agent="IVIG 0.4 g/kg every 4 weeks",
            start_on=min(today, dates.day_zero + dt.timedelta(days=10)),
            planned_stop_on=today + dt.timedelta(days=10),
            stop_condition="IgG < 400 mg/dL with a serious infection; review with the IgG trough.",
        ),
    ]
    vaccinations = [VaccinationInput(v.vaccine, v.due_on, v.live) for v in plan.vaccinations if v.include]
    items, vaccines = plan_confirm(
        actor=nurse, patient=patient, site=center, prophylaxis=prophylaxis, vaccinations=vaccinations
    )
    infection_record(
        actor=nurse,
        patient=patient,
        site=center,
        body_site=InfectionEvent.BodySite.UPPER_RESPIRATORY,
        organism="Rhinovirus",
        category=InfectionEvent.Category.VIRAL,
        grade=2,
        setting=InfectionEvent.Setting.OUTPATIENT,
        onset_on=min(today, dates.day_zero + dt.timedelta(days=12)),
        confirm_date=True,
    )
    return len(items) + len(vaccines) + 1
