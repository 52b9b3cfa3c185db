"""A CAR-T network at real size, for the benchmarks: one builder, one set of shapes.

    from bench.dataset import Sizes, build, stored
    dataset = build(Sizes(patients=10_000, people=500), now=some_moment)  # drops and recreates the DB

`build` makes the database named in the settings (DATABASE_URL): it drops and creates it,
migrates it, writes sites and their role groups through the app, people and every patient's
story with PostgreSQL COPY (psycopg's `cursor.copy`, batch by batch while the next is written),
the grants and alert emails in SQL from the copied links and alerts, then runs VACUUM ANALYZE
and notes what it built in the database's comment, so `stored()` can tell a benchmark that the
database is already there (`ensure()` builds only when it is not). About two minutes at full
size on the 2-core development machine. `build(..., recreate=False)` writes into the current
database and transaction instead (the tests). Sizes come from the environment by default:
BENCH_PATIENTS (10,000), BENCH_PEOPLE or BENCH_POINT_PERSONS (500), BENCH_SEED (2026); every
build with the same sizes, seed and `now` is the same. Nothing is dated after `now` (default: the current minute).

The shapes, at full size (about 115 rows of the patient record a patient; counts scale with
BENCH_PATIENTS; the small practice's patients are drawn apart, see the last but one):

- **Sites**: 12. Four academic CAR-T centers (Chicago, New York, Denver, Los Angeles time) and
  eight community practices. Every other patient is treated at the first center (about 5,000),
  the rest at the other three in turn. The small practice (Mesa Ridge Oncology) holds 50
  patients, the medium one (Riverbend Cancer Center) 500, the six others share the rest.
- **People**: about 500, each with a membership at one site in a role (a fifth coordinators,
  then physicians, nurses, pharmacists and a read-only scheduler), staffed in proportion to the
  site's patients. One in twenty also has an ended membership elsewhere, one in fifty a
  membership starting in two months elsewhere, one in a hundred a closed account. Group
  memberships are exactly those of `carecoord.access.grants.sync_user_access`: a person is in
  a site-role group while that membership is active and the account open.
- **Personas** (`bench.dataset.people.PERSONAS`, password `PASSWORD`, an authenticator each):
  `center_coordinator` (coordinator at the first center: ~5,000 patients), `sees_50` and
  `sees_500` (coordinators at the small and the medium practice), `sees_all` (coordinator at all
  eight practices: every patient). Each is a point person like their colleagues at one site.
  `bench.dataset.sessions.signed_in_session(email)` gives a signed-in session cookie for an
  HTTP client.
- **Care teams**: every patient is registered at their practice (MRN there; 70 % also have the
  center's) and, once the referral is submitted, shared with the center. 3 % consulted a second
  center whose link has ended. Every link names a primary and a backup point person from the
  site's staff in turn (1 % name none, 1 % only a backup). Grants are exactly those of
  `grants.grant_site_on_patient` for every open link, none for ended ones.
- **Referrals**: one per patient with its moves (`ReferralMove`) and timeline entries, three
  documents; 88 % accepted, the rest draft, submitted, under review, consult scheduled,
  declined or withdrawn, dated in the last weeks (open) or years (closed).
- **Milestones**: ~45 a patient. An accepted patient has the consult and up to four
  preparation steps, then the 45 planned dates of `referrals.schedule.plan_milestones`
  around an infusion day spread over the last five years (8 % still to come, within 45 days).
  Past dates are done (actual within a day or two of the plan), a few visits cancelled, 15 %
  of those due in the last 45 days still open (overdue); three dates a patient were moved by
  hand (manual, with a timeline entry); 15 % had the infusion moved. Conflicts are those of
  `referrals.conflicts.find_conflicts`, half of them confirmed; the cached phase is
  `referrals.phase.phase_of`.
- **Toxicities** after the infusion: CRS (65 % of patients, grades 1-4 by the ASTCT inputs of
  `toxicity.assessment.grade_assessment`), ICANS (22 %), infections, cytopenias,
  hypogammaglobulinemia; a quarter reassessed (grade up or down), treatments from grade 2,
  resolved after two to fourteen days when two weeks have passed.
- **Alerts**: one per point person at every open care-team site for each recording, rise of
  grade and resolution (the site's coordinators where it names no primary); the recording
  site's acknowledged at once, the others by the primary within minutes to hours (half of those
  of the last two days still open), late ones escalated to the backup and coordinators. Each
  alert to someone other than the recorder has its outbox row, sent.
- **Hand-offs**: the transition to community care at the hand-back day (90 %, mostly
  acknowledged, a tenth with a question and its answer), drafts for patients still in
  monitoring, a toxicity transfer for half the severe toxicities seen at the practice.
- **Treatment history**: one to four lines of therapy a patient (the disease's usual regimens
  in order, with their drug classes), ending before the referral, a third refractory, most
  with a relapse date; recorded at registration. The candidate standings
  (`candidates.standings`) are then written from them, as the hourly pass would.
- **Comments**: 2 to 6 around the busy months, then about one a year.
- **The small practice is a busy one**: its 50 patients are drawn with a generator of their own
  (seeded from BENCH_SEED; `Stories.busy_practice`, written after every other patient, whose
  rows and ids stay those of the shapes above). Of each 25, four are newly registered with a
  draft referral and two lines of therapy or more (CAR-T candidates) and three were referred and
  wait on the center (no primary point person named yet for these seven); 18 were infused 31 to
  150 days ago, each handed back with its transition hand-off, with the toxicity rates of the
  products that cause the most (CRS in nine of ten), each severe one seen at the practice
  transferred to the center. Its coordinator persona is every patient's backup point person, and
  the practice has not caught up: 85 % of the alerts and hand-offs of those months are not
  acknowledged, half the visits due in the last 45 days not recorded. So its coordinator's pages
  are as full as the network's: open alerts, milestones due, hand-offs, referrals waiting, links
  without a primary; not the CAR-T candidates (a page of 50 is more than 50 patients can hold
  beside the rest).
- **The showcase patient** (`Dataset.showcase_patient`, family name "Timeline"): at one of the
  six larger practices and the first center, infused 200 days ago, with CRS, ICANS, the
  transition hand-off and 350 timeline entries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.dataset.builder import Dataset, build, ensure, recreate_database, stored
    from bench.dataset.people import PASSWORD, PERSONAS, Persona
    from bench.dataset.sessions import signed_in_session
    from bench.dataset.sizes import Sizes

# Imported on first use, so that `python -m bench.dataset` can set Django up first.
_WHERE = {
    "Dataset": "builder",
    "build": "builder",
    "ensure": "builder",
    "recreate_database": "builder",
    "stored": "builder",
    "PASSWORD": "people",
    "PERSONAS": "people",
    "Persona": "people",
    "signed_in_session": "sessions",
    "Sizes": "sizes",
}
__all__ = [
    "PASSWORD",
    "PERSONAS",
    "Dataset",
    "Persona",
    "Sizes",
    "build",
    "ensure",
    "recreate_database",
    "signed_in_session",
    "stored",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"bench.dataset.{_WHERE[name]}"), name)
