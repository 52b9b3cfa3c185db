"""The cached candidate standing of each patient with a history (`CandidateStanding`): what
the dashboard's "CAR-T candidates" filter and badge, and the metrics' time from criterion to
referral, read, so that each is one indexed query, not a matching of every history.

The standing is `candidates.matching.assess` on the day at the site that recorded the patient's
latest line of therapy (the practice, as a rule). It is rewritten when what it reads changes
(`candidates.apps`: a line, the transplant candidacy, the patient's disease area or date of
birth, their death, a rule or a product), and hourly by beat (`candidates.tasks`) since days passing change
it too: a relapse window closes, a line ends more than 60 days ago, a birthday comes. Not
audited: it is derived from records whose changes are.

The first-met day is `candidates.first_met` up to that day; the hourly pass keeps one already
found (days passing cannot move it) and looks only for the patients who have not met one yet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from candidates.first_met import first_met
from candidates.matching import Standing, assess
from candidates.models import CandidateStanding, TherapyLine
from candidates.selectors import active_rules, dated_histories_of, deceased_among, history_days
from carecoord.access import patients_visible_to
from carecoord.access.scope import AnyUser
from carecoord.lookups import AnyOf
from carecoord.models import Patient
from referrals.models import Referral

BATCH = 1000


def refresh_standings(
    patient_ids: Iterable[uuid.UUID], now: dt.datetime | None = None, *, kept_first_met: bool = False
) -> int:
    """Rewrite the standing and first-met day of these patients (at most BATCH of them): ten
    queries whatever their number. `kept_first_met` (the hourly pass) keeps a first-met day
    already found: only a change to the history or the rules moves it, and those rewrite it at
    once. Returns how many meet or approach a use."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return 0
    days = history_days(ids, now)
    gone = [pk for pk in ids if pk not in days]  # no line (left): no row
    if gone:
        CandidateStanding.objects.filter(AnyOf(F("patient_id"), gone)).delete()
    if not days:  # a patient saved or referred without a history: nothing more to read
        return 0
    patients = Patient.objects.filter(AnyOf(F("pk"), list(days))).only("pk", "disease_area", "date_of_birth")
    known: dict[uuid.UUID, dt.date] = {}
    if kept_first_met:
        rows = CandidateStanding.objects.filter(AnyOf(F("patient_id"), list(days)), first_met_on__isnull=False)
        known = {patient_id: met_on for patient_id, met_on in rows.values_list("patient_id", "first_met_on") if met_on}
    rules = active_rules()
    # A patient who died is nobody's candidate; the first-met day already found stays (the
    # metrics count a candidate never referred).
    deceased = deceased_among(days)
    referred = set(
        Referral.objects.filter(AnyOf(F("patient_id"), list(days)), submitted_at__isnull=False).values_list(
            "patient_id", flat=True
        )
    )
    standings = []
    for patient_id, dated in dated_histories_of(patients).items():
        day = days[patient_id]
        assessment = assess(dated.history, rules, day)
        standings.append(
            CandidateStanding(
                patient_id=patient_id,
                standing=assessment.standing.value if assessment.standing and patient_id not in deceased else "",
                products=assessment.products,
                as_of=day,
                first_met_on=known[patient_id] if patient_id in known else first_met(dated, rules, day),
                referred=patient_id in referred,
            )
        )
    CandidateStanding.objects.bulk_create(
        standings,
        update_conflicts=True,
        unique_fields=["patient"],
        update_fields=["standing", "products", "as_of", "first_met_on", "referred"],
    )
    return sum(1 for standing in standings if standing.standing)


def refresh_every_standing(now: dt.datetime | None = None, *, kept_first_met: bool = False) -> int:
    """Rewrite every standing, in batches: hourly by beat (`kept_first_met`), and entirely when
    a rule or product changes."""
    now = now or timezone.now()
    CandidateStanding.objects.exclude(patient_id__in=TherapyLine.objects.values("patient_id")).delete()
    ids = list(TherapyLine.objects.order_by("patient_id").values_list("patient_id", flat=True).distinct())
    return sum(
        refresh_standings(ids[start : start + BATCH], now, kept_first_met=kept_first_met)
        for start in range(0, len(ids), BATCH)
    )


def standing_patient_ids(standing: str = "") -> QuerySet[Any]:
    """The patients not referred yet who meet a labelled use or approach one (only those of
    `standing` when given), as a subquery of one column. A patient with a referral submitted,
    whatever became of it, has been referred: the filter is of whom to refer."""
    standings = CandidateStanding.objects.filter(referred=False).exclude(standing="")
    if standing:
        standings = standings.filter(standing=standing)
    return standings.values("patient_id")


def candidates_visible_to(user: AnyUser, standing: str = "") -> QuerySet[Patient]:
    """The user's patients who meet a labelled use or approach one (only those of `standing`)."""
    return patients_visible_to(user).filter(pk__in=standing_patient_ids(standing))


def standings_of(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[Standing, list[str]]]:
    """The standing and products of each of these patients that has one, in one query."""
    standings = CandidateStanding.objects.filter(AnyOf(F("patient_id"), list(patient_ids))).exclude(standing="")
    rows = standings.values_list("patient_id", "standing", "products")
    return {patient_id: (Standing(standing), products) for patient_id, standing, products in rows}
