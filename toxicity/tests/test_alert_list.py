"""The alerts page: open / acknowledged / all, kind, grade or higher, the patient found by name or
MRN (posted, never in the address), newest or highest grade first, an open alert acknowledged in
place and back to the same list, and a query count that does not grow with alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from carecoord.models import CareTeamLink, Patient, SiteMembership
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_end_site
from carecoord.services.memberships import membership_revoke_now, membership_start
from tests.factories import patient_at
from tests.helpers import (
    CRS_GRADE_2,
    World,
    another_record,
    api,
    grow_record,
    login,
    name_point_persons,
    post_measured,
    small_record,
)
from toxicity.models import Alert, ToxicityEvent
from toxicity.services import toxicity_record

ALERTS = reverse("alert-list")


def alerts(response: Any) -> list[Alert]:
    return [*response.context["open_alerts"], *response.context["seen_alerts"]]


def results_html(response: Any) -> str:
    return str(response.content.decode()).split('id="results"', 1)[1]


def recorded_at_center(world: World, patient: Patient, kind: str = "crs", grade: int | None = None) -> ToxicityEvent:
    """An event recorded at the center: the practice's point persons are alerted."""
    name_point_persons(world, patient)
    return toxicity_record(
        actor=world.center_coordinator,
        patient=patient,
        site=world.center,
        kind=kind,
        onset_at=timezone.now() - dt.timedelta(hours=2),
        **({"inputs": CRS_GRADE_2} if kind == "crs" else {"ctcae_grade": grade}),
    )


def a_patient(world: World, family_name: str, given_name: str = "Test") -> Patient:
    names = {"family_name": family_name, "given_name": given_name}
    return patient_at(world.practice, world.community_coordinator, shared_with=world.center, **names)


def alert_of(world: World, event: ToxicityEvent) -> Alert:
    return Alert.objects.get(event=event, recipient=world.community_oncologist)


@pytest.fixture
def two_alerts(world: World) -> tuple[Alert, Alert]:
    """A CRS grade 2 of Sharon Sharedcare, then an infection grade 4 of Ada Lovelace, both open."""
    crs = recorded_at_center(world, world.shared_patient)
    infection = recorded_at_center(world, a_patient(world, "Lovelace", "Ada"), kind="infection", grade=4)
    return alert_of(world, crs), alert_of(world, infection)


def test_filters_by_kind_and_grade(client: Client, world: World, two_alerts: tuple[Alert, Alert]) -> None:
    crs, infection = two_alerts
    login(client, world.community_oncologist)
    assert alerts(client.get(ALERTS)) == [infection, crs]  # newest first
    assert alerts(client.get(ALERTS, {"kind": "crs"})) == [crs]
    assert alerts(client.get(ALERTS, {"grade": "3"})) == [infection]
    assert alerts(client.get(ALERTS, {"kind": "crs", "grade": "3"})) == []
    assert "No open alert matches." in results_html(client.get(ALERTS, {"kind": "icans"}))


def test_open_acknowledged_or_all_and_highest_grade_first(
    client: Client, world: World, two_alerts: tuple[Alert, Alert]
) -> None:
    crs, infection = two_alerts
    login(client, world.community_oncologist)
    client.post(reverse("alert-acknowledge", kwargs={"alert_id": infection.pk}))
    assert alerts(client.get(ALERTS, {"show": "open"})) == [crs]
    assert "Acknowledged</h2>" not in results_html(client.get(ALERTS, {"show": "open"}))
    acknowledged = client.get(ALERTS, {"show": "acknowledged"})
    assert alerts(acknowledged) == [infection]
    assert "Waiting for your acknowledgement" not in results_html(acknowledged)
    # Each acknowledged alert says why it was sent, as the open ones do (a new toxicity, a rise, a resolution).
    assert "grade 4</a> · New toxicity · Ada Lovelace" in results_html(acknowledged)
    # Open first whatever the order; among the acknowledged, the highest grade first.
    assert alerts(client.get(ALERTS, {"sort": "grade"})) == [crs, infection]
    client.post(reverse("alert-acknowledge", kwargs={"alert_id": crs.pk}))
    assert alerts(client.get(ALERTS, {"sort": "grade"})) == [infection, crs]
    assert alerts(client.get(ALERTS)) == [crs, infection]  # acknowledged last, first


def test_search_by_the_patients_name_or_mrn_is_posted(
    client: Client, world: World, two_alerts: tuple[Alert, Alert]
) -> None:
    crs, infection = two_alerts
    login(client, world.community_oncologist)
    assert alerts(client.post(ALERTS, {"q": "lovel"})) == [infection]
    mrn = world.shared_patient.identifiers.first().mrn  # type: ignore[union-attr]
    assert alerts(client.post(ALERTS, {"q": mrn})) == [crs]
    assert len(alerts(client.get(ALERTS, {"q": "lovel"}))) == 2  # words in an address are not read
    response = client.post(ALERTS, {"q": "lovel", "kind": "infection"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()
    assert response["HX-Push-Url"] == f"{ALERTS}?kind=infection"


def test_search_never_reaches_an_alert_outside_the_viewers_care(
    outsider_client: Client, world: World, two_alerts: tuple[Alert, Alert]
) -> None:
    mrn = world.shared_patient.identifiers.first().mrn  # type: ignore[union-attr]
    for words in (mrn, "Sharedcare", "Lovelace"):
        response = outsider_client.post(ALERTS, {"q": words, "show": "all"})
        assert response.status_code == 200
        assert alerts(response) == []
        results = results_html(response)
        assert "Sharedcare" not in results and "Lovelace" not in results


def test_search_is_a_post_with_the_csrf_check(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    login(client, world.community_oncologist)
    assert client.post(ALERTS, {"q": "Sharedcare"}).status_code == 403


def test_an_open_alert_is_acknowledged_in_place_and_back_to_the_same_list(
    client: Client, world: World, two_alerts: tuple[Alert, Alert]
) -> None:
    crs, infection = two_alerts
    login(client, world.community_oncologist)
    page = client.get(ALERTS, {"kind": "crs", "sort": "grade"})
    back_here = f"{ALERTS}?kind=crs&amp;sort=grade"
    acknowledge = reverse("alert-acknowledge", kwargs={"alert_id": crs.pk})
    html = results_html(page)
    assert f'action="{acknowledge}"' in html and f'name="next" value="{back_here}"' in html
    response = client.post(acknowledge, {"next": f"{ALERTS}?kind=crs&sort=grade"})
    assert response.status_code == 302
    assert response["Location"] == f"{ALERTS}?kind=crs&sort=grade"
    crs.refresh_from_db()
    infection.refresh_from_db()
    assert crs.acknowledged_by == world.community_oncologist
    assert infection.acknowledged_at is None
    after = client.get(response["Location"])
    assert after.context["open_alerts"] == [] and after.context["seen_alerts"] == [crs]
    assert "Alert acknowledged." in after.content.decode()


@pytest.mark.parametrize(
    "asked",
    [{}, {"q": "Test", "sort": "grade"}, {"show": "open", "kind": "crs", "grade": "2"}, {"show": "acknowledged"}],
    ids=["plain", "search", "open-crs-grade", "acknowledged"],
)
def test_alert_list_query_count_does_not_grow_with_alerts(
    client: Client, world: World, tmp_media: object, asked: dict[str, str]
) -> None:
    record = small_record(world)

    def make(count: int) -> None:
        for index in range(count):
            event = recorded_at_center(world, a_patient(world, f"Alerted{index}"))
            if index % 2:
                alert = alert_of(world, event)
                Alert.objects.filter(pk=alert.pk).update(
                    acknowledged_at=timezone.now(), acknowledged_by=world.community_oncologist
                )

    make(3)
    login(client, world.community_oncologist)
    response, few = post_measured(client, ALERTS, asked)
    assert alerts(response)
    grow_record(record)
    another_record(world)
    make(30)
    response, many = post_measured(client, ALERTS, asked)
    assert len(alerts(response)) >= 15
    assert len(many) == len(few), many


@pytest.mark.parametrize("also_at_center", [False, True], ids=["practice only", "also at the center"])
def test_an_alert_leaves_its_recipients_lists_when_their_sites_no_longer_share_the_patients_care(
    client: Client, world: World, also_at_center: bool
) -> None:
    """A person's alerts are those about patients one of their sites still shares care of (each
    alert's patient checked in the grants, `seen_row_by_row`): once the practice leaves a
    patient's care team its oncologist's alert about that patient leaves the list, the header's
    count, the API and the work queue, and can no longer be acknowledged, unless they also work
    at a site still on the team."""
    oncologist = world.community_oncologist
    if also_at_center:
        membership_start(user=oncologist, site=world.center, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    kept, left = a_patient(world, "Kept"), a_patient(world, "Left")
    recorded_at_center(world, kept)
    left_alert = alert_of(world, recorded_at_center(world, left))
    link = CareTeamLink.objects.get(patient=left, site=world.practice)
    care_team_end_site(actor=world.community_coordinator, link=link)
    expected = {kept.pk, left.pk} if also_at_center else {kept.pk}

    response = login(client, oncologist).get(ALERTS)
    assert {alert.patient_id for alert in alerts(response)} == expected
    assert response.context["open_alert_count"] == len(expected)
    queue = client.get(reverse("my-work"), headers={"HX-Request": "true"})
    assert ("Left" in queue.content.decode()) is also_at_center
    listed = api(oncologist).get("/api/alerts/").json()
    assert listed["count"] == len(expected)
    assert {row["patient"] for row in listed["results"]} == {str(pk) for pk in expected}
    acknowledged = client.post(reverse("alert-acknowledge", kwargs={"alert_id": left_alert.pk}))
    assert acknowledged.status_code == (302 if also_at_center else 404)


def test_a_person_whose_membership_ended_no_longer_sees_or_acknowledges_their_alerts(
    client: Client, world: World
) -> None:
    """A person who no longer works at any site (no site-role group: `seen_row_by_row`'s
    "nobody") keeps their account but none of their alerts: not listed, counted, exported,
    served by the API or acknowledged, though the patient's care is still shared."""
    oncologist = world.community_oncologist
    alert = alert_of(world, recorded_at_center(world, a_patient(world, "Former")))
    login(client, oncologist)
    assert alerts(client.get(ALERTS)) == [alert]
    assert "Former" in client.get(reverse("alert-export")).getvalue().decode()
    assert api(oncologist).get("/api/alerts/").json()["count"] == 1
    membership_revoke_now(membership=SiteMembership.objects.get(user=oncologist, site=world.practice))

    oncologist.refresh_from_db()  # the revocation ended their sessions: they sign in again
    response = login(client, oncologist).get(ALERTS)
    assert response.status_code == 200
    assert alerts(response) == []
    assert response.context["open_alert_count"] == 0
    assert "Former" not in client.get(reverse("alert-export")).getvalue().decode()
    assert api(oncologist).get("/api/alerts/").json()["count"] == 0
    assert api(oncologist).get(f"/api/alerts/{alert.pk}/").status_code == 404
    assert client.post(reverse("alert-acknowledge", kwargs={"alert_id": alert.pk})).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


UNAVAILABLE = "This alert is no longer available to you"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_stale_acknowledge_button_answers_a_404_that_says_so_and_names_nothing_of_the_patient(
    client: Client, world: World, htmx: bool
) -> None:
    """The practice left the patient's care team after the page was loaded: the button's POST is
    still a 404, but one that says why it may be and leads back to the alerts; it says the same of
    an alert that never was, so it tells nothing of the patient or of the alert."""
    patient = a_patient(world, "Leftbehind", "Zelda")
    alert = alert_of(world, recorded_at_center(world, patient))
    login(client, world.community_oncologist)
    assert "Leftbehind" in results_html(client.get(ALERTS))  # the page with its button
    care_team_end_site(
        actor=world.community_coordinator, link=CareTeamLink.objects.get(patient=patient, site=world.practice)
    )
    headers = {"HX-Request": "true"} if htmx else {}

    def acknowledge(alert_id: int) -> Any:
        url = reverse("alert-acknowledge", kwargs={"alert_id": alert_id})
        return client.post(url, {"next": ALERTS}, headers=headers)

    stale = acknowledge(alert.pk)
    assert stale.status_code == 404
    html = stale.content.decode()
    assert UNAVAILABLE in html and "no longer be on the patient's care team" in html
    assert f'href="{ALERTS}"' in html
    assert ("<html" in html) is not htmx  # a fragment shown in place, or a page
    for told in ("Leftbehind", "Zelda", str(patient.pk), "CRS", "grade", f"alerts/{alert.pk}/"):
        assert told not in html.split("<main", 1)[-1], told
    never = acknowledge(Alert.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000)
    assert never.status_code == 404
    if htmx:
        assert never.content == stale.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def status_line(response: Any) -> str:
    results = response.content.decode().split('id="results"', 1)[-1]  # an htmx answer is the results alone
    return str(results.split('<p class="small muted" role="status">', 1)[1].split("</p>", 1)[0])


def test_the_status_line_counts_the_alerts_waiting_as_the_badge_does_and_the_acknowledged_apart(
    client: Client, world: World
) -> None:
    """Nurses read the line as their to-do: it said "3 alerts" with one waiting. Its first number
    is the header badge's (and the work queue's heading's); the acknowledged are counted apart,
    and a filtered list says how many it found."""
    events = [recorded_at_center(world, a_patient(world, f"Status{n}")) for n in range(3)]
    login(client, world.community_oncologist)
    for event in events[1:]:
        client.post(reverse("alert-acknowledge", kwargs={"alert_id": alert_of(world, event).pk}))
    response = client.get(ALERTS)
    line = status_line(response)
    assert line.startswith("<strong>1 alert waiting for your acknowledgement</strong>, 2 acknowledged."), line
    assert response.context["open_alert_count"] == 1
    with override_settings(LIST_COUNT_CAP=2):  # three alerts in all: the acknowledged not counted apart
        assert ", more than 2 alerts in all." in status_line(client.get(ALERTS))
    assert 'aria-label="1 waiting">1</span>' in response.content.decode()  # the header's badge
    queue = client.get(reverse("my-work"), headers={"HX-Request": "true"}).content.decode()
    assert 'Alerts to acknowledge <span class="muted">(1)</span>' in queue
    found = status_line(client.get(ALERTS, {"show": "acknowledged"}))
    assert found.startswith("<strong>1 alert waiting for your acknowledgement</strong> · 2 alerts found."), found
    in_place = status_line(client.post(ALERTS, {"q": "Status1"}, headers={"HX-Request": "true"}))
    assert in_place.startswith("<strong>1 alert waiting for your acknowledgement</strong> · 1 alert found."), in_place
    client.post(reverse("alert-acknowledge", kwargs={"alert_id": alert_of(world, events[0]).pk}))
    line = status_line(client.get(ALERTS))
    assert line.startswith("<strong>None waiting for your acknowledgement</strong>, 3 acknowledged."), line
