"""A submitted referral is announced to the center: who hears of it, by when to acknowledge it,
and no more of the patient than initials and a link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from carecoord.emails import email_claim, email_deliver
from carecoord.models import OutgoingEmail, Patient
from carecoord.roles import Role
from referrals.models import Referral
from referrals.services import referral_create, referral_move
from referrals.workflow import Move
from tests.factories import member, patient_at
from tests.helpers import REFERRAL_FIELDS, World, draft_referral, name_point_persons, wait_for
from tests.smtp import smtp_catcher, text_and_html
from tests.worker import running_worker

MONDAY_NOON_CHICAGO = dt.datetime(2026, 11, 16, 18, 0, tzinfo=dt.UTC)
# One business day on, on the center's clock (Chicago), as the emails name it.
DUE = "Tue 17 Nov 2026, 12:00 CST"


def _submit(world: World, patient: Patient | None = None, **fields: Any) -> Referral:
    draft = referral_create(
        actor=world.community_coordinator,
        patient=patient or world.shared_patient,
        from_site=world.practice,
        to_center=world.center,
        referring_physician=world.community_oncologist,
        **(REFERRAL_FIELDS | fields),
    )
    with time_machine.travel(MONDAY_NOON_CHICAGO, tick=False):
        return referral_move(actor=world.community_coordinator, referral=draft, move=Move.SUBMIT)


def _delivered(template: str, recipient_email: str) -> EmailMultiAlternatives:
    """The row's email sent through Django's mail machinery, as a worker sends it."""
    row = OutgoingEmail.objects.get(template=template, to_address=recipient_email)
    claimed = email_claim(row.pk).email
    assert claimed is not None
    email_deliver(claimed)
    (message,) = [m for m in mail.outbox if m.to == [recipient_email]]
    assert isinstance(message, EmailMultiAlternatives)
    return message


def _parts(message: EmailMultiAlternatives) -> tuple[str, str, str]:
    return str(message.subject), str(message.body), str(message.alternatives[0][0])


@pytest.mark.django_db
def test_the_centers_coordinators_and_its_point_persons_hear_of_the_referral(world: World) -> None:
    second = member(world.center, Role.COORDINATOR, email="second@lakeside.test")
    member(world.center, Role.PHARMACIST)  # neither a coordinator nor a point person: not told
    # The center's primary is a nurse; its backup, the coordinator, is told once.
    nurse = name_point_persons(world)["center_nurse"]
    _submit(world)
    rows = OutgoingEmail.objects.filter(template="referral-submitted")
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(
        [world.center_coordinator.pk, second.pk, nurse.pk]
    )
    assert "You receive this as a coordinator at Lakeside CAR-T Center." in rows.get(recipient=second).body_text
    why = "You receive this as the primary point person for this patient at Lakeside CAR-T Center."
    assert why in rows.get(recipient=nurse).body_text


@pytest.mark.django_db
def test_the_email_says_by_when_to_acknowledge_with_initials_and_a_link_only(world: World) -> None:
    referral = _submit(world, urgency="routine")
    subject, text, html = _parts(_delivered("referral-submitted", world.center_coordinator.email))
    assert subject == f"carecoord: new referral #{referral.pk} from Riverbend Oncology (patient SS)"
    assert f"Acknowledge by: {DUE}" in text and DUE in html
    assert "Patient: SS" in text and "Urgency: Routine" in text
    assert "It is urgent" not in text + html
    link = reverse("referral-detail", kwargs={"referral_id": referral.pk})
    assert link in text and f'{link}">Open it in carecoord</a>' in html
    for part in (subject, text, html):
        assert "Sharon" not in part and "Sharedcare" not in part
        assert "LBCL" not in part and "R-CHOP" not in part  # neither the reason nor the therapies


@pytest.mark.django_db
def test_an_urgent_referral_states_its_deadline_first(world: World) -> None:
    referral = _submit(world, urgency="emergent")
    subject, text, html = _parts(_delivered("referral-submitted", world.center_coordinator.email))
    assert subject == (
        f"carecoord: urgent referral #{referral.pk} from Riverbend Oncology, acknowledge by Tue 17 Nov, 12:00 CST "
        "(patient SS)"
    )
    assert f"It is urgent: please acknowledge it by {DUE}." in text
    assert f"It is urgent: please acknowledge it by {DUE}." in html
    assert "Urgency: Emergent (within 48 hours)" in text


@pytest.mark.django_db
def test_a_draft_tells_nobody(world: World) -> None:
    draft_referral(world)
    assert not OutgoingEmail.objects.filter(template="referral-submitted").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("urgency", "stated"), [("urgent", True), ("routine", False)])
def test_the_shared_care_email_gives_an_urgent_referrals_deadline(world: World, urgency: str, stated: bool) -> None:
    # Not yet on the center's care team: the submission brings the center in, and says so.
    patient = patient_at(world.practice, world.community_coordinator, given_name="Nadia", family_name="Newref")
    _submit(world, patient=patient, urgency=urgency)
    subject, text, html = _parts(_delivered("care-team-joined", world.center_coordinator.email))
    assert "shared a patient's care with Lakeside CAR-T Center (patient NN)" in subject
    words = f"The patient is referred urgently: please acknowledge the referral by {DUE}."
    assert (words in text, words in html) == (stated, stated)
    assert "Newref" not in text + html


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_the_arrival_to_the_center_over_smtp(world: World, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with smtp_catcher() as catcher, running_worker(log, extra_env=catcher.env):
        # Queued as the submission commits, sent by the worker, no sweep needed.
        referral = referral_move(actor=world.community_coordinator, referral=draft_referral(world), move=Move.SUBMIT)
        wait_for(lambda: bool(catcher.to(world.center_coordinator.email)), 60, log.read_text)
        (message,) = catcher.to(world.center_coordinator.email)
    text, html = text_and_html(message)
    subject = " ".join(str(message["Subject"]).split())  # a long header comes folded
    assert f"urgent referral #{referral.pk} from Riverbend Oncology, acknowledge by" in subject
    assert "It is urgent: please acknowledge it by" in text
    assert "Sharedcare" not in text + html
    assert not catcher.to(world.community_coordinator.email)  # the practice is not told of its own move
    assert OutgoingEmail.objects.get(template="referral-submitted").status == OutgoingEmail.Status.SENT
