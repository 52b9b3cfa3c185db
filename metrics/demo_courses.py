"""The demo's past year of the program: more patients, each referred, evaluated and (most)
treated over the last twelve months, so that the metrics page of a center and of a practice
shows figures rather than "<5".

Each past patient is registered at its practice and shared with its center through the
services (so its grants are what production writes), like the other demo patients; its point
persons and its course are written as rows dated in the past (as the program's history would
have left them), not through the services, which stamp every row with the clock, write the
audit trail and send emails: one `bulk_create` per table for all of them, so the 160 patients
add seconds, not a minute, to seeding. A patient whose referral exists is skipped, so seeding again adds nothing.
The phase is derived from the course afterwards (`referrals.phase.refresh_phases`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.utils import timezone

from carecoord import demo
from carecoord.models import (
    CareTeamLink,
    DigestDelivery,
    OutgoingEmail,
    Patient,
    PatientDeath,
    PointPerson,
    Product,
    Site,
    TimelineEntry,
    User,
)
from carecoord.models.deaths import DeathCause
from carecoord.models.patients import DiseaseArea, Phase
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_add_site
from carecoord.services.patients import patient_set_identifier
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplateVersion
from infections.models import InfectionEvent
from referrals.milestones.kinds import PreparationKind, milestone_label
from referrals.models import Milestone, Referral, ReferralMove
from referrals.phase import refresh_phases
from referrals.schedule import MilestoneKind, MonitoringRules, plan_milestones
from referrals.workflow import STATE_LABELS, State
from toxicity.models import Alert, ToxicityEvent, ToxicityTreatment

PER_PRACTICE = 40  # past patients of each practice, one referred about every six days
# Which of them the center declined (with the same reason), and which the practice withdrew.
DECLINED = frozenset(n for n in range(PER_PRACTICE) if n % 5 == 1)
WITHDRAWN = frozenset(n for n in range(PER_PRACTICE) if n % 10 == 3)
DECLINE_REASON = "Not a candidate now: active CNS disease (demo)."
DIGEST_WEEKS = 26  # weekly digests of each site's coordinator and nurse, back from this week

# Varied from patient to patient (by index), so the medians and distributions have a spread.
ACKNOWLEDGE_HOURS = (2, 5, 1, 26, 3, 8, 4, 50, 6)
TO_INFUSION_DAYS = (52, 61, 47, 74, 58, 66, 70, 55, 43)
RELEASE_DAYS = (19, 22, 24, 18, 27, 21)  # apheresis to product release
HAND_BACK_DAYS = (21, 24, 28, 21, 30, 18)
CRS_GRADES = (1, 2, 1, 3, 0, 2, 1, 2, 4, 1, 0, 3)  # 0: none
CRS_ONSET_DAYS = (1, 2, 5, 3, 6, 1, 9, 2, 4, 11, 16, 7)
ICANS_GRADES = (0, 2, 0, 1, 3, 0, 2, 1)
ICANS_ONSET_DAYS = (5, 6, 9, 4, 7, 10)
INFECTION_DAYS = (12, 0, 45, 20, 120, 25, 0, 70, 150, 8)  # 0: none
ALERT_MINUTES = (12, 25, 45, 150, 300, 1600, 20, 90, 480, 35, 700, 2900)  # to the first acknowledgement
HANDOFF_HOURS = (2, 5, 20, 30, 52, 3)
# Done this many days after planned.
VISIT_LATE_DAYS = (0, 3, 12, 0, 30, 5, 20, 1, 0)
FORM_LATE_DAYS = (-2, 0, 9, 21, -5, 14, 0)
# One follow-up step in this many is never done (overdue still): a few, so that the demo's
# dashboards show some without burying the stories' own steps.
NEVER_DONE_EVERY = 25
# Some treated patients die (by index, modulo 25): the day after infusion and the primary cause.
# After every event of the course (the last infection is on day +150), once the day has come.
DEATHS: dict[int, tuple[int, DeathCause]] = {
    4: (160, DeathCause.RELAPSE),
    7: (168, DeathCause.INFECTION),
    12: (210, DeathCause.RELAPSE),
    19: (190, DeathCause.SECOND_MALIGNANCY),
    22: (175, DeathCause.OTHER),
}
VISITS = (MilestoneKind.VISIT_DAY_30, MilestoneKind.VISIT_DAY_60, MilestoneKind.VISIT_DAY_90)
FORMS = (MilestoneKind.CIBMTR_DAY_100, MilestoneKind.CIBMTR_MONTH_6)


@dataclass(frozen=True)
class PastPatient:
    spec: demo.DemoPatient
    index: int  # among all past patients: what varies their course
    number: int  # among their practice's
    submitted_days_ago: int

    @property
    def outcome(self) -> State:
        """Where the referral ended: declined, withdrawn, or accepted (and infused)."""
        if self.number in DECLINED:
            return State.DECLINED
        return State.WITHDRAWN if self.number in WITHDRAWN else State.ACCEPTED

    @property
    def treated(self) -> bool:
        return self.outcome == State.ACCEPTED


def _past_patients() -> tuple[PastPatient, ...]:
    practices = [site for site in demo.SITES if site.kind == demo.PRACTICE]
    patients = []
    for p, practice in enumerate(practices):
        center = demo.SITES_BY_KEY[practice.treating_center or ""]
        for number in range(PER_PRACTICE):
            index = p * PER_PRACTICE + number
            disease = (DiseaseArea.LBCL, DiseaseArea.MULTIPLE_MYELOMA, DiseaseArea.FL, DiseaseArea.MCL)[index % 4]
            treated = number not in DECLINED | WITHDRAWN
            # After every other demo name: `carecoord.demo.handed_back_patient` stays the first by name.
            family_name = ("Yearback", "Yesterly", "Yorewell", "Zenpast", "Zoldyear", "Yonderby")[index % 6]
            spec = demo.DemoPatient(
                practice=practice.key,
                mrn=f"{practice.mrn_prefix}-{30001 + index}",  # after the candidates' 2000x
                center_mrn=f"{center.mrn_prefix}-{70001 + index}",
                given_name=("Avery", "Jordan", "Morgan", "Riley", "Quinn", "Rowan", "Sasha")[index % 7],
                family_name=family_name,
                date_of_birth=dt.date(1948 + (index * 5) % 30, 1 + index % 12, 1 + (index * 7) % 28),
                sex=demo.PATIENTS[index % 2].sex,
                disease_area=disease,
                phase=Phase.FOLLOW_UP if treated else Phase.REFERRAL,
                caregiver_name=f"Casey {family_name}",
                caregiver_relationship=("Spouse", "Daughter", "Son", "Partner")[index % 4],
                caregiver_phone=f"+1 312 555 01{(50 + index) % 100:02d}",
            )
            # From about eleven months ago to about four months ago, every six days: all infused and
            # handed back by now, within the year (in follow-up).
            patients.append(PastPatient(spec, index, number, 115 + 6 * (PER_PRACTICE - 1 - number) + 3 * p))
    return tuple(patients)


PAST_PATIENTS = _past_patients()


def _registered(
    spec: demo.DemoPatient, practice: Site, center: Site, staff: dict[tuple[str, str], User], rows: _Rows
) -> Patient:
    """The past patient registered at its practice and shared with its center (found again by
    its MRN), its point persons at both sites (the nurse, the coordinator as backup) to write."""
    center_key = demo.SITES_BY_KEY[spec.practice].treating_center or ""
    coordinator = staff[(spec.practice, Role.COORDINATOR)]
    patient, created = demo.registered_demo_patient(spec, practice, coordinator)
    if not created:
        return patient
    care_team_add_site(
        actor=coordinator,
        patient=patient,
        site=center,
        capacity=CareTeamLink.Capacity.TREATING_CENTER,
        from_site=practice,
    )
    patient_set_identifier(
        actor=staff[(center_key, Role.COORDINATOR)], patient=patient, site=center, mrn=spec.center_mrn
    )
    for link in CareTeamLink.objects.open().filter(patient=patient):
        key = spec.practice if link.site_id == practice.pk else center_key
        rows.point_persons += [
            PointPerson(link=link, user=staff[(key, Role.NURSE)], rank=PointPerson.Rank.PRIMARY),
            PointPerson(link=link, user=staff[(key, Role.COORDINATOR)], rank=PointPerson.Rank.BACKUP),
        ]
    return patient


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


@dataclass
class _Rows:
    """Everything to write, by model, in the order of their foreign keys."""

    point_persons: list[PointPerson] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    moves: list[ReferralMove] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    events: list[ToxicityEvent] = field(default_factory=list)
    # Rows of an event, made once the event has its id: (event index, row).
    treatments: list[tuple[int, ToxicityTreatment]] = field(default_factory=list)
    alerts: list[tuple[int, Alert]] = field(default_factory=list)
    infections: list[tuple[int, InfectionEvent]] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    # (the hand-off's index, the message, how long after the hand-off was sent it was written)
    questions: list[tuple[int, HandoffQuestion, dt.timedelta]] = field(default_factory=list)
    # A death, and the referral whose steps it cancelled.
    deaths: list[tuple[PatientDeath, Referral]] = field(default_factory=list)


@dataclass(frozen=True)
class _Course:
    """Who and where, for one past patient."""

    past: PastPatient
    patient: Patient
    practice: Site
    center: Site
    staff: dict[tuple[str, str], User]  # (site key, role)
    today: dt.date

    def person(self, site: Site, role: str) -> User:
        key = self.past.spec.practice if site == self.practice else self.practice_center_key
        return self.staff[(key, role)]

    @property
    def practice_center_key(self) -> str:
        return demo.SITES_BY_KEY[self.past.spec.practice].treating_center or ""


def _entry(rows: _Rows, course: _Course, when: dt.datetime, site: Site, title: str, kind: str) -> None:
    rows.timeline.append(
        TimelineEntry(
            patient=course.patient,
            kind=kind,
            occurred_at=when,
            site=site,
            actor=course.person(site, Role.COORDINATOR),
            title=title,
        )
    )


def _referral(rows: _Rows, course: _Course, product: Product | None) -> tuple[Referral, dt.date]:
    past, center, practice = course.past, course.center, course.practice
    submitted_on = course.today - dt.timedelta(days=past.submitted_days_ago)
    submitted = _at(submitted_on, 15)
    acknowledged = submitted + dt.timedelta(hours=ACKNOWLEDGE_HOURS[past.index % len(ACKNOWLEDGE_HOURS)])
    decided_on = submitted_on + dt.timedelta(days=9 + past.index % 6)
    referral = Referral(
        patient=course.patient,
        from_site=practice,
        to_center=center,
        referring_physician=course.person(practice, Role.PHYSICIAN),
        created_by=course.person(practice, Role.COORDINATOR),
        disease_area=past.spec.disease_area,
        prior_lines_of_therapy=2 + past.index % 3,
        performance_status=past.index % 2,
        urgency=("routine", "urgent", "routine")[past.index % 3],
        reason="Relapsed disease; evaluation for CAR-T (synthetic demo referral).",
        product=product if past.treated else None,
        state=past.outcome,
        decline_reason=DECLINE_REASON if past.outcome == State.DECLINED else "",
        submitted_at=submitted,
        acknowledge_by=submitted + dt.timedelta(days=1),
        acknowledged_at=acknowledged,
    )
    rows.referrals.append(referral)
    for state, when, site in (
        (State.SUBMITTED, submitted, practice),
        (State.RECEIVED, acknowledged, center),
        (past.outcome, _at(decided_on, 17), practice if past.outcome == State.WITHDRAWN else center),
    ):
        rows.moves.append(
            ReferralMove(
                referral=referral,
                from_state="",
                to_state=state,
                actor=course.person(site, Role.COORDINATOR),
                site=site,
                at=when,
            )
        )
        _entry(rows, course, when, site, f"Referral: {STATE_LABELS[state].lower()}", TimelineEntry.Kind.REFERRAL)
    return referral, decided_on


def _milestone(
    rows: _Rows,
    course: _Course,
    referral: Referral,
    kind: str,
    planned: dt.date,
    late: int | None = 0,
    *,
    site: Site,
    died_on: dt.date | None = None,
) -> None:
    """A step planned on `planned`, done `late` days after (None: never) if that day is past
    (and the patient alive then); not done by the patient's death, it was cancelled by it."""
    done_on = planned + dt.timedelta(days=late or 0)
    done = late is not None and done_on < course.today and (died_on is None or done_on <= died_on)
    status = Milestone.Status.PLANNED if died_on is None else Milestone.Status.CANCELLED
    rows.milestones.append(
        Milestone(
            referral=referral,
            kind=kind,
            planned_on=planned,
            actual_on=done_on if done else None,
            status=Milestone.Status.DONE if done else status,
            given_at=course.practice if kind == PreparationKind.BRIDGING_THERAPY else None,
            manual=kind in set(PreparationKind),
        )
    )
    if done:
        _entry(rows, course, _at(done_on, 16), site, f"{milestone_label(kind)}: done", TimelineEntry.Kind.MILESTONE)


def _course(rows: _Rows, course: _Course, referral: Referral, decided_on: dt.date, product: Product) -> dt.date:
    """The milestones of a treated course; returns its day 0."""
    i, center, practice = course.past.index, course.center, course.practice
    submitted_on = course.today - dt.timedelta(days=course.past.submitted_days_ago)
    apheresis = decided_on + dt.timedelta(days=4 + i % 5)
    release = apheresis + dt.timedelta(days=RELEASE_DAYS[i % len(RELEASE_DAYS)])
    infusion = max(
        submitted_on + dt.timedelta(days=TO_INFUSION_DAYS[i % len(TO_INFUSION_DAYS)]), release + dt.timedelta(days=5)
    )
    _milestone(rows, course, referral, PreparationKind.CONSULT, submitted_on + dt.timedelta(days=6), site=center)
    _milestone(rows, course, referral, PreparationKind.APHERESIS, apheresis, site=center)
    _milestone(rows, course, referral, PreparationKind.MANUFACTURING_RELEASE, release, site=center)
    if i % 3:
        _milestone(
            rows, course, referral, PreparationKind.BRIDGING_THERAPY, infusion - dt.timedelta(days=12), site=practice
        )
    hand_back_day = HAND_BACK_DAYS[i % len(HAND_BACK_DAYS)]
    died_on = _death(rows, course, referral, infusion)
    for step in plan_milestones(infusion, rules=MonitoringRules.from_product(product), hand_back_day=hand_back_day):
        if step.planned_on > course.today + dt.timedelta(days=400):
            continue  # the years ahead: planned when the course was, not needed here
        late: int | None = 0
        turn = i + step.day_offset
        if step.kind in (*VISITS, *FORMS) and turn % NEVER_DONE_EVERY == 0:
            late = None
        elif step.kind in VISITS:
            late = VISIT_LATE_DAYS[turn % len(VISIT_LATE_DAYS)]
        elif step.kind in FORMS:
            late = FORM_LATE_DAYS[turn % len(FORM_LATE_DAYS)]
        site = practice if step.kind in VISITS or step.kind == MilestoneKind.HAND_BACK else center
        _milestone(rows, course, referral, step.kind, step.planned_on, late, site=site, died_on=died_on)
    return infusion


def _death(rows: _Rows, course: _Course, referral: Referral, day_zero: dt.date) -> dt.date | None:
    """The day the patient died, if they did by today (`DEATHS`), recorded the next day by the practice."""
    if (death := DEATHS.get(course.past.index % 25)) is None:
        return None
    died_on = day_zero + dt.timedelta(days=death[0])
    if died_on >= course.today:
        return None
    when = _at(died_on + dt.timedelta(days=1), 10)
    recorder = course.person(course.practice, Role.PHYSICIAN)
    record = PatientDeath(
        patient=course.patient,
        died_on=died_on,
        cause=death[1],
        site=course.practice,
        recorded_by=recorder,
        recorded_at=when,
    )
    rows.deaths.append((record, referral))
    _entry(rows, course, when, course.practice, f"Died on {died_on:%d %b %Y}", TimelineEntry.Kind.DEATH)
    return died_on


def _event(rows: _Rows, course: _Course, kind: str, day_zero: dt.date, day: int, grade: int) -> int:
    """A toxicity on day +`day`, recorded where the patient is then (the center in the first
    two weeks, the practice after), with alerts to the other site; returns its index."""
    i = course.past.index
    recorder = course.center if day <= 14 else course.practice
    told = course.practice if recorder == course.center else course.center
    onset = _at(day_zero + dt.timedelta(days=day), 14, 10 * (i % 5))
    rows.events.append(
        ToxicityEvent(
            patient=course.patient,
            kind=kind,
            onset_at=onset,
            reporting_site=recorder,
            reported_by=course.person(recorder, Role.NURSE),
            grade=grade,
            highest_grade=grade,
            status=ToxicityEvent.Status.RESOLVED,
            resolved_on=(day_zero + dt.timedelta(days=day + 5)),
            outcome=ToxicityEvent.Outcome.RECOVERED,
        )
    )
    event = len(rows.events) - 1
    _entry(rows, course, onset, recorder, f"{kind.upper()} grade {grade}", TimelineEntry.Kind.TOXICITY)
    made = onset + dt.timedelta(minutes=10)
    minutes = ALERT_MINUTES[(i + day) % len(ALERT_MINUTES)]
    limit = told.escalate_severe_after_minutes if grade >= 3 else told.escalate_other_after_minutes
    for role in (Role.NURSE, Role.COORDINATOR):
        seen = made + dt.timedelta(minutes=minutes)
        escalated = minutes > limit
        alert = Alert(
            recipient=course.person(told, role),
            site=told,
            reason=Alert.Reason.RECORDED,
            grade=grade,
            escalate_at=made + dt.timedelta(minutes=limit),
            escalated_at=made + dt.timedelta(minutes=limit) if escalated else None,
            acknowledged_at=seen,
            acknowledged_by=course.person(told, role),
            created_at=made,
        )
        rows.alerts.append((event, alert))
    return event


def _safety(rows: _Rows, course: _Course, day_zero: dt.date) -> None:
    """The course's CRS, ICANS and infection, with their treatments. Every course has one event
    at least (a course without any would be given the toxicity demo's on a second seeding)."""
    i = course.past.index
    before = len(rows.events)
    grade, onset = CRS_GRADES[i % len(CRS_GRADES)], CRS_ONSET_DAYS[i % len(CRS_ONSET_DAYS)]
    if grade:
        crs = _event(rows, course, "crs", day_zero, onset, grade)
        if grade >= 2:
            _treat(rows, course, crs, ToxicityTreatment.Kind.TOCILIZUMAB, day_zero, onset)
        if grade >= 3:
            _treat(rows, course, crs, ToxicityTreatment.Kind.ICU_TRANSFER, day_zero, onset + 1)
    grade, onset = ICANS_GRADES[i % len(ICANS_GRADES)], ICANS_ONSET_DAYS[i % len(ICANS_ONSET_DAYS)]
    if grade:
        icans = _event(rows, course, "icans", day_zero, onset, grade)
        if grade >= 2:
            _treat(rows, course, icans, ToxicityTreatment.Kind.CORTICOSTEROID, day_zero, onset)
    day = INFECTION_DAYS[i % len(INFECTION_DAYS)]
    if day and day_zero + dt.timedelta(days=day) < course.today:
        _infection(rows, course, day_zero, day, 3 if i % 2 else 2)
    if len(rows.events) == before:
        _infection(rows, course, day_zero, 20, 2)


def _infection(rows: _Rows, course: _Course, day_zero: dt.date, day: int, grade: int) -> None:
    event = _event(rows, course, "infection", day_zero, day, grade)
    recorder = course.center if day <= 14 else course.practice
    infection = InfectionEvent(
        patient=course.patient,
        reporting_site=recorder,
        recorded_by=course.person(recorder, Role.NURSE),
        body_site=(InfectionEvent.BodySite.LUNG, InfectionEvent.BodySite.BLOODSTREAM)[course.past.index % 2],
        grade=grade,
        setting=InfectionEvent.Setting.WARD if grade >= 3 else InfectionEvent.Setting.OUTPATIENT,
        onset_on=day_zero + dt.timedelta(days=day),
        resolved_on=day_zero + dt.timedelta(days=day + 10),
    )
    rows.infections.append((event, infection))


def _treat(rows: _Rows, course: _Course, event: int, kind: str, day_zero: dt.date, day: int) -> None:
    rows.treatments.append(
        (
            event,
            ToxicityTreatment(
                kind=kind,
                given_at=_at(day_zero + dt.timedelta(days=day), 18),
                recorded_by=course.person(course.center, Role.NURSE),
                site=course.center,
            ),
        )
    )


def _handoff(rows: _Rows, course: _Course, day_zero: dt.date, version: HandoffTemplateVersion) -> None:
    i = course.past.index
    sent = _at(day_zero + dt.timedelta(days=HAND_BACK_DAYS[i % len(HAND_BACK_DAYS)]), 15)
    seen = sent + dt.timedelta(hours=HANDOFF_HOURS[i % len(HANDOFF_HOURS)])
    handoff = Handoff(
        patient=course.patient,
        version=version,
        from_site=course.center,
        to_site=course.practice,
        state=Handoff.State.ACKNOWLEDGED,
        created_by=course.person(course.center, Role.COORDINATOR),
        sent_by=course.person(course.center, Role.COORDINATOR),
        sent_at=sent,
        acknowledge_by=sent + dt.timedelta(days=2),
        acknowledged_by=course.person(course.practice, Role.COORDINATOR),
        acknowledged_at=seen,
    )
    rows.handoffs.append(handoff)
    _entry(rows, course, sent, course.center, "Transition hand-off sent", TimelineEntry.Kind.HANDOFF)
    if i % 3 == 0:
        question = HandoffQuestion(
            author=course.person(course.practice, Role.PHYSICIAN),
            site=course.practice,
            body="Which prophylaxis should continue after day +30? (demo)",
        )
        answer = HandoffQuestion(
            author=course.person(course.center, Role.PHYSICIAN),
            site=course.center,
            body="Continue acyclovir and PJP prophylaxis to month 6, as in the plan. (demo)",
            kind=HandoffQuestion.Kind.ANSWER,
        )
        # Asked and answered the next day: a past course's thread waits on nobody (`handoff_ask`
        # clears the open question when it is answered).
        index = len(rows.handoffs) - 1
        rows.questions += [(index, question, dt.timedelta(hours=1)), (index, answer, dt.timedelta(days=1))]


def _write(rows: _Rows) -> None:
    """One `bulk_create` per table; the moments `auto_now_add` stamps set back afterwards."""
    PointPerson.objects.bulk_create(rows.point_persons)
    Referral.objects.bulk_create(rows.referrals)
    for move in rows.moves:
        move.referral_id = move.referral.pk
    _created(rows.moves, "at")
    Milestone.objects.bulk_create([_with_referral(m) for m in rows.milestones])
    TimelineEntry.objects.bulk_create(rows.timeline)
    events = ToxicityEvent.objects.bulk_create(rows.events)
    for index, treatment in rows.treatments:
        treatment.event = events[index]
    for index, alert in rows.alerts:
        alert.event = events[index]
    for index, infection in rows.infections:
        infection.toxicity_event = events[index]
    ToxicityTreatment.objects.bulk_create([row for _, row in rows.treatments])
    _created([row for _, row in rows.alerts], "created_at")
    InfectionEvent.objects.bulk_create([row for _, row in rows.infections])
    handoffs = Handoff.objects.bulk_create(rows.handoffs)
    for index, question, after in rows.questions:
        question.handoff = handoffs[index]
        question.created_at = (handoffs[index].sent_at or timezone.now()) + after
    _created([question for _, question, _after in rows.questions], "created_at")
    for handoff in handoffs:
        handoff.created_at = handoff.sent_at or handoff.created_at
    Handoff.objects.bulk_update(handoffs, ["created_at", "last_word_at"])
    for referral in rows.referrals:
        referral.created_at = (referral.submitted_at or timezone.now()) - dt.timedelta(hours=2)
    Referral.objects.bulk_update(rows.referrals, ["created_at"])
    for death, referral in rows.deaths:
        cancelled = Milestone.Status.CANCELLED
        steps = [m.pk for m in rows.milestones if m.referral_id == referral.pk and m.status == cancelled]
        death.cancelled_steps = sorted(steps)
        # As the death left them: a withdrawal would plan them again (`referrals.deaths`).
        Milestone.objects.filter(pk__in=steps).update(updated_at=death.recorded_at)
    _created([death for death, _ in rows.deaths], "recorded_at")


def _with_referral(milestone: Milestone) -> Milestone:
    milestone.referral_id = milestone.referral.pk
    return milestone


def _created[M: Model](objs: Sequence[M], moment: str) -> None:
    """`objs` created, then given back the `moment` they were made with (which `auto_now_add`
    replaced with the clock's)."""
    if not objs:
        return
    model = type(objs[0])
    wanted = [getattr(obj, moment) for obj in objs]
    created = model._default_manager.bulk_create(objs)
    for obj, when in zip(created, wanted, strict=True):
        setattr(obj, moment, when)
    model._default_manager.bulk_update(created, [moment])


def _digests(staff: dict[tuple[str, str], User], today: dt.date) -> int:
    """A weekly digest built for each site's coordinator and nurse over the last half-year, all
    sent but one in nine (not delivered); weeks already built are left alone."""
    people = {user for (_, role), user in staff.items() if role in (Role.COORDINATOR, Role.NURSE)}
    monday = today - dt.timedelta(days=today.weekday())
    weeks = [monday - dt.timedelta(weeks=n) for n in range(1, DIGEST_WEEKS + 1)]
    built = set(DigestDelivery.objects.filter(recipient__in=people).values_list("recipient_id", "week_start"))
    wanted = [
        (person, week)
        for person in sorted(people, key=lambda u: u.pk)
        for week in weeks
        if (person.pk, week) not in built
    ]
    emails: list[OutgoingEmail] = []
    deliveries: list[DigestDelivery] = []
    for n, (person, week) in enumerate(wanted):
        status = OutgoingEmail.Status.FAILED if n % 9 == 4 else OutgoingEmail.Status.SENT
        emails.append(
            OutgoingEmail(
                recipient=person,
                to_address=person.email,
                template="digest",
                subject="Your weekly carecoord digest (demo)",
                body_text="(demo digest)",
                body_html="<p>(demo digest)</p>",
                dedupe_key=f"demo-digest-{person.pk}-{week.isoformat()}",
                status=status,
            )
        )
        deliveries.append(DigestDelivery(recipient=person, week_start=week, built_at=_at(week, 12)))
    OutgoingEmail.objects.bulk_create(emails)
    for delivery, email in zip(deliveries, emails, strict=True):
        delivery.email = email
    DigestDelivery.objects.bulk_create(deliveries)
    return len(deliveries)


def seed_past_courses(staff: dict[tuple[str, str], User]) -> int:
    """The past year's patients and their courses (`staff`: the demo's (site key, role) ->
    person); returns the patients whose course was written now."""
    sites = demo.sites_by_key()
    version = HandoffTemplateVersion.objects.filter(status="published").order_by("pk").first()
    products = {area: _product_for(area) for area in DiseaseArea.values}
    rows = _Rows()
    written: list[Any] = []
    for past in PAST_PATIENTS:
        practice = sites[past.spec.practice]
        center = sites[demo.SITES_BY_KEY[past.spec.practice].treating_center or ""]
        patient = _registered(past.spec, practice, center, staff, rows)
        if Referral.objects.filter(patient=patient).exists():
            continue
        course = _Course(past, patient, practice, center, staff, center.today())
        product = products[past.spec.disease_area]
        referral, decided_on = _referral(rows, course, product)
        written.append(patient.pk)
        if not past.treated or product is None:
            _milestone(rows, course, referral, PreparationKind.CONSULT, decided_on - dt.timedelta(days=3), site=center)
            continue
        day_zero = _course(rows, course, referral, decided_on, product)
        _safety(rows, course, day_zero)
        if version is not None:
            _handoff(rows, course, day_zero, version)
    _write(rows)
    _digests(staff, min(site.today() for site in sites.values()))
    refresh_phases(written)
    return len(written)


def _product_for(disease_area: str) -> Product | None:
    return Product.objects.filter(is_active=True, disease_areas__contains=[disease_area]).order_by("brand_name").first()
