"""Demonstration education: the patient handed back to the community (the first such patient of
the demo, the one `handoffs.demo` sends the transition hand-off for) was taught going home, and
the community clinician the hand-back material, by the treating center's coordinator."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.demo import handed_back_patient
from carecoord.models import User
from carecoord.selectors.patients import treating_center_of
from education.models import Audience, EducationGiven
from education.selectors import current_versions
from education.services import education_record

TAUGHT = [
    ("Hand-back: going home", Audience.PATIENT),
    ("Hand-back: going home", Audience.CAREGIVER),
    ("Hand-back: for the community clinician", Audience.COMMUNITY_CLINICIAN),
]


def seed_education(teachers: dict[int, User]) -> int:
    """`teachers` maps a center's site id to the coordinator who teaches there."""
    patient = handed_back_patient()
    if patient is None or EducationGiven.objects.filter(patient=patient).exists():
        return 0
    center = treating_center_of(patient.pk)
    if center is None:
        return 0
    versions = {version.material.name: version for version in current_versions()}
    created = 0
    for offset, (name, recipient) in enumerate(TAUGHT):
        version = versions.get(name)
        if version is None:
            continue  # a site administrator removed the starter material
        education_record(
            actor=teachers[center.pk],
            patient=patient,
            site=center,
            version=version,
            recipient=recipient,
            given_at=timezone.now() - dt.timedelta(days=1, minutes=10 * offset),
        )
        created += 1
    return created
