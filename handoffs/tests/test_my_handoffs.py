"""Hand-offs across patients, to and from the viewer's sites: found by the patient (posted,
never in the address), by direction, state and "needs my action", sorted, and read in a number
of queries that does not grow with hand-offs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from carecoord.models import Patient
from handoffs.models import Handoff
from handoffs.services import handoff_acknowledge, handoff_ask
from tests.factories import patient_at
from tests.helpers import (
    World,
    another_record,
    draft_handoff,
    grow_record,
    login,
    post_measured,
    sent_handoff,
    small_record,
)

HANDOFFS = reverse("my-handoffs")


def listed(response: Any) -> list[Handoff]:
    return list(response.context["handoffs"])


def results_html(response: Any) -> str:
    return str(response.content.decode()).split('id="results"', 1)[1]


def a_patient(world: World, family_name: str, given_name: str = "Test") -> Patient:
    names = {"family_name": family_name, "given_name": given_name}
    return patient_at(world.practice, world.community_coordinator, shared_with=world.center, **names)


def handoff_of(world: World, patient: Patient, *, send: bool = True) -> Handoff:
    """A hand-off of `patient` from the center to the practice, sent unless `send` is False."""
    return sent_handoff(world, patient) if send else draft_handoff(world, patient)


def test_lists_the_hand_offs_to_and_from_the_viewers_sites_by_direction(client: Client, world: World) -> None:
    sent = handoff_of(world, world.shared_patient)
    draft = handoff_of(world, a_patient(world, "Drafty"), send=False)
    login(client, world.center_coordinator)
    assert listed(client.get(HANDOFFS)) == [draft, sent]
    assert listed(client.get(HANDOFFS, {"direction": "from-me"})) == [draft, sent]
    assert listed(client.get(HANDOFFS, {"direction": "to-me"})) == []
    login(client, world.community_coordinator)
    assert listed(client.get(HANDOFFS, {"direction": "to-me"})) == [draft, sent]
    assert listed(client.get(HANDOFFS, {"state": "sent"})) == [sent]


def test_needs_my_action_is_a_hand_off_to_acknowledge(client: Client, world: World) -> None:
    waiting = handoff_of(world, world.shared_patient)
    done = handoff_of(world, a_patient(world, "Done"))
    handoff_acknowledge(actor=world.community_coordinator, handoff=done)
    login(client, world.community_coordinator)
    assert listed(client.get(HANDOFFS, {"needs_action": "on"})) == [waiting]
    login(client, world.center_coordinator)
    assert listed(client.get(HANDOFFS, {"needs_action": "on"})) == []


def asked_by_the_practice(world: World, handoff: Handoff, at: dt.datetime) -> None:
    """A question from the practice on `handoff` (sent by the center), asked at `at`."""
    handoff_ask(actor=world.community_coordinator, handoff=handoff, body="Which dose of dexamethasone?")
    Handoff.objects.filter(pk=handoff.pk).update(last_word_at=at)


def test_needs_my_action_lists_the_longest_waiting_first_with_the_question_to_answer(
    center_coordinator_client: Client, world: World
) -> None:
    # Asked first on the newer hand-off: the list, newest first, would show it second.
    older = handoff_of(world, a_patient(world, "Older"))
    newer = handoff_of(world, a_patient(world, "Newer"))
    asked_at = timezone.now() - dt.timedelta(days=2)
    asked_by_the_practice(world, newer, asked_at)
    asked_by_the_practice(world, older, asked_at + dt.timedelta(hours=5))
    response = center_coordinator_client.get(HANDOFFS, {"needs_action": "on"})
    assert listed(response) == [newer, older]  # the work queue's order
    assert response.context["form"]["sort"].value() == "waiting"
    html = results_html(response)
    local = timezone.localtime(asked_at, world.center.zone)
    assert f"a question to answer, asked {dateformat.format(local, 'D j M, H:i T')}" in html
    assert html.count(f"{reverse('handoff-detail', kwargs={'handoff_id': newer.pk})}#questions") == 1
    assert 'aria-label="Answer the question on the hand-off of Newer, Test"' in html
    # Asked in another order, the list keeps it; the plain list stays newest first.
    assert listed(center_coordinator_client.get(HANDOFFS, {"needs_action": "on", "sort": "newest"})) == [newer, older]
    assert listed(center_coordinator_client.get(HANDOFFS, {"sort": "newest"})) == [newer, older]
    assert listed(center_coordinator_client.get(HANDOFFS)) == [newer, older]
    assert listed(center_coordinator_client.get(HANDOFFS, {"sort": "waiting"})) == [newer, older]


def test_a_question_the_other_site_must_answer_shows_no_answer_link(
    community_coordinator_client: Client, world: World
) -> None:
    handoff = handoff_of(world, world.shared_patient)
    asked_by_the_practice(world, handoff, timezone.now())
    html = results_html(community_coordinator_client.get(HANDOFFS))
    assert "Sharedcare" in html
    assert "a question to answer" not in html
    assert "#questions" not in html


def test_the_outsider_sees_no_question_waiting(outsider_client: Client, world: World) -> None:
    handoff = handoff_of(world, world.shared_patient)
    asked_by_the_practice(world, handoff, timezone.now())
    for asked in ({"needs_action": "on"}, {"sort": "waiting"}, {}):
        response = outsider_client.get(HANDOFFS, asked)
        assert response.status_code == 200
        assert listed(response) == []
        html = results_html(response)
        assert "Sharedcare" not in html and "a question to answer" not in html


def test_sort_by_acknowledgement_deadline(community_coordinator_client: Client, world: World) -> None:
    first = handoff_of(world, a_patient(world, "First"))
    second = handoff_of(world, a_patient(world, "Second"))
    Handoff.objects.filter(pk=first.pk).update(acknowledge_by=timezone.now() + dt.timedelta(hours=1))
    Handoff.objects.filter(pk=second.pk).update(acknowledge_by=timezone.now() + dt.timedelta(days=1))
    assert listed(community_coordinator_client.get(HANDOFFS)) == [second, first]
    assert listed(community_coordinator_client.get(HANDOFFS, {"sort": "deadline"})) == [first, second]


def test_search_by_the_patient_is_posted_and_pushes_no_words(
    community_coordinator_client: Client, world: World
) -> None:
    handoff_of(world, world.shared_patient)
    lovelace = handoff_of(world, a_patient(world, "Lovelace", "Ada"))
    client = community_coordinator_client
    assert listed(client.post(HANDOFFS, {"q": "lovel"})) == [lovelace]
    assert len(listed(client.get(HANDOFFS, {"q": "lovel"}))) == 2  # words in an address are not read
    response = client.post(HANDOFFS, {"q": "lovel", "state": "sent"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()
    assert listed(response) == [lovelace]
    assert response["HX-Push-Url"] == f"{HANDOFFS}?state=sent"


def test_the_outsider_finds_nothing(outsider_client: Client, world: World) -> None:
    handoff_of(world, world.shared_patient)
    mrn = world.shared_patient.identifiers.first().mrn  # type: ignore[union-attr]
    for words in ("", mrn, "Sharedcare"):
        response = outsider_client.post(HANDOFFS, {"q": words})
        assert response.status_code == 200
        assert listed(response) == []
        assert "Sharedcare" not in results_html(response)


@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"q": "Test", "sort": "deadline"},
        {"needs_action": "on", "direction": "to-me"},
        {"needs_action": "on"},
        {"state": "sent"},
    ],
    ids=["plain", "search", "needs-action", "longest-waiting", "state"],
)
def test_handoff_list_query_count_does_not_grow_with_hand_offs(
    community_coordinator_client: Client, world: World, tmp_media: object, asked: dict[str, str]
) -> None:
    client = community_coordinator_client
    record = small_record(world)

    def make(count: int, *, acknowledged: int = 0, questions: int = 0) -> None:
        for index in range(count):
            handoff = handoff_of(world, a_patient(world, f"Handed{index}"))
            if index < acknowledged:
                handoff_acknowledge(actor=world.community_coordinator, handoff=handoff)
            if index >= count - questions:  # a question from the center for the practice to answer
                handoff_ask(actor=world.center_coordinator, handoff=handoff, body="Was the IVIG given?")

    make(2)
    response, few = post_measured(client, HANDOFFS, asked)
    assert listed(response)
    grow_record(record)
    another_record(world)
    # More hand-offs, and more people and sites on them: some acknowledged by another person.
    make(20, acknowledged=5, questions=8)
    response, many = post_measured(client, HANDOFFS, asked)
    assert len(listed(response)) >= 20
    if not asked:
        assert any(handoff.acknowledged_by for handoff in listed(response))
    assert len(many) == len(few), many
