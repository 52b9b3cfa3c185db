"""The referral list: search by the patient's name or any site's MRN (posted, never in the
address), filters by state, site and direction, "needs my action" and overdue, sorting, paging
that keeps what was asked, and a query count that does not grow with rows for any way of asking."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carecoord.models import Patient, Site
from carecoord.services.patients import patient_set_identifier
from referrals.models import Referral
from referrals.services import referral_attach_document
from referrals.workflow import Move, State
from tests.factories import SiteFactory, patient_at
from tests.helpers import (
    World,
    advance,
    another_record,
    draft_referral,
    grow_record,
    login,
    post_measured,
    small_record,
)

LIST = reverse("referral-list")
PDF = b"%PDF-1.7\n%fake but well-formed enough for the signature check\n"


def patients(response: Any) -> list[str]:
    return [str(row.referral.patient) for row in response.context["rows"]]


def referrals(response: Any) -> list[Referral]:
    return [row.referral for row in response.context["rows"]]


def results_html(response: Any) -> str:
    return str(response.content.decode()).split('id="results"', 1)[1]


def submitted(world: World, patient: Patient | None = None) -> Referral:
    return advance(draft_referral(world, patient), [(Move.SUBMIT, world.community_coordinator)])


def overdue(referral: Referral) -> Referral:
    Referral.objects.filter(pk=referral.pk).update(acknowledge_by=timezone.now() - dt.timedelta(hours=1))
    referral.refresh_from_db()
    return referral


def a_patient(world: World, family_name: str, given_name: str = "Test") -> Patient:
    names = {"family_name": family_name, "given_name": given_name}
    return patient_at(world.practice, world.community_coordinator, shared_with=world.center, **names)


def test_search_by_part_of_the_patients_name_is_posted(community_coordinator_client: Client, world: World) -> None:
    draft_referral(world, a_patient(world, "Lovelace", "Ada"))
    submitted(world)
    response = community_coordinator_client.post(LIST, {"q": "LOVE"})
    assert response.status_code == 200
    assert patients(response) == ["Lovelace, Ada"]
    assert 'value="LOVE"' in response.content.decode()
    nobody = community_coordinator_client.post(LIST, {"q": "Nobody"})
    assert patients(nobody) == []
    assert "No referral matches." in results_html(nobody)


def test_search_finds_a_referral_by_the_other_sites_mrn(community_coordinator_client: Client, world: World) -> None:
    submitted(world)
    draft_referral(world, a_patient(world, "Other"))
    patient_set_identifier(
        actor=world.center_coordinator, patient=world.shared_patient, site=world.center, mrn="LKS-778812"
    )
    assert patients(community_coordinator_client.post(LIST, {"q": "778812"})) == ["Sharedcare, Sharon"]


def test_search_never_reaches_a_referral_outside_the_viewers_care(outsider_client: Client, world: World) -> None:
    submitted(world)
    mrn = world.shared_patient.identifiers.first().mrn  # type: ignore[union-attr]
    for words in (mrn, "Sharedcare", "Sharon"):
        response = outsider_client.post(LIST, {"q": words})
        assert response.status_code == 200
        assert referrals(response) == []
        results = results_html(response)
        assert "Sharon" not in results and "Sharedcare" not in results
        assert "No referral matches." in results


def test_search_words_in_an_address_are_ignored(community_coordinator_client: Client, world: World) -> None:
    submitted(world)
    draft_referral(world, a_patient(world, "Lovelace"))
    response = community_coordinator_client.get(LIST, {"q": "Lovelace"})
    assert len(referrals(response)) == 2
    assert 'value="Lovelace"' not in response.content.decode()


def test_htmx_search_answers_the_results_and_pushes_an_address_without_the_words(
    community_coordinator_client: Client, world: World
) -> None:
    submitted(world)
    response = community_coordinator_client.post(
        LIST, {"q": "Sharedcare", "state": "submitted", "sort": "patient"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in response.content.decode()
    assert patients(response) == ["Sharedcare, Sharon"]
    assert response["HX-Push-Url"] == f"{LIST}?state=submitted&sort=patient"
    assert response["Vary"].count("HX-Request") == 1


def test_search_is_a_post_with_the_csrf_check(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    login(client, world.community_coordinator)
    assert client.post(LIST, {"q": "Sharedcare"}).status_code == 403


def test_filter_by_direction_and_by_a_site(client: Client, world: World) -> None:
    elsewhere = SiteFactory.create(name="Northshore CAR-T Center", kind=Site.Kind.ACADEMIC_CENTER)
    to_lakeside = submitted(world)
    patient = a_patient(world, "Northbound")
    to_northshore = draft_referral(world, patient, to_center=elsewhere)
    login(client, world.center_coordinator)
    assert referrals(client.get(LIST, {"site": "to-me"})) == [to_lakeside]
    assert referrals(client.get(LIST, {"site": "from-me"})) == []
    login(client, world.community_coordinator)
    assert set(referrals(client.get(LIST, {"site": "from-me"}))) == {to_lakeside, to_northshore}
    assert referrals(client.get(LIST, {"site": "to-me"})) == []
    at_northshore = client.get(LIST, {"site": str(elsewhere.pk)})
    assert referrals(at_northshore) == [to_northshore]
    assert f'<option value="{elsewhere.pk}" selected>Northshore CAR-T Center</option>' in at_northshore.content.decode()
    # Only the sites of the viewer's referrals are offered.
    assert world.unrelated_practice.name not in at_northshore.content.decode()


def test_needs_my_action_follows_the_work_queue(client: Client, world: World) -> None:
    draft = draft_referral(world, a_patient(world, "Drafty"))  # the practice's move: submit
    sent = submitted(world)  # the center's move: acknowledge
    accepted = advance(
        submitted(world, a_patient(world, "Done")),
        [
            (Move.ACKNOWLEDGE, world.center_coordinator),
            (Move.START_REVIEW, world.center_coordinator),
            (Move.SCHEDULE_CONSULT, world.center_coordinator),
            (Move.ACCEPT, world.center_coordinator),
        ],
        consult_on=dt.date(2026, 12, 1),
    )
    login(client, world.center_coordinator)
    assert referrals(client.get(LIST, {"needs_action": "on"})) == [sent]
    login(client, world.community_coordinator)
    assert referrals(client.get(LIST, {"needs_action": "on"})) == [draft]
    # Overdue, the practice chases the center: the practice's work too.
    overdue(sent)
    assert set(referrals(client.get(LIST, {"needs_action": "on"}))) == {draft, sent}
    assert accepted not in referrals(client.get(LIST, {"needs_action": "on"}))


def test_overdue_only(community_coordinator_client: Client, world: World) -> None:
    late = overdue(submitted(world))
    submitted(world, a_patient(world, "Ontime"))
    draft_referral(world, a_patient(world, "Drafty"))
    response = community_coordinator_client.get(LIST, {"overdue": "on"})
    assert referrals(response) == [late]
    assert "Acknowledgement overdue" in results_html(response)


def test_sorts_newest_oldest_by_deadline_and_by_patient(community_coordinator_client: Client, world: World) -> None:
    first = submitted(world, a_patient(world, "Zed"))
    second = draft_referral(world, a_patient(world, "Abbot"))
    third = submitted(world, a_patient(world, "Moss"))
    Referral.objects.filter(pk=first.pk).update(acknowledge_by=timezone.now() + dt.timedelta(days=3))
    Referral.objects.filter(pk=third.pk).update(acknowledge_by=timezone.now() + dt.timedelta(days=1))
    client = community_coordinator_client
    assert referrals(client.get(LIST)) == [third, second, first]
    assert referrals(client.get(LIST, {"sort": "oldest"})) == [first, second, third]
    assert referrals(client.get(LIST, {"sort": "deadline"})) == [third, first, second]  # no deadline last
    assert referrals(client.get(LIST, {"sort": "patient"})) == [second, third, first]


def test_pages_are_buttons_of_the_filter_form_and_keep_the_search(
    community_coordinator_client: Client, world: World
) -> None:
    for _ in range(27):
        draft_referral(world, a_patient(world, "Paged"))
    draft_referral(world, a_patient(world, "Elsewhere"))
    first = community_coordinator_client.post(LIST, {"q": "Paged"})
    assert len(referrals(first)) == 25
    html = results_html(first)
    assert 'form="referral-filter" name="page" value="2"' in html
    assert "Page 1 of 2" in html
    second = community_coordinator_client.post(LIST, {"q": "Paged", "page": "2"}, headers={"HX-Request": "true"})
    assert patients(second) == ["Paged, Test", "Paged, Test"]
    assert second["HX-Push-Url"] == LIST  # a page of search results is not an address
    assert community_coordinator_client.get(LIST, {"page": "2", "state": "draft"}).context["page"].number == 2


def test_unknown_filters_leave_the_list_whole(community_coordinator_client: Client, world: World) -> None:
    submitted(world)
    response = community_coordinator_client.get(
        LIST, {"state": "nope", "site": "99999", "sort": "drop table", "page": "x"}
    )
    assert response.status_code == 200
    assert patients(response) == ["Sharedcare, Sharon"]


def make_referrals(world: World, count: int) -> None:
    """`count` referrals of new patients, each with a document and, every other one, moves."""
    for index in range(count):
        referral = submitted(world, a_patient(world, f"Many{index}"))
        referral_attach_document(
            actor=world.community_coordinator,
            referral=referral,
            kind="labs",
            upload=SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf"),
        )
        if index % 2:
            advance(referral, [(Move.ACKNOWLEDGE, world.center_coordinator)])
    Referral.objects.filter(state=State.SUBMITTED).update(acknowledge_by=timezone.now() - dt.timedelta(hours=1))


@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"q": "Many", "sort": "patient"},
        {"needs_action": "on", "sort": "deadline"},
        {"overdue": "on", "site": "to-me", "state": "submitted"},
        {"site": "center", "sort": "oldest", "page": "2"},
    ],
    ids=["plain", "search", "needs-action", "overdue-to-me", "site-page-2"],
)
def test_referral_list_query_count_does_not_grow_with_referrals_or_their_records(
    client: Client, world: World, tmp_media: Path, asked: dict[str, str]
) -> None:
    if asked.get("site") == "center":
        asked = {**asked, "site": str(world.center.pk)}
    login(client, world.center_coordinator)
    record = small_record(world)
    make_referrals(world, 4)
    _, few = post_measured(client, LIST, asked)
    grow_record(record)
    another_record(world)
    make_referrals(world, 50)
    response, many = post_measured(client, LIST, asked)
    assert len(response.context["rows"]) >= 10
    assert len(many) == len(few), many
