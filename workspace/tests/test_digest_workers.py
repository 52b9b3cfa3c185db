"""The weekly digests built and sent in parallel: the beat pass fans the due people out to a real
Celery worker with two processes, over real SMTP (aiosmtpd), each batch's messages in one SMTP
conversation. A second beat pass or a duplicate task sends nothing twice, and an email the
relay refuses is retried until it arrives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carecoord.models import DigestDelivery, DigestPreference, OutgoingEmail, TimelineEntry, User
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_name_point_person
from tests.factories import member, patient_at
from tests.helpers import World, holds_for, wait_for
from tests.smtp import smtp_catcher
from tests.worker import running_worker
from workspace.tasks import BATCH, send_digests, send_weekly_digests

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PEOPLE = 2 * BATCH  # two batches: one for each worker process


def _readers(world: World) -> list[User]:
    """PEOPLE nurses at the practice, each point person for a patient of their own, each with
    the digest due from Monday 00:00: due whenever the test runs."""
    readers = []
    for _ in range(PEOPLE):
        user = member(world.practice, Role.NURSE)
        DigestPreference.objects.create(user=user, weekday=0, hour=0)
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        link = patient.care_team.get(site=world.practice)
        care_team_name_point_person(actor=world.community_coordinator, link=link, user=user, rank="primary")
        TimelineEntry.objects.create(patient=patient, kind=TimelineEntry.Kind.COMMENT, title="Seen at clinic")
        readers.append(user)
    return readers


def test_two_worker_processes_send_each_digest_once_and_retry_a_refused_one(world: World, tmp_path: Path) -> None:
    readers = _readers(world)
    log = tmp_path / "worker.log"
    with smtp_catcher() as catcher:
        catcher.refuse_next = 2  # the relay refuses the first two messages: they are sent again
        env = {**catcher.env, "EMAIL_RETRY_FIRST_SECONDS": "1"}
        with running_worker(log, extra_env=env, pool="prefork", concurrency=2):
            assert send_weekly_digests() == PEOPLE  # the beat's pass: two tasks of BATCH people
            # A second pass before any task ran, and a duplicate task: the claim stops them.
            send_weekly_digests()
            send_digests.delay([user.pk for user in readers])

            wait_for(lambda: len(catcher.messages) >= PEOPLE, timeout=120, describe=lambda: log.read_text())
            holds_for(lambda: len(catcher.messages) == PEOPLE, seconds=3, describe=lambda: str(len(catcher.messages)))
            assert send_weekly_digests() == 0  # every week claimed: nothing left to queue

    assert sorted(str(m["To"]) for m in catcher.messages) == sorted(user.email for user in readers)
    assert DigestDelivery.objects.count() == PEOPLE
    emails = OutgoingEmail.objects.filter(template="weekly-digest")
    assert set(emails.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}
    # The two refused messages were tried twice and arrived; the others went at once.
    assert sorted(emails.values_list("attempts", flat=True)) == [1] * (PEOPLE - 2) + [2, 2]
    # Each batch sent its messages in one SMTP conversation (another after each refusal).
    assert catcher.greetings <= PEOPLE // 2
    # The digests were built in both processes of the pool.
    builders = set(re.findall(r"ForkPoolWorker-(\d+)\] Task workspace\.tasks\.send_digests\[", log.read_text()))
    assert len(builders) == 2, log.read_text()
