"""A small program whose every figure was counted by hand (the values are in the tests): six
referrals from Riverbend Oncology to Lakeside in the first half of 2026, three infusions, their
toxicities, infections, alerts, hand-offs, follow-up and digests. Rows are written directly,
with the moments the figures depend on (the services stamp them with the clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from carecoord.models import DigestDelivery, OutgoingEmail, Patient, Product, Site, User
from handoffs.models import Handoff, HandoffQuestion, HandoffTemplateVersion
from infections.models import InfectionEvent
from metrics.scope import Cohort, Period
from referrals.models import Milestone, Referral, ReferralMove
from tests.factories import member, patient_at
from tests.helpers import World
from toxicity.models import Alert, ToxicityEvent, ToxicityTreatment

UTC = dt.UTC
CHICAGO = Site().zone
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30), CHICAGO)
NOW = dt.datetime(2026, 7, 15, 15, 0, tzinfo=UTC)


def at(day: str, hour: int = 15, minute: int = 0) -> dt.datetime:
    """A moment of 2026 in UTC: 15:00 UTC is 09:00 or 10:00 in Chicago, the same date."""
    return dt.datetime.fromisoformat(f"2026-{day}").replace(hour=hour, minute=minute, tzinfo=UTC)


def on(day: str) -> dt.date:
    return dt.date.fromisoformat(f"2026-{day}")


@dataclass
class Program:
    world: World
    patients: list[Patient]
    referrals: list[Referral]
    nurse: User
    extra: dict[str, Any] = field(default_factory=dict)

    def cohort(self, user: User, **narrowed: Any) -> Cohort:
        return Cohort.for_user(user, PERIOD, NOW, **narrowed)


def _referral(program_world: World, patient: Patient, product: str | None, submitted: str, **fields: Any) -> Referral:
    w = program_world
    referral = Referral.objects.create(
        patient=patient,
        from_site=w.practice,
        to_center=w.center,
        referring_physician=w.community_oncologist,
        created_by=w.community_coordinator,
        disease_area="lbcl",
        prior_lines_of_therapy=2,
        performance_status=1,
        reason="Relapsed LBCL",
        product=Product.objects.get(brand_name=product) if product else None,
        submitted_at=at(submitted),
        acknowledge_by=at(submitted) + dt.timedelta(days=1),
        **fields,
    )
    Referral.objects.filter(pk=referral.pk).update(created_at=at(submitted) - dt.timedelta(hours=1))
    return referral


def _decide(world: World, referral: Referral, state: str, day: str) -> None:
    move = ReferralMove.objects.create(
        referral=referral, from_state="under_review", to_state=state, actor=world.center_coordinator, site=world.center
    )
    ReferralMove.objects.filter(pk=move.pk).update(at=at(day))


def _step(referral: Referral, kind: str, planned: str, done: str | None = None) -> Milestone:
    return Milestone.objects.create(
        referral=referral,
        kind=kind,
        planned_on=on(planned),
        actual_on=on(done) if done else None,
        status=Milestone.Status.DONE if done else Milestone.Status.PLANNED,
    )


def _event(world: World, patient: Patient, kind: str, onset: str, grade: int, **fields: Any) -> ToxicityEvent:
    return ToxicityEvent.objects.create(
        patient=patient,
        kind=kind,
        onset_at=at(onset),
        reporting_site=world.practice,
        reported_by=world.community_oncologist,
        grade=grade,
        highest_grade=grade,
        **fields,
    )


def _alert(event: ToxicityEvent, to: User, site: Site, made: str, seen: dt.datetime | None, **fields: Any) -> Alert:
    alert = Alert.objects.create(
        event=event,
        recipient=to,
        site=site,
        reason=Alert.Reason.RECORDED,
        grade=event.grade,
        acknowledged_at=seen,
        **fields,
    )
    Alert.objects.filter(pk=alert.pk).update(created_at=at(made, 16))
    return alert


@pytest.fixture
def program(world: World) -> Program:
    w = world
    nurse = member(w.center, "nurse", email="nurse@lakeside.test", full_name="Nina Nurse")
    patients = [patient_at(w.practice, w.community_coordinator, shared_with=w.center) for _ in range(6)]
    p1, p2, p3, p4, p5, p6 = patients
    r1 = _referral(w, p1, "Yescarta", "02-02", state="accepted", acknowledged_at=at("02-02", 17))
    r2 = _referral(w, p2, "Yescarta", "02-03", state="accepted", acknowledged_at=at("02-03", 19))
    r3 = _referral(w, p3, "Breyanzi", "03-02", state="accepted", acknowledged_at=at("03-03", 21))
    r4 = _referral(
        w, p4, None, "03-03", state="declined", acknowledged_at=at("03-03", 16), decline_reason="Not eligible"
    )
    r5 = _referral(w, p5, None, "04-01", state="withdrawn", acknowledged_at=at("04-01", 21))
    r6 = _referral(w, p6, None, "04-06", state="submitted")
    # Before the period: not counted.
    earlier = _referral(w, p1, "Yescarta", "01-01", state="withdrawn")
    Referral.objects.filter(pk=earlier.pk).update(
        submitted_at=dt.datetime(2025, 12, 1, 15, tzinfo=UTC), created_at=dt.datetime(2025, 12, 1, 14, tzinfo=UTC)
    )
    for referral, day in ((r1, "02-12"), (r2, "02-17"), (r3, "03-09")):
        _decide(w, referral, "accepted", day)
    _decide(w, r4, "declined", "03-13")
    for referral, consult, apheresis, release, infusion in (
        (r1, "02-09", "03-04", "03-25", "04-03"),
        (r2, "02-13", "03-10", "04-01", "04-10"),
        (r3, "03-06", "03-30", "04-20", "04-28"),
    ):
        _step(referral, "consult", consult, consult)
        _step(referral, "apheresis", apheresis, apheresis)
        _step(referral, "manufacturing_release", release, release)
        _step(referral, "infusion", infusion, infusion)
    _step(r4, "consult", "03-10", "03-10")
    _step(r6, "consult", "05-01")  # overdue: preparation
    # Follow-up: p1's visit 17 days late, p2's not done (overdue), p3's 5 days late (on time).
    _step(r1, "visit_day_30", "05-03", "05-20")
    _step(r2, "visit_day_30", "05-10")
    _step(r3, "visit_day_30", "05-28", "06-02")
    _step(r3, "cibmtr_day_100", "06-01", "05-30")
    _step(r1, "cibmtr_day_100", "07-12")  # overdue, after the period
    _step(r1, "hand_back", "04-24", "04-24")  # day +21
    _step(r2, "hand_back", "05-08", "05-08")  # day +28

    # Toxicities: p1 CRS 2 on day +2 (tocilizumab), ICANS 3 on day +6 (steroids), and a CRS
    # before day 0 (not counted); p2 CRS 1 on day +16 (atypical), to the ICU; p3 a fatal
    # infection on day +53 and a grade 3 one on day +12.
    crs1 = _event(w, p1, "crs", "04-05", 2)
    icans1 = _event(w, p1, "icans", "04-09", 3)
    _event(w, p1, "crs", "03-30", 4)
    crs2 = _event(w, p2, "crs", "04-26", 1)
    fatal = _event(w, p3, "infection", "06-20", 5, outcome=ToxicityEvent.Outcome.FATAL)
    for event, kind, day in (
        (crs1, ToxicityTreatment.Kind.TOCILIZUMAB, "04-05"),
        (icans1, ToxicityTreatment.Kind.CORTICOSTEROID, "04-09"),
        (crs2, ToxicityTreatment.Kind.ICU_TRANSFER, "04-27"),
    ):
        ToxicityTreatment.objects.create(
            event=event, kind=kind, given_at=at(day, 18), recorded_by=w.center_coordinator, site=w.center
        )
    infections: list[tuple[str, int, str, ToxicityEvent | None]] = [
        ("05-10", 3, "ward", None),
        ("06-20", 5, "icu", fatal),
    ]
    for day, grade, setting, caused_by in infections:
        InfectionEvent.objects.create(
            patient=p3,
            reporting_site=w.practice,
            recorded_by=w.community_oncologist,
            body_site="lung",
            grade=grade,
            setting=setting,
            onset_on=on(day),
            toxicity_event=caused_by,
        )

    # Alerts, per site reached: at the center, p1's CRS seen in 20 minutes by one of its two
    # recipients (one acknowledgement covers the site), p2's in 2 hours after escalating,
    # p1's ICANS never, p3's in 24 hours; at the practice, p1's ICANS in 5 hours. The
    # recording site's own alert and the escalation copy are not counted.
    for person in (nurse, w.center_coordinator):
        _alert(crs1, person, w.center, "04-05", at("04-05", 16, 20))
    escalated = _alert(crs2, nurse, w.center, "04-26", at("04-26", 18), escalated_at=at("04-26", 16, 30))
    Alert.objects.create(
        event=crs2,
        recipient=w.center_coordinator,
        site=w.center,
        reason=Alert.Reason.ESCALATED,
        grade=1,
        escalated_from=escalated,
        acknowledged_at=at("04-26", 18),
    )
    _alert(icans1, nurse, w.center, "04-09", None)
    _alert(fatal, nurse, w.center, "06-20", at("06-21", 16))
    _alert(icans1, w.community_oncologist, w.practice, "04-09", at("04-09", 21))
    _alert(crs1, w.community_oncologist, w.practice, "04-05", at("04-05", 16), acknowledged_on_recording=True)

    # Hand-offs from the center to the practice: 24 hours with a question back, then 2 hours.
    version = HandoffTemplateVersion.objects.filter(status="published").first()
    assert version is not None
    for patient, sent, seen, asked in ((p1, at("04-20"), at("04-21"), True), (p2, at("05-15"), at("05-15", 17), False)):
        handoff = Handoff.objects.create(
            patient=patient,
            version=version,
            from_site=w.center,
            to_site=w.practice,
            state="acknowledged",
            created_by=w.center_coordinator,
            sent_at=sent,
            acknowledged_at=seen,
        )
        if asked:
            HandoffQuestion.objects.create(
                handoff=handoff, author=w.community_oncologist, site=w.practice, body="Which dose?"
            )
        else:  # a note from the practice is no question asked back
            HandoffQuestion.objects.create(
                handoff=handoff, author=w.community_oncologist, site=w.practice, body="Noted.", kind="note"
            )

    # Weekly digests of the practice's coordinator: two built, one delivered.
    for week, status in ((on("05-04"), "sent"), (on("05-11"), "pending")):
        email = OutgoingEmail.objects.create(
            recipient=w.community_coordinator,
            to_address=w.community_coordinator.email,
            template="digest",
            subject="Digest",
            body_text=".",
            body_html=".",
            dedupe_key=f"digest-{week}",
            status=status,
        )
        DigestDelivery.objects.create(
            recipient=w.community_coordinator, week_start=week, built_at=at(week.isoformat()[5:], 12), email=email
        )
    return Program(w, patients, [r1, r2, r3, r4, r5, r6], nurse)
