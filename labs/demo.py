"""Demonstration counts: the first patient the hand-off demo hands back gets the blood counts,
CD4, IgG and inflammation markers of a typical course from day 0 (up to today, within the
first 90 days), entered by the center's nurse until the hand-back and by the practice's after.

The course makes an early ICAHT grade 3 (about two weeks at or below 500/µL), a platelet count
and an IgG below their thresholds, so the point persons are told, as in real use, through the
outbox. Seeding twice changes nothing.
"""

from __future__ import annotations

from django.utils import timezone

from carecoord.demo import handed_back_patient
from carecoord.models import CareTeamLink, User
from labs.entry import read_pasted
from labs.models import LabResult
from labs.services import lab_results_record
from referrals.day_zero import day_zero_of

HANDED_BACK_ON_DAY = 21
# Day +N -> what a report of that day says, pasted as a clinician would.
COURSE: dict[int, str] = {
    0: "ANC 1.8\nPLT 120\nHb 10.2\nALC 0.2\nIgG 520 mg/dL\nFerritin 310\nCRP 4",
    2: "ANC 0.9\nPLT 95\nCRP 85\nFerritin 2400",
    4: "ANC 0.3\nPLT 60\nHb 9.1",
    6: "ANC 0.15\nCRP 40",
    8: "ANC 0.08\nPLT 25\nHb 8.9\nFerritin 900",
    10: "ANC 0.06",
    12: "ANC 0.09\nPLT 18\nHb 8.1",
    14: "ANC 0.25\nPLT 22\nIgG 410 mg/dL\nCRP 6",
    17: "ANC 0.45\nPLT 30",
    21: "ANC 0.7\nPLT 41\nHb 8.6\nALC 0.4",
    28: "ANC 1.1\nPLT 55\nHb 9.0\nIgG 360 mg/dL\nCD4 90",
    35: "ANC 1.3\nPLT 70",
    45: "ANC 1.4\nPLT 90\nHb 10.5",
    60: "ANC 1.6\nPLT 120\nIgG 340 mg/dL\nCD4 140",
    75: "ANC 1.9\nPLT 135\nHb 11.2",
    90: "ANC 2.1\nPLT 150\nHb 11.8\nIgG 420 mg/dL\nCD4 210",
}


def seed_labs(recorders: dict[int, User]) -> int:
    """`recorders` maps a site id to who enters its results. Returns how many were recorded."""
    patient = handed_back_patient()
    if patient is None or LabResult.objects.filter(patient=patient).exists():
        return 0
    day_zero = day_zero_of(patient)
    if day_zero is None:
        return 0
    center = CareTeamLink.objects.open().get(patient=patient, capacity="treating_center").site
    practice = CareTeamLink.objects.open().get(patient=patient, capacity="community_practice").site
    today = timezone.localdate(timezone=practice.zone)
    recorded = 0
    for site, days in ((center, range(HANDED_BACK_ON_DAY)), (practice, range(HANDED_BACK_ON_DAY, 91))):
        text = "\n".join(
            f"day +{day}\n{COURSE[day]}"
            for day in days
            if day in COURSE and (day_zero.toordinal() + day) <= today.toordinal()
        )
        if not text:
            continue
        entries = read_pasted(text, taken_on=None, day_zero=day_zero)
        result = lab_results_record(actor=recorders[site.pk], patient=patient, site=site, entries=entries)
        recorded += len(result.created)
    return recorded
