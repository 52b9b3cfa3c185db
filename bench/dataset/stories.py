"""Each patient's story, from registration at a practice to years of follow-up, as rows.

One `Stories` writes every patient's rows to the spooled tables (`bench.dataset.tables`),
shaped as the services would have written them: a timeline entry with each referral move,
milestone done or moved, comment, toxicity, treatment, acknowledgement and hand-off; the
course's planned dates from `referrals.schedule.plan_milestones`; grades and their reasons
from `toxicity.assessment.grade_assessment`; conflicts from `referrals.conflicts.find_conflicts`
and the cached phase from `referrals.phase.phase_of`; one alert per point person (a site's
coordinators where it names no primary), acknowledged at once at the recording site, with
its outbox row; the grants of `carecoord.access.grants.grant_site_on_patient` for every open
care-team link. Nothing is dated after `now`.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench.dataset.people import (
    MEDIUM_PRACTICE,
    SMALL_PRACTICE,
    Network,
    Person,
    SiteInfo,
    names,
    practice_sizes,
)
from bench.dataset.sizes import Sizes
from bench.dataset.tables import Table, first_free_id
from carecoord.models import CareTeamLink, PointPerson, TimelineEntry
from carecoord.models.patients import DiseaseArea
from handoffs.models import Handoff, HandoffQuestion
from referrals.conflicts import find_conflicts
from referrals.milestones.kinds import PreparationKind, milestone_label
from referrals.models import Milestone
from referrals.phase import phase_of
from referrals.schedule import MilestoneKind, MonitoringRules, plan_milestones
from referrals.workflow import STATE_LABELS, State, add_business_days
from toxicity.assessment import Graded, grade_assessment
from toxicity.models import Alert, ToxicityEvent, ToxicityKind, ToxicityTreatment

TIMELINE_SHOWCASE = 350  # timeline entries of the showcase patient (the timeline page's benchmark)
CANCELLABLE = ("visit_", "cibmtr_")
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

COMMENTS = (
    "Labs from this morning uploaded; counts recovering.",
    "Patient called about low-grade fever overnight, advised to come in.",
    "Caregiver confirmed lodging near the center through day +28.",
    "Insurance asked for the last PET report; sent.",
    "Please send the discharge summary when available.",
    "Seen in clinic today, no new neurological symptoms.",
    "IVIG given today per the immunoglobulin plan.",
    "Restaging PET scheduled at the center.",
    "Prophylaxis reviewed with the patient; adherent.",
    "Transfusion of one unit of platelets this afternoon.",
    "Follow-up visit moved at the patient's request.",
    "Patient back at work part time, feeling well.",
)
MOVE_REASONS = ("Patient request.", "Clinic capacity.", "Aligned with labs.", "Travel.", "Bed availability.")
ORGANISMS = (("Lung", "Not identified"), ("Bloodstream", "E. coli"), ("Urinary tract", "Klebsiella"), ("Sinus", ""))
DOCUMENTS = (("pathology", "application/pdf"), ("imaging", "application/pdf"), ("labs", "application/pdf"))
# Products by the disease areas they are approved for (carecoord.models.Product.disease_areas).
DISEASES = (
    (DiseaseArea.LBCL, 60),
    (DiseaseArea.MULTIPLE_MYELOMA, 15),
    (DiseaseArea.B_ALL, 8),
    (DiseaseArea.MCL, 7),
    (DiseaseArea.FL, 6),
    (DiseaseArea.CLL_SLL, 4),
)
# (kind, probability, first day of onset from day 0, last day, CTCAE grades to choose from)
TOXICITIES = (
    (ToxicityKind.CRS, 0.65, 1, 7, ()),
    (ToxicityKind.ICANS, 0.22, 3, 10, ()),
    (ToxicityKind.INFECTION, 0.25, 10, 120, (2, 2, 3)),
    (ToxicityKind.CYTOPENIA, 0.2, 20, 90, (3, 3, 4)),
    (ToxicityKind.HYPOGAMMAGLOBULINEMIA, 0.1, 60, 200, (2,)),
)
# ASTCT inputs giving each grade (checked against the grading rules when the catalogue is made).
ASTCT_INPUTS: dict[str, dict[int, dict[str, Any]]] = {
    ToxicityKind.CRS: {
        1: {"temperature_c": 38.6},
        2: {"temperature_c": 39.1, "oxygen": "nasal_cannula", "oxygen_flow_l_min": 2},
        3: {"temperature_c": 39.4, "hypotension": True, "vasopressors": 1},
        4: {"temperature_c": 39.8, "oxygen": "bipap"},
    },
    ToxicityKind.ICANS: {
        1: {"ice_score": 8},
        2: {"ice_score": 5},
        3: {"ice_score": 2},
        4: {"ice_score": 0, "consciousness": "unarousable"},
    },
}
GRADE_WEIGHTS = ((1, 55), (2, 33), (3, 9), (4, 3))
# The lines of therapy a practice records before referring, by disease: (regimen, drug classes,
# included lenalidomide), in the order they are usually given.
REGIMENS: dict[str, tuple[tuple[str, tuple[str, ...], bool], ...]] = {
    DiseaseArea.LBCL: (
        ("R-CHOP", ("chemoimmunotherapy",), False),
        ("R-GemOx", ("chemoimmunotherapy",), False),
        ("Glofitamab", ("cd20xcd3_bispecific",), False),
        ("Polatuzumab-BR", ("chemoimmunotherapy",), False),
    ),
    DiseaseArea.MULTIPLE_MYELOMA: (
        ("VRd", ("pi", "imid"), True),
        ("DPd", ("anti_cd38", "imid"), False),
        ("KCd", ("pi",), False),
        ("Teclistamab", ("bcma_bispecific",), False),
    ),
    DiseaseArea.B_ALL: (("Hyper-CVAD", ("other",), False), ("Blinatumomab", ("other",), False)),
    DiseaseArea.MCL: (("BR", ("chemoimmunotherapy",), False), ("Ibrutinib", ("btk_inhibitor",), False)),
    DiseaseArea.FL: (("BR", ("chemoimmunotherapy",), False), ("R2", ("imid", "other"), True)),
    DiseaseArea.CLL_SLL: (
        ("Ibrutinib", ("btk_inhibitor",), False),
        ("Venetoclax-obinutuzumab", ("bcl2_inhibitor",), False),
    ),
}


# The small practice is a busy one (`Stories.busy_practice`): of every 25 of its patients, 4 are
# newly registered with a draft referral (treated before: two lines or more) and 3 were referred
# in the last weeks and wait on the center (no primary point person named yet for these seven),
# and 18 were infused 31 to BUSY_DAYS days ago (past their hand-back, each with its transition
# hand-off), with the toxicity rates of the products that cause the most (CRS in nine of ten;
# every severe one seen at the practice transferred to the center). Its people have not caught
# up: most alerts and hand-offs of those days are not acknowledged yet, and half the visits due
# in the last weeks not recorded. The stages in turn, mixed, so that a small build's few patients
# there hold each.
BUSY_STAGES = tuple(
    {"D": State.DRAFT, "S": State.SUBMITTED, "A": State.ACCEPTED}[letter] for letter in "ADASAADAASAAADAAAADASAAAA"
)
BUSY_DAYS = 150
BUSY_SEEN = 0.15  # the part of the alerts and hand-offs of the last BUSY_DAYS acknowledged
BUSY_TOXICITY = 1.4  # times the network's rates (CRS 91 %, ICANS 31 %)
BUSY_OVERDUE = 0.5  # of the visits due in the last 45 days, not recorded yet (the network: 0.15)


def practice_index(i: int, small: int, medium: int) -> int:
    """Patient `i`'s practice: the small one, then the medium one, then the six others in turn."""
    if i < small:
        return SMALL_PRACTICE
    if i < small + medium:
        return MEDIUM_PRACTICE
    return (i - small - medium) % 6


def center_index(i: int) -> int:
    """Patient `i`'s treating center: every other patient goes to the first (the busy one)."""
    return 0 if i % 2 == 0 else 1 + (i // 2) % 3


@dataclass
class M:
    """A milestone while its story is written (`referrals.day_zero.Dated` and a bit more)."""

    kind: str
    planned_on: dt.date | None
    referral_id: int
    status: str = Milestone.Status.PLANNED
    actual_on: dt.date | None = None
    manual: bool = False
    given_at: int | None = None
    note: str = ""
    changed_at: dt.datetime | None = None


@dataclass
class Course:
    """A referral and its milestones while its story is written."""

    id: int
    state: str
    hand_back_day: int
    milestones: list[M]


@dataclass
class Link:
    id: int
    site: SiteInfo
    primary: Person | None
    backup: Person | None
    open: bool = True


@dataclass
class Case:
    """One patient while their story is written."""

    id: str  # the patient's UUID, as text (written in every row of theirs)
    practice: SiteInfo
    links: list[Link] = field(default_factory=list)
    changed_at: dt.datetime | None = None
    entries: int = 0
    busy: bool = False  # a patient of the busy small practice (`Stories.busy_practice`)
    new: bool = False  # registered in the last weeks, not accepted yet (a draft or waiting on the center)

    def open_links(self) -> list[Link]:
        return [link for link in self.links if link.open]


def _tables() -> dict[str, Table]:
    specs = {
        "patients": (
            "carecoord_patient",
            "id, given_name, family_name, date_of_birth, sex, disease_area, phase, "
            "caregiver_name, caregiver_relationship, caregiver_phone, created_at, updated_at",
        ),
        "identifiers": ("carecoord_patientidentifier", "mrn, patient_id, site_id"),
        "links": ("carecoord_careteamlink", "capacity, joined_at, ended_at, added_by_id, patient_id, site_id"),
        "point_persons": ("carecoord_pointperson", "rank, link_id, user_id"),
        "referrals": (
            "referrals_referral",
            "disease_area, prior_lines_of_therapy, prior_therapies, "
            "transplant_eligibility, performance_status, urgency, reason, state, decline_reason, "
            "hand_back_day, created_at, submitted_at, acknowledge_by, acknowledged_at, reminder_sent_at, "
            "created_by_id, from_site_id, patient_id, product_id, referring_physician_id, to_center_id",
        ),
        "moves": ("referrals_referralmove", "from_state, to_state, at, note, actor_id, referral_id, site_id"),
        "documents": (
            "referrals_referraldocument",
            "kind, file, original_name, content_type, size, uploaded_at, referral_id, uploaded_by_id",
        ),
        "milestones": (
            "referrals_milestone",
            "kind, planned_on, actual_on, status, manual, note, done_note, updated_at, "
            "given_at_id, referral_id, conflict, conflict_confirmation, conflict_confirmed_key, "
            "conflict_key",
        ),
        # The generated entries name no subject: they read as entries written before entries linked.
        "timeline": (
            "carecoord_timelineentry",
            "kind, occurred_at, title, body, actor_id, patient_id, site_id, subject_type",
        ),
        "events": (
            "toxicity_toxicityevent",
            "kind, onset_at, grade, highest_grade, grade_reason, infection_site, "
            "organism, status, resolved_on, outcome, note, created_at, updated_at, patient_id, "
            "reported_by_id, reporting_site_id",
        ),
        "assessments": (
            "toxicity_toxicityassessment",
            "assessed_at, grade, reason, inputs, note, assessed_by_id, site_id, event_id, fever_masked_by_id",
        ),
        "treatments": ("toxicity_toxicitytreatment", "kind, given_at, detail, event_id, recorded_by_id, site_id"),
        "alerts": (
            "toxicity_alert",
            "reason, grade, created_at, escalate_at, escalated_at, acknowledged_at, "
            "acknowledged_by_id, email_id, escalated_from_id, recipient_id, site_id, event_id, patient_id, "
            "acknowledged_on_recording, role",
        ),
        "handoffs": (
            "handoffs_handoff",
            "values, state, created_at, updated_at, sent_at, acknowledge_by, "
            "reminder_sent_at, acknowledged_at, acknowledged_by_id, created_by_id, from_site_id, "
            "patient_id, sent_by_id, superseded_by_id, to_site_id, version_id, last_word_site_id, last_word_at",
        ),
        "questions": ("handoffs_handoffquestion", "body, created_at, author_id, handoff_id, site_id, kind"),
        "lines": (
            "candidates_therapyline",
            "number, regimen, drug_classes, lenalidomide, started_on, ended_on, best_response, refractory, "
            "progressed_on, created_at, patient_id, recorded_by_id, site_id",
        ),
    }
    return {
        key: Table(name, columns.removeprefix("id, "), with_id=key != "patients", first_id=first_free_id(name))
        if key != "patients"
        else Table(name, columns, with_id=False)
        for key, (name, columns) in specs.items()
    }


class Stories:
    """Writes every patient's rows; `tables` are then loaded by the caller."""

    def __init__(
        self,
        *,
        network: Network,
        sizes: Sizes,
        now: dt.datetime,
        products: list[tuple[int, str, list[str]]],
        versions: dict[str, tuple[int, str, int, dict[str, Any]]],
    ) -> None:
        self.network = network
        self.sizes = sizes
        self.now = now
        self.rng = random.Random(sizes.seed)
        self.tables = _tables()
        self.products = products  # (id, brand name, disease areas)
        self.versions = versions  # template name -> (version id, template name, number, values)
        # Each alert to someone other than the recorder has its outbox row, written afterwards
        # from the alerts (`bench.dataset.derived`), with the id the alert's own id gives it.
        self.email_offset = first_free_id("carecoord_outgoingemail") - self.tables["alerts"].next_id
        self.turns: dict[str, int] = {site.key: 0 for site in network.sites}  # round robin of point persons
        self.graded = {
            (kind, grade): self._graded(kind, grade, inputs)
            for kind, by_grade in ASTCT_INPUTS.items()
            for grade, inputs in by_grade.items()
        }
        small, medium = practice_sizes(sizes.patients)
        self.small, self.medium = small, medium
        self.showcase_index = (small + medium + 1) // 2 * 2  # a patient of the first center (an even index)
        self.showcase_id: str | None = None
        self.mrn = 100000
        # The small practice's own draws (`busy_practice`), apart from the network's.
        self.busy_rng = random.Random(f"{sizes.seed}-busy-practice")
        self.busy = False
        self.held_ids: dict[int, str] = {}  # the small practice's patients, by index

    @staticmethod
    def _graded(kind: str, grade: int, inputs: dict[str, Any]) -> Graded:
        graded = grade_assessment(kind, inputs)
        if graded.grade != grade:
            raise ValueError(f"{kind} inputs {inputs} grade {graded.grade}, not {grade}")
        return graded

    # --- small helpers --------------------------------------------------------------------------

    def at(self, site: SiteInfo, day: dt.date, minutes: int | None = None) -> dt.datetime:
        """A moment on `day` in the site's working hours (random unless `minutes` after midnight)."""
        if minutes is None:
            minutes = self.rng.randrange(8 * 60, 18 * 60)
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=site.zone)

    def past(self, moment: dt.datetime | None) -> bool:
        return moment is not None and moment <= self.now

    def actor(self, site: SiteInfo, link: Link | None = None) -> Person:
        """Who records at `site`: mostly the patient's point persons there, else a colleague."""
        if link is not None and link.primary is not None and self.rng.random() < 0.7:
            return link.primary if self.rng.random() < 0.7 or link.backup is None else link.backup
        return self.rng.choice(site.actors)

    def entry(
        self,
        case: Case,
        kind: str,
        moment: dt.datetime,
        title: str,
        body: str = "",
        actor: Person | None = None,
        site: SiteInfo | None = None,
    ) -> None:
        self.tables["timeline"].add(
            kind, moment, title[:200], body, actor.id if actor else None, case.id, site.id if site else None, ""
        )
        case.entries += 1
        if case.changed_at is None or moment > case.changed_at:
            case.changed_at = moment

    def link_of(self, case: Case, site: SiteInfo) -> Link | None:
        return next((link for link in case.links if link.site is site and link.open), None)

    # --- the care team ------------------------------------------------------------------------

    def join(
        self,
        case: Case,
        site: SiteInfo,
        moment: dt.datetime,
        actor: Person,
        shared_by: SiteInfo | None,
        title: str = "",
        ended_at: dt.datetime | None = None,
    ) -> Link:
        """`care_team_join`: the link, its point persons and the timeline entry. Its grants are
        written from the open links afterwards (`bench.dataset.derived`)."""
        capacity = CareTeamLink.Capacity.TREATING_CENTER if site.is_center else CareTeamLink.Capacity.COMMUNITY_PRACTICE
        link_id = self.tables["links"].add(capacity, moment, ended_at, actor.id, case.id, site.id)
        pool = site.actors
        turn = self.turns[site.key]
        self.turns[site.key] += 1
        primary: Person | None = pool[(2 * turn) % len(pool)]
        backup: Person | None = pool[(2 * turn + 1) % len(pool)]
        roll = self.rng.random()
        if roll < 0.01:
            primary = backup = None  # no point person named yet: the site's coordinators are alerted
        elif roll < 0.02:
            primary = None
        if case.busy and site is case.practice:
            primary, backup = self.busy_point_persons(site, turn, named=not case.new)
        link = Link(link_id, site, primary, backup)
        for rank, person in ((PointPerson.Rank.PRIMARY, primary), (PointPerson.Rank.BACKUP, backup)):
            if person is not None:
                self.tables["point_persons"].add(rank, link_id, person.id)
        named = "; ".join(f"{rank}: {p.full_name}" for rank, p in (("primary", primary), ("backup", backup)) if p)
        label = "treating center" if site.is_center else "community practice"
        self.entry(
            case,
            TimelineEntry.Kind.CARE_TEAM,
            moment,
            title or f"{site.name} joined the care team as {label}",
            f"Point persons at {site.name}: {named}." if named else f"No point person named at {site.name} yet.",
            actor,
            shared_by or site,
        )
        case.links.append(link)
        return link

    def leave(self, case: Case, link: Link, moment: dt.datetime, actor: Person) -> None:
        """`care_team_end_site`: the link stays, ended; its grants go (written only for open links)."""
        link.open = False
        self.entry(
            case, TimelineEntry.Kind.CARE_TEAM, moment, f"{link.site.name} left the care team", "", actor, link.site
        )

    # --- a patient ----------------------------------------------------------------------------

    def busy_point_persons(self, site: SiteInfo, turn: int, *, named: bool) -> tuple[Person | None, Person]:
        """At the busy practice its coordinator persona is every patient's backup; the primary is
        a colleague in turn, not named yet (`named` False) for a patient just registered."""
        persona = self.network.people[self.network.personas["sees_50"]]
        colleagues = [person for person in site.actors if person is not persona] or [persona]
        return (colleagues[turn % len(colleagues)] if named else None), persona

    def busy_practice(self) -> None:
        """The small practice's patients, written after every other one with a generator of their
        own: the same stories, drawn for a busy practice (`BUSY_STAGES`, infusions in the last
        `BUSY_DAYS`, alerts and hand-offs of those days mostly not acknowledged yet), so that its
        coordinator's lists are as full as the network coordinator's."""
        network_rng = self.rng
        self.rng, self.busy = self.busy_rng, True
        try:
            for i in range(self.small):
                self.story(i)
        finally:
            self.rng, self.busy = network_rng, False

    def patient(self, i: int) -> None:
        """Patient `i`'s story; the small practice's is drawn as before, to keep every other
        patient's draws and ids as they are, and thrown away (`busy_practice` writes its own)."""
        if i >= self.small:
            self.story(i)
            return
        tables = self.tables
        self.tables = {key: table.stand_in() for key, table in tables.items()}
        try:
            self.story(i)
        finally:
            for key, table in tables.items():
                table.take_ids_of(self.tables[key])
            self.tables = tables

    def practice_of(self, i: int) -> SiteInfo:
        return self.network.practices[practice_index(i, self.small, self.medium)]

    def center_of(self, i: int) -> SiteInfo:
        return self.network.centers[center_index(i)]

    def story(self, i: int) -> None:
        rng = self.rng
        showcase = i == self.showcase_index
        case = Case(str(uuid.UUID(int=rng.getrandbits(128), version=4)), self.practice_of(i), busy=self.busy)
        if case.busy:
            case.id = self.held_ids[i]  # the same patient, with a busier story
        elif i < self.small:
            self.held_ids[i] = case.id
        if showcase:
            self.showcase_id = case.id
        center = self.center_of(i)
        roll = rng.random()
        stage = (
            State.ACCEPTED
            if showcase or roll >= 0.12
            else State.DRAFT
            if roll < 0.02
            else State.SUBMITTED
            if roll < 0.04
            else State.UNDER_REVIEW
            if roll < 0.06
            else State.CONSULT_SCHEDULED
            if roll < 0.08
            else State.DECLINED
            if roll < 0.11
            else State.WITHDRAWN
        )
        if case.busy:
            stage = BUSY_STAGES[i % len(BUSY_STAGES)]
        case.new = stage in (State.DRAFT, State.SUBMITTED)
        disease = rng.choices([d for d, _ in DISEASES], [w for _, w in DISEASES])[0]
        today = center.today
        if stage == State.ACCEPTED:
            days_ago = 200 if showcase else int(5 * 365 * rng.random() ** 1.2) - (45 if rng.random() < 0.08 else 0)
            if case.busy:
                days_ago = rng.randint(31, BUSY_DAYS)
            day_zero = today - dt.timedelta(days=days_ago)
            accepted_on = day_zero - dt.timedelta(days=rng.randint(45, 60))
            consult_on = accepted_on - dt.timedelta(days=rng.randint(1, 6))
            scheduled_on = consult_on - dt.timedelta(days=rng.randint(5, 12))
        else:
            day_zero = None
            back = rng.randint(2, 40) if stage in (State.DRAFT, State.SUBMITTED, State.UNDER_REVIEW) else 0
            scheduled_on = today - dt.timedelta(days=back or rng.randint(20, 900))
            consult_on = scheduled_on + dt.timedelta(days=rng.randint(5, 12))
            accepted_on = None
        reviewed_on = scheduled_on - dt.timedelta(days=rng.randint(1, 4))
        acknowledged_on = reviewed_on - dt.timedelta(days=rng.randint(0, 2))
        submitted_on = acknowledged_on - dt.timedelta(days=rng.randint(0, 2))
        referred_on = submitted_on - dt.timedelta(days=rng.randint(0, 3))
        registered_on = referred_on - dt.timedelta(days=rng.randint(0, 20))
        practice = case.practice
        registered_at = self.at(practice, registered_on)
        born = dt.date(rng.randint(1942, 2004), rng.randint(1, 12), rng.randint(1, 28))
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        if showcase:
            family = "Timeline"
        registrar = rng.choice([p for p in practice.actors] or practice.actors)
        practice_link = self.join(case, practice, registered_at, registrar, None, f"Registered at {practice.name}")
        self.mrn += 1
        self.tables["identifiers"].add(f"P{self.mrn}", case.id, practice.id)
        referral = self.referral(
            case,
            practice,
            practice_link,
            center,
            stage,
            disease,
            day_zero,
            [referred_on, submitted_on, acknowledged_on, reviewed_on, scheduled_on, consult_on, accepted_on],
        )
        self.therapy_lines(case, disease, referred_on, registered_at, registrar, born)
        milestones = referral.milestones
        if stage != State.DRAFT and rng.random() < 0.7:
            self.tables["identifiers"].add(f"C{self.mrn}", case.id, center.id)
        if day_zero is not None and day_zero < today:
            self.toxicities(case, day_zero, referral.hand_back_day, center, practice, showcase)
            self.handoffs(case, day_zero, referral.hand_back_day, center, practice, showcase)
        self.comments(case, registered_at, day_zero, showcase)
        if rng.random() < 0.03 and stage != State.DRAFT:
            self.second_opinion(case, practice, i, registered_on)
        phase = phase_of(state=referral.state, milestones=milestones, today=today)
        self.tables["patients"].add(
            case.id,
            given,
            family,
            born,
            rng.choice(("female", "male")),
            disease,
            phase,
            "",
            "",
            "",
            registered_at,
            registered_at,
        )

    def therapy_lines(
        self, case: Case, disease: str, referred_on: dt.date, recorded_at: dt.datetime, actor: Person, born: dt.date
    ) -> None:
        """One to four lines of therapy ending before the referral, recorded at registration
        (`candidates.services.therapy_line_record`); their standings are written after loading."""
        rng = self.rng
        regimens = REGIMENS[disease]
        count = min(len(regimens), rng.choice((2, 2, 3, 4) if case.busy else (1, 1, 2, 2, 3, 4)))
        end = referred_on - dt.timedelta(days=rng.randint(20, 90))
        spans = []
        for _ in range(count):
            started = end - dt.timedelta(days=rng.randint(120, 240))
            spans.append((started, end))
            end = started - dt.timedelta(days=rng.randint(30, 200))
        for number, ((started, ended), (regimen, classes, lenalidomide)) in enumerate(
            zip(reversed(spans), regimens, strict=False), start=1
        ):
            if started <= born:
                continue
            refractory = rng.random() < 0.3
            progressed = ended + dt.timedelta(days=rng.randint(10, 60)) if refractory or rng.random() < 0.6 else None
            self.tables["lines"].add(
                number,
                regimen,
                list(classes),
                lenalidomide,
                started,
                ended,
                "progressive" if refractory else rng.choice(("complete", "partial", "very_good_partial")),
                refractory,
                progressed if progressed is None or progressed <= recorded_at.date() else None,
                recorded_at,
                case.id,
                actor.id,
                case.practice.id,
            )

    def second_opinion(self, case: Case, practice: SiteInfo, i: int, registered_on: dt.date) -> None:
        """A second center consulted, then left the care team: its people no longer see the patient."""
        center = self.network.centers[(self.network.centers.index(self.center_of(i)) + 1) % 4]
        start = self.at(practice, registered_on + dt.timedelta(days=2))
        end = start + dt.timedelta(days=self.rng.randint(10, 30))
        if not self.past(end):
            return
        actor = self.actor(practice, case.links[0])
        link = self.join(case, center, start, actor, practice, ended_at=end)
        self.leave(case, link, end, self.actor(center, link))

    # --- the referral and its course -----------------------------------------------------------

    def referral(
        self,
        case: Case,
        practice: SiteInfo,
        practice_link: Link,
        center: SiteInfo,
        stage: str,
        disease: str,
        day_zero: dt.date | None,
        days: list[dt.date | None],
    ) -> Course:
        rng = self.rng
        referred_on, submitted_on, acknowledged_on, reviewed_on, scheduled_on, consult_on, accepted_on = days
        assert referred_on and submitted_on and acknowledged_on and reviewed_on and scheduled_on and consult_on
        referring = self.actor(practice, practice_link)
        created = self.at(practice, referred_on)
        paths: dict[str, list[State]] = {
            State.DRAFT: [],
            State.SUBMITTED: [State.SUBMITTED],
            State.UNDER_REVIEW: [State.SUBMITTED, State.RECEIVED, State.UNDER_REVIEW],
            State.CONSULT_SCHEDULED: [State.SUBMITTED, State.RECEIVED, State.UNDER_REVIEW, State.CONSULT_SCHEDULED],
            State.DECLINED: [
                State.SUBMITTED,
                State.RECEIVED,
                State.UNDER_REVIEW,
                State.CONSULT_SCHEDULED,
                State.DECLINED,
            ],
            State.WITHDRAWN: [State.SUBMITTED, State.RECEIVED, State.WITHDRAWN],
            State.ACCEPTED: [
                State.SUBMITTED,
                State.RECEIVED,
                State.UNDER_REVIEW,
                State.CONSULT_SCHEDULED,
                State.ACCEPTED,
            ],
        }
        path = paths[stage]
        on_day = {
            State.SUBMITTED: submitted_on,
            State.RECEIVED: acknowledged_on,
            State.UNDER_REVIEW: reviewed_on,
            State.CONSULT_SCHEDULED: scheduled_on,
            State.ACCEPTED: accepted_on,
            State.DECLINED: consult_on + dt.timedelta(days=2),
            State.WITHDRAWN: acknowledged_on + dt.timedelta(days=5),
        }
        hand_back_day = rng.randint(14, 30)
        product = None
        if stage == State.ACCEPTED:
            product = rng.choice([p for p in self.products if disease in p[2]] or self.products)
        moments: dict[str, dt.datetime] = {}
        previous = created
        for state in path:
            day = on_day[state]
            assert day is not None
            site = practice if state in (State.SUBMITTED, State.WITHDRAWN) else center
            moment = max(self.at(site, day), previous + 10 * MINUTE)
            if moment > self.now:
                moment = max(previous + MINUTE, self.now - HOUR)
            moments[state] = previous = moment
        submitted_at = moments.get(State.SUBMITTED)
        acknowledge_by = add_business_days(submitted_at.astimezone(center.zone), 2) if submitted_at else None
        acknowledged_at = moments.get(State.RECEIVED)
        state = path[-1] if path else State.DRAFT
        reminder = acknowledge_by if acknowledged_at is None and acknowledge_by and self.past(acknowledge_by) else None
        referral_id = self.tables["referrals"].add(
            disease,
            rng.randint(1, 4),
            "R-CHOP x6; R-ICE x2; polatuzumab",
            rng.choice(("eligible", "ineligible", "unknown")),
            rng.randint(0, 2),
            rng.choice(("routine", "routine", "urgent")),
            "Relapsed disease after two lines of therapy; candidate for CAR-T.",
            state,
            "Not a candidate at this time: active CNS disease." if state == State.DECLINED else "",
            hand_back_day,
            created,
            submitted_at,
            acknowledge_by,
            acknowledged_at,
            reminder + 5 * MINUTE if reminder else None,
            referring.id,
            practice.id,
            case.id,
            product[0] if product and stage == State.ACCEPTED else None,
            referring.id,
            center.id,
        )
        self.entry(
            case, TimelineEntry.Kind.REFERRAL, created, f"Referral to {center.name} drafted", "", referring, practice
        )
        for kind, content_type in DOCUMENTS:
            self.tables["documents"].add(
                kind,
                f"referrals/{referred_on:%Y/%m}/{uuid.UUID(int=rng.getrandbits(128)).hex}.pdf",
                f"{kind}-report.pdf",
                content_type,
                rng.randint(80_000, 2_000_000),
                created + MINUTE,
                referral_id,
                referring.id,
            )
        center_link: Link | None = None
        course = Course(referral_id, state, hand_back_day, [])
        previous_state = State.DRAFT
        for target in path:
            site = practice if target in (State.SUBMITTED, State.WITHDRAWN) else center
            link = practice_link if site is practice else center_link
            who = self.actor(site, link)
            moment = moments[target]
            self.tables["moves"].add(previous_state, target, moment, "", who.id, referral_id, site.id)
            title = f"Referral {STATE_LABELS[target].lower()}"
            body = "Not a candidate at this time: active CNS disease." if target == State.DECLINED else ""
            if target == State.CONSULT_SCHEDULED:
                title += f" for {consult_on:%d %b %Y}"
                course.milestones.append(
                    M(PreparationKind.CONSULT, consult_on, referral_id, manual=True, changed_at=moment)
                )
            self.entry(case, TimelineEntry.Kind.REFERRAL, moment, title, body, who, site)
            if target == State.SUBMITTED:
                center_link = self.join(case, center, moment + MINUTE, who, practice)
            previous_state = target
        if course.milestones and consult_on < center.today and stage != State.CONSULT_SCHEDULED:
            self.done(case, course.milestones[0], consult_on, center, center_link)
        if stage == State.ACCEPTED:
            assert accepted_on is not None and day_zero is not None and product is not None and center_link
            self.course(case, course, center, practice, center_link, accepted_on, day_zero, product[1])
        self.milestone_rows(case, course, day_zero)
        return course

    def course(
        self,
        case: Case,
        course: Course,
        center: SiteInfo,
        practice: SiteInfo,
        link: Link,
        accepted_on: dt.date,
        day_zero: dt.date,
        product: str,
    ) -> None:
        rng = self.rng
        today = center.today
        planner = self.actor(center, link)
        plan_at = self.at(center, accepted_on + DAY)
        self.entry(
            case,
            TimelineEntry.Kind.REFERRAL,
            plan_at,
            f"Treatment plan: {product}, hand-back planned on day +{course.hand_back_day}",
            "",
            planner,
            center,
        )
        prep: list[tuple[str, dt.date, int | None]] = [
            (PreparationKind.INSURANCE_AUTHORIZATION, accepted_on + dt.timedelta(days=rng.randint(2, 5)), None),
            (PreparationKind.APHERESIS, day_zero - dt.timedelta(days=rng.randint(30, 40)), None),
            (PreparationKind.MANUFACTURING_RELEASE, day_zero - dt.timedelta(days=rng.randint(7, 12)), None),
        ]
        if rng.random() < 0.6:
            prep.append(
                (PreparationKind.BRIDGING_THERAPY, day_zero - dt.timedelta(days=rng.randint(18, 25)), practice.id)
            )
        for kind, on, given_at in prep:
            moment = plan_at + dt.timedelta(minutes=rng.randint(5, 600))
            milestone = M(kind, on, course.id, manual=True, given_at=given_at, changed_at=moment)
            course.milestones.append(milestone)
            where = f" at {practice.name}" if given_at else ""
            self.entry(
                case,
                TimelineEntry.Kind.MILESTONE,
                moment,
                f"{milestone_label(kind)} planned for {on:%d %b %Y}{where}",
                "",
                planner,
                center,
            )
            if on < today:
                self.done(case, milestone, on + dt.timedelta(days=rng.choice((0, 0, 0, 1))), center, link)
        first_plan = day_zero
        infusion_planned_at = plan_at + 2 * DAY
        if rng.random() < 0.15:
            first_plan = day_zero + dt.timedelta(days=rng.choice((-7, -3, 3, 5, 10)))
        self.entry(
            case,
            TimelineEntry.Kind.MILESTONE,
            infusion_planned_at,
            f"Infusion (day 0) planned for {first_plan:%d %b %Y}",
            "",
            planner,
            center,
        )
        plan = plan_milestones(day_zero, rules=MonitoringRules(), hand_back_day=course.hand_back_day)
        by_kind: dict[str, M] = {}
        for planned in plan:
            milestone = M(planned.kind, planned.planned_on, course.id, changed_at=infusion_planned_at)
            course.milestones.append(milestone)
            by_kind[planned.kind] = milestone
        if first_plan != day_zero:
            moved_on = min(first_plan, day_zero) - dt.timedelta(days=rng.randint(3, 10))
            moved_at = max(self.at(center, moved_on), infusion_planned_at + HOUR)
            if self.past(moved_at):
                self.entry(
                    case,
                    TimelineEntry.Kind.MILESTONE,
                    moved_at,
                    f"Infusion moved from {first_plan:%d %b %Y} to {day_zero:%d %b %Y}",
                    "Manufacturing slot moved.",
                    planner,
                    center,
                )
        # Dates moved by hand: kept on recomputation, sometimes out of line with the course.
        movable = [
            m
            for m in course.milestones
            if m.kind
            not in (MilestoneKind.INFUSION, MilestoneKind.LYMPHODEPLETION_START, MilestoneKind.LYMPHODEPLETION_END)
            and m.kind in by_kind
        ]
        for milestone in rng.sample(movable, 3):
            assert milestone.planned_on is not None
            new_on = milestone.planned_on + dt.timedelta(days=rng.choice((-10, -5, -2, 2, 3, 7, 14)))
            moved_on = min(milestone.planned_on, new_on) - dt.timedelta(days=rng.randint(1, 20))
            moved_at = max(self.at(center, moved_on), infusion_planned_at + HOUR)
            if not self.past(moved_at) or moved_at.date() >= min(milestone.planned_on, new_on):
                continue
            who = self.actor(practice if rng.random() < 0.5 else center)
            self.entry(
                case,
                TimelineEntry.Kind.MILESTONE,
                moved_at,
                f"{milestone_label(milestone.kind)} moved from {milestone.planned_on:%d %b %Y} to {new_on:%d %b %Y}",
                rng.choice(MOVE_REASONS),
                who,
                center,
            )
            milestone.planned_on, milestone.manual, milestone.changed_at = new_on, True, moved_at
        for milestone in sorted(by_kind.values(), key=lambda m: m.planned_on or today):
            due = milestone.planned_on
            assert due is not None
            if due >= today:
                continue
            if milestone.kind == MilestoneKind.INFUSION:
                self.done(case, milestone, day_zero, center, link)
            elif milestone.kind.startswith(CANCELLABLE) and rng.random() < 0.01:
                moment = self.at(center, on - dt.timedelta(days=rng.randint(1, 10)))
                milestone.status, milestone.changed_at = Milestone.Status.CANCELLED, moment
                self.entry(
                    case,
                    TimelineEntry.Kind.MILESTONE,
                    moment,
                    f"{milestone_label(milestone.kind)} cancelled",
                    "Patient seen at another institution.",
                    self.actor(center, link),
                    center,
                )
            elif (today - due).days <= 45 and rng.random() < (BUSY_OVERDUE if case.busy else 0.15):
                continue  # overdue: nobody has marked it done yet
            else:
                late = rng.choice((0, 0, 0, 1, 2, -1))
                actual = min(due + dt.timedelta(days=late), today - DAY)
                site = center if (actual - day_zero).days <= course.hand_back_day else practice
                self.done(case, milestone, actual, site, self.link_of(case, site))

    def done(self, case: Case, milestone: M, actual: dt.date, site: SiteInfo, link: Link | None) -> None:
        moment = self.at(site, actual, self.rng.randrange(12 * 60, 18 * 60))
        if not self.past(moment):
            moment = self.now - 5 * MINUTE
        milestone.status, milestone.actual_on, milestone.changed_at = Milestone.Status.DONE, actual, moment
        title = f"{milestone_label(milestone.kind)} done on {actual:%d %b %Y}"  # as the service: no day label
        self.entry(case, TimelineEntry.Kind.MILESTONE, moment, title, "", self.actor(site, link), site)

    def milestone_rows(self, case: Case, course: Course, day_zero: dt.date | None) -> None:
        conflicts = find_conflicts(day_zero, course.milestones)
        for milestone in course.milestones:
            conflict = conflicts.get(milestone.kind)
            message, key, confirmed_key, confirmation = "", "", "", ""
            if conflict is not None:
                message, key = conflict.message, conflict.key
                if self.rng.random() < 0.5:
                    confirmed_key, confirmation = key, "Agreed with the patient; stays."
            self.tables["milestones"].add(
                milestone.kind,
                milestone.planned_on,
                milestone.actual_on,
                milestone.status,
                milestone.manual,
                milestone.note,
                "",  # done_note: the stories write no note when a step is done
                milestone.changed_at or self.now,
                milestone.given_at,
                milestone.referral_id,
                message[:300],
                confirmation,
                confirmed_key,
                key,
            )

    # --- toxicities and alerts ----------------------------------------------------------------

    def toxicities(
        self, case: Case, day_zero: dt.date, hand_back_day: int, center: SiteInfo, practice: SiteInfo, showcase: bool
    ) -> None:
        """The showcase patient has had CRS and ICANS, so its timeline shows both."""
        rng = self.rng
        for kind, probability, first, last, ctcae in TOXICITIES:
            if case.busy:
                probability = min(1.0, probability * BUSY_TOXICITY)
            if rng.random() >= probability and not (showcase and kind in (ToxicityKind.CRS, ToxicityKind.ICANS)):
                continue
            onset_day = day_zero + dt.timedelta(days=rng.randint(first, last))
            site = center if (onset_day - day_zero).days <= hand_back_day else practice
            onset = self.at(site, onset_day)
            if not self.past(onset):
                continue
            grade = (
                rng.choice(ctcae)
                if ctcae
                else rng.choices([g for g, _ in GRADE_WEIGHTS], [w for _, w in GRADE_WEIGHTS])[0]
            )
            self.toxicity(case, kind, onset, grade, site, day_zero)

    def toxicity(
        self, case: Case, kind: str, onset: dt.datetime, grade: int, site: SiteInfo, day_zero: dt.date
    ) -> None:
        rng = self.rng
        tables = self.tables
        link = self.link_of(case, site)
        reporter = self.actor(site, link)
        graded = self.graded.get((kind, grade)) or Graded(grade, f"CTCAE grade {grade}, as assessed.", {})
        infection_site, organism = rng.choice(ORGANISMS) if kind == ToxicityKind.INFECTION else ("", "")
        label = ToxicityKind(kind).label
        # Reassessed once in four; treated from grade 2; resolved after two weeks.
        reassessed = onset + dt.timedelta(hours=rng.randint(6, 30)) if rng.random() < 0.25 else None
        new_grade = min(4, grade + rng.choice((1, 1, -1))) if reassessed else grade
        new_grade = max(1, new_grade)
        if reassessed is not None and not self.past(reassessed):
            reassessed, new_grade = None, grade
        resolved_on = (onset + dt.timedelta(days=rng.randint(2, 14))).date()
        resolved_at = self.at(site, resolved_on) if onset + 14 * DAY < self.now else None
        if resolved_at is not None and not self.past(resolved_at):
            resolved_at = None
        highest = max(grade, new_grade)
        updated = resolved_at or reassessed or onset
        event_id = tables["events"].add(
            kind,
            onset,
            new_grade,
            highest,
            graded.reason,
            infection_site,
            organism,
            ToxicityEvent.Status.RESOLVED if resolved_at else ToxicityEvent.Status.ACTIVE,
            resolved_on if resolved_at else None,
            ToxicityEvent.Outcome.RECOVERED if resolved_at else ToxicityEvent.Outcome.ONGOING,
            "",
            onset,
            updated,
            case.id,
            reporter.id,
            site.id,
        )
        tables["assessments"].add(onset, grade, graded.reason, graded.inputs, "", reporter.id, site.id, event_id, None)
        self.entry(
            case, TimelineEntry.Kind.TOXICITY, onset, f"{label} grade {grade} recorded", graded.reason, reporter, site
        )
        self.alert(case, event_id, kind, grade, Alert.Reason.RECORDED, onset, reporter, site)
        treatment_id = None
        if grade >= 2 or new_grade >= 2:
            treatment = (
                (ToxicityTreatment.Kind.TOCILIZUMAB, "8 mg/kg IV")
                if kind == ToxicityKind.CRS
                else (ToxicityTreatment.Kind.CORTICOSTEROID, "Dexamethasone 10 mg IV")
                if kind == ToxicityKind.ICANS
                else (ToxicityTreatment.Kind.ANTIMICROBIAL, "Cefepime 2 g IV")
                if kind == ToxicityKind.INFECTION
                else (ToxicityTreatment.Kind.OTHER, "Supportive care")
            )
            given = onset + dt.timedelta(hours=rng.randint(1, 5))
            if self.past(given):
                treatment_id = tables["treatments"].add(
                    treatment[0], given, treatment[1], event_id, reporter.id, site.id
                )
                self.entry(
                    case,
                    TimelineEntry.Kind.TOXICITY,
                    given,
                    f"{ToxicityTreatment.Kind(treatment[0]).label} given for {label}",
                    treatment[1],
                    reporter,
                    site,
                )
        if reassessed is not None:
            regraded = self.graded.get((kind, new_grade)) or Graded(
                new_grade, f"CTCAE grade {new_grade}, as assessed.", {}
            )
            masked = treatment_id if kind == ToxicityKind.CRS and treatment_id else None
            tables["assessments"].add(
                reassessed, new_grade, regraded.reason, regraded.inputs, "", reporter.id, site.id, event_id, masked
            )
            trend = "rose" if new_grade > grade else "fell"
            self.entry(
                case,
                TimelineEntry.Kind.TOXICITY,
                reassessed,
                f"{label} reassessed: grade {new_grade} ({trend} from {grade})",
                regraded.reason,
                reporter,
                site,
            )
            if new_grade > grade:
                self.alert(case, event_id, kind, new_grade, Alert.Reason.GRADE_ROSE, reassessed, reporter, site)
        if resolved_at is not None:
            self.entry(
                case, TimelineEntry.Kind.TOXICITY, resolved_at, f"{label} resolved (recovered)", "", reporter, site
            )
            self.alert(case, event_id, kind, new_grade, Alert.Reason.RESOLVED, resolved_at, reporter, site)
        if highest >= 3 and site is case.practice and (rng.random() < 0.5 or case.busy):
            center_link = next((link for link in case.open_links() if link.site.is_center), None)
            if center_link is not None:
                self.handoff(
                    case, "Toxicity transfer", site, center_link.site, onset + 2 * HOUR, case.links[0], center_link
                )

    def recipients(self, link: Link) -> list[tuple[Person, str]]:
        """`carecoord.recipients.alert_recipients` for one open link."""
        named: list[tuple[Person, str]] = [
            (p, r) for p, r in ((link.primary, Alert.Role.PRIMARY), (link.backup, Alert.Role.BACKUP)) if p
        ]
        if link.primary is None:
            already = {p.id for p, _ in named}
            named += [(p, Alert.Role.COORDINATOR) for p in link.site.coordinators if p.id not in already]
        return named

    def alert(
        self,
        case: Case,
        event_id: int,
        kind: str,
        grade: int,
        reason: str,
        moment: dt.datetime,
        actor: Person,
        actor_site: SiteInfo,
    ) -> None:
        rng = self.rng
        escalates = reason in (Alert.Reason.RECORDED, Alert.Reason.GRADE_ROSE)
        label = ToxicityKind(kind).label
        for link in case.open_links():
            site = link.site
            own = site is actor_site
            recipients = self.recipients(link)
            if not recipients:
                continue
            minutes = 30 if grade >= 3 else 240
            escalate_at = moment + dt.timedelta(minutes=minutes) if escalates and not own else None
            if own:
                acknowledged: dt.datetime | None = moment
                acknowledger: Person | None = actor
            else:
                recent = moment > self.now - 2 * DAY
                seen = rng.random() < (0.5 if recent else 0.99)
                if case.busy and site is case.practice and moment > self.now - BUSY_DAYS * DAY:
                    seen = rng.random() < BUSY_SEEN
                delay = dt.timedelta(minutes=rng.randint(5, 33 if grade >= 3 else 180))
                acknowledged = moment + delay if seen and self.past(moment + delay) else None
                acknowledger = recipients[0][0] if acknowledged else None
            late = escalate_at is not None and self.past(escalate_at) and (acknowledged or self.now) > escalate_at
            escalated_at = escalate_at + MINUTE if late and escalate_at else None
            ids = [
                self.one_alert(
                    case.id,
                    event_id,
                    person,
                    site,
                    role,
                    reason,
                    grade,
                    moment,
                    escalate_at,
                    escalated_at if n == 0 else None,
                    acknowledged,
                    acknowledger,
                    own,
                    actor,
                    None,
                )
                for n, (person, role) in enumerate(recipients)
            ]
            if escalated_at is not None:
                # `toxicity.alerts.escalate_due_alerts`: the site's backup and coordinators, once.
                first, _ = recipients[0]
                people = {p.id: (p, Alert.Role.BACKUP) for p, r in recipients[1:] if r == Alert.Role.BACKUP}
                for coordinator in site.coordinators:
                    people.setdefault(coordinator.id, (coordinator, Alert.Role.COORDINATOR))
                people.pop(first.id, None)
                for person, role in people.values():
                    self.one_alert(
                        case.id,
                        event_id,
                        person,
                        site,
                        role,
                        Alert.Reason.ESCALATED,
                        grade,
                        escalated_at,
                        None,
                        None,
                        acknowledged,
                        acknowledger,
                        False,
                        None,
                        ids[0],
                    )
                names = ", ".join(sorted(p.full_name for p, _ in people.values())) or "nobody else at the site"
                self.entry(
                    case,
                    TimelineEntry.Kind.TOXICITY,
                    escalated_at,
                    f"Alert to {first.full_name} not acknowledged in time: escalated to {names}",
                    "",
                    None,
                    site,
                )
            if acknowledged is not None and not own:
                self.entry(
                    case,
                    TimelineEntry.Kind.TOXICITY,
                    acknowledged,
                    f"Alert acknowledged at {site.name}: {label} grade {grade}",
                    "",
                    acknowledger,
                    site,
                )

    def one_alert(
        self,
        patient_id: str,
        event_id: int,
        person: Person,
        site: SiteInfo,
        role: str,
        reason: str,
        grade: int,
        moment: dt.datetime,
        escalate_at: dt.datetime | None,
        escalated_at: dt.datetime | None,
        acknowledged: dt.datetime | None,
        acknowledger: Person | None,
        own: bool,
        actor: Person | None,
        escalated_from: int | None,
    ) -> int:
        tables = self.tables
        alert_id = tables["alerts"].next_id
        email_id = alert_id + self.email_offset if actor is None or person.id != actor.id else None
        tables["alerts"].add(
            reason,
            grade,
            moment,
            escalate_at,
            escalated_at,
            acknowledged,
            acknowledger.id if acknowledger else None,
            email_id,
            escalated_from,
            person.id,
            site.id,
            event_id,
            patient_id,
            own,
            role,
        )
        return alert_id

    # --- hand-offs and comments -------------------------------------------------------------

    def handoffs(
        self, case: Case, day_zero: dt.date, hand_back_day: int, center: SiteInfo, practice: SiteInfo, showcase: bool
    ) -> None:
        center_link, practice_link = self.link_of(case, center), self.link_of(case, practice)
        if center_link is None or practice_link is None:
            return
        hand_back = day_zero + dt.timedelta(days=hand_back_day)
        if hand_back < center.today and (self.rng.random() < 0.9 or showcase or case.busy):
            self.handoff(
                case,
                "Post-CAR-T transition to community care",
                center,
                practice,
                self.at(center, hand_back),
                center_link,
                practice_link,
            )
        elif hand_back >= center.today and self.rng.random() < 0.3:
            self.handoff(
                case, "Post-CAR-T transition to community care", center, practice, None, center_link, practice_link
            )

    def handoff(
        self,
        case: Case,
        template: str,
        from_site: SiteInfo,
        to_site: SiteInfo,
        sent: dt.datetime | None,
        from_link: Link,
        to_link: Link,
    ) -> None:
        """A hand-off sent at `sent` (a draft when None), acknowledged a few hours later if that has come."""
        rng = self.rng
        version_id, name, number, values = self.versions[template]
        sender = self.actor(from_site, from_link)
        created = (sent or self.now) - dt.timedelta(hours=rng.randint(2, 30))
        if sent is None or not self.past(sent):
            self.tables["handoffs"].add(
                values,
                Handoff.State.DRAFT,
                created,
                created,
                None,
                None,
                None,
                None,
                None,
                sender.id,
                from_site.id,
                case.id,
                None,
                None,
                to_site.id,
                version_id,
                None,
                None,
            )
            return
        acknowledge_by = add_business_days(sent.astimezone(to_site.zone), 1)
        acknowledged = sent + dt.timedelta(hours=rng.randint(1, 20))
        receiver = self.actor(to_site, to_link)
        seen = self.past(acknowledged) and rng.random() < 0.95
        if case.busy and to_site is case.practice and sent > self.now - BUSY_DAYS * DAY:
            seen = self.past(acknowledged) and rng.random() < BUSY_SEEN
        thread: list[tuple[dt.datetime, Person, SiteInfo, str, str]] = []
        if seen and rng.random() < 0.1:
            asked = acknowledged + dt.timedelta(hours=rng.randint(1, 20))
            answered = asked + dt.timedelta(hours=rng.randint(1, 6))
            question, answer = HandoffQuestion.Kind.QUESTION, HandoffQuestion.Kind.ANSWER
            thread = [
                (moment, who, site, text, kind)
                for moment, who, site, text, kind in (
                    (asked, receiver, to_site, "Which prophylaxis should continue after month 6?", question),
                    (answered, sender, from_site, "Acyclovir for 12 months; stop TMP-SMX once CD4 > 200.", answer),
                )
                if self.past(moment)
            ]
        # The open question, as `handoff_ask` keeps it: none once answered.
        open_question = thread[-1] if thread and thread[-1][4] == HandoffQuestion.Kind.QUESTION else None
        handoff_id = self.tables["handoffs"].add(
            values,
            Handoff.State.ACKNOWLEDGED if seen else Handoff.State.SENT,
            created,
            acknowledged if seen else sent,
            sent,
            acknowledge_by,
            None,
            acknowledged if seen else None,
            receiver.id if seen else None,
            sender.id,
            from_site.id,
            case.id,
            sender.id,
            None,
            to_site.id,
            version_id,
            open_question[2].id if open_question else None,
            open_question[0] if open_question else None,
        )
        self.entry(
            case,
            TimelineEntry.Kind.HANDOFF,
            sent,
            f"Hand-off sent to {to_site.name}: {name} (v{number})",
            "",
            sender,
            from_site,
        )
        if seen:
            self.entry(
                case,
                TimelineEntry.Kind.HANDOFF,
                acknowledged,
                f"Hand-off acknowledged at {to_site.name}: {name}",
                "",
                receiver,
                to_site,
            )
        for moment, who, site, text, kind in thread:
            self.tables["questions"].add(text, moment, who.id, handoff_id, site.id, kind)
            self.entry(
                case,
                TimelineEntry.Kind.HANDOFF,
                moment,
                f"{HandoffQuestion.Kind(kind).label} about the hand-off from {site.name}",
                text,
                who,
                site,
            )

    def comments(self, case: Case, registered_at: dt.datetime, day_zero: dt.date | None, showcase: bool) -> None:
        """Messages between the sites: a few around the busy months, then about one a year."""
        rng = self.rng
        links = case.open_links()
        busy_end = self.now
        if day_zero is not None:
            busy_end = min(self.now, dt.datetime.combine(day_zero + dt.timedelta(days=120), dt.time(12), tzinfo=dt.UTC))
        span = max(60.0, (busy_end - registered_at).total_seconds())
        moments = [registered_at + dt.timedelta(seconds=rng.uniform(60, span)) for _ in range(rng.randint(2, 6))]
        if day_zero is not None and busy_end < self.now:
            quiet = (self.now - busy_end).total_seconds()
            moments += [
                busy_end + dt.timedelta(seconds=rng.uniform(0, quiet)) for _ in range(int(quiet / (86400 * 365)))
            ]
        if showcase:
            moments += [
                registered_at + dt.timedelta(seconds=rng.uniform(60, (self.now - registered_at).total_seconds()))
                for _ in range(TIMELINE_SHOWCASE * 2)
            ]
        for moment in sorted(moments):
            if showcase and case.entries >= TIMELINE_SHOWCASE:
                break
            link = rng.choice(links)
            self.entry(
                case,
                TimelineEntry.Kind.COMMENT,
                moment,
                f"Comment from {link.site.name}",
                rng.choice(COMMENTS),
                self.actor(link.site, link),
                link.site,
            )


_GIVEN = names(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Carlos Maria Wei Mei Ahmed Fatima Dmitri Olga Kwame Ama Raj Anjali"
)
_FAMILY = names(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Clark Lewis Robinson Walker Young"
)
