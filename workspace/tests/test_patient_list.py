"""The dashboard's patient list: search by name or any site's MRN (posted, never in the address),
filters, sorting, the compact row, and a query count that does not grow with what is asked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carecoord.models import Patient
from carecoord.models.patients import Phase
from carecoord.roles import Role
from carecoord.services.patients import patient_set_identifier
from referrals.models import Milestone
from tests.factories import SiteFactory, member, patient_at
from tests.helpers import (
    CRS_GRADE_2,
    World,
    accepted_referral,
    another_record,
    at_apheresis,
    grade_2_event,
    grow_record,
    infused,
    login,
    name_point_persons,
    sent_handoff,
    small_record,
)
from toxicity.services import toxicity_record

DASHBOARD = reverse("dashboard")


def names(response: object) -> list[str]:
    return [str(row.patient) for row in response.context["rows"]]  # type: ignore[attr-defined]


def test_search_by_part_of_a_name_is_posted_and_any_case(community_coordinator_client: Client, world: World) -> None:
    patient_at(world.practice, world.community_coordinator, given_name="Ada", family_name="Lovelace")
    response = community_coordinator_client.post(DASHBOARD, {"q": "LOVE"})
    assert response.status_code == 200
    assert names(response) == ["Lovelace, Ada"]
    assert 'value="LOVE"' in response.content.decode()  # the box keeps what was typed

    # Given and family name in either order, with or without the comma.
    assert names(community_coordinator_client.post(DASHBOARD, {"q": "ada lovel"})) == ["Lovelace, Ada"]
    assert names(community_coordinator_client.post(DASHBOARD, {"q": "Lovelace, Ad"})) == ["Lovelace, Ada"]
    assert names(community_coordinator_client.post(DASHBOARD, {"q": "Nobody"})) == []
    assert "No patient matches." in community_coordinator_client.post(DASHBOARD, {"q": "Nobody"}).content.decode()


def test_search_finds_a_patient_by_the_other_sites_mrn(community_coordinator_client: Client, world: World) -> None:
    """The practice's coordinator types the center's MRN from a fax: the patient is found."""
    patient_set_identifier(
        actor=world.center_coordinator, patient=world.shared_patient, site=world.center, mrn="LKS-778812"
    )
    response = community_coordinator_client.post(DASHBOARD, {"q": "778812"})
    assert names(response) == ["Sharedcare, Sharon"]
    results = response.content.decode().split('id="results"', 1)[1]
    assert "LKS-778812" in results


def test_search_never_reaches_a_patient_outside_the_viewers_care(outsider_client: Client, world: World) -> None:
    mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    for words in (mrn, "Sharedcare", "Sharon"):
        response = outsider_client.post(DASHBOARD, {"q": words})
        assert names(response) == []
        results = response.content.decode().split('id="results"', 1)[1]
        assert "No patient matches." in results
        assert "Sharon" not in results


def test_search_words_in_an_address_are_ignored(community_coordinator_client: Client, world: World) -> None:
    """A link carrying a name would have put it in the logs: the list ignores it."""
    patient_at(world.practice, world.community_coordinator, given_name="Ada", family_name="Lovelace")
    response = community_coordinator_client.get(DASHBOARD, {"q": "Lovelace"})
    assert len(names(response)) == 2  # both: the search words were not read
    assert 'value="Lovelace"' not in response.content.decode()


def test_htmx_search_pushes_an_address_without_the_search_words(
    community_coordinator_client: Client, world: World
) -> None:
    response = community_coordinator_client.post(
        DASHBOARD, {"q": "Sharedcare", "phase": Phase.REFERRAL, "sort": "phase"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert names(response) == ["Sharedcare, Sharon"]
    assert response["HX-Push-Url"] == f"{DASHBOARD}?phase=referral&sort=phase"
    assert "Sharedcare" not in response["HX-Push-Url"]


def test_search_is_a_post_with_the_csrf_check(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    login(client, world.community_coordinator)
    assert client.post(DASHBOARD, {"q": "Sharedcare"}).status_code == 403


def test_filter_by_care_team_site(community_coordinator_client: Client, world: World) -> None:
    patient_at(world.practice, world.community_coordinator, given_name="Only", family_name="Local")
    at_center = community_coordinator_client.get(DASHBOARD, {"site": world.center.pk})
    assert names(at_center) == ["Sharedcare, Sharon"]
    assert len(names(community_coordinator_client.get(DASHBOARD, {"site": world.practice.pk}))) == 2
    # The choices are the sites of the viewer's patients' care teams, not every site.
    html = at_center.content.decode()
    assert f'<option value="{world.center.pk}" selected>' in html
    assert world.unrelated_practice.name not in html.split('id="results"', 1)[0]


def test_filter_by_point_person_me_and_a_colleague(community_coordinator_client: Client, world: World) -> None:
    name_point_persons(world)  # the practice: the oncologist primary, the coordinator backup
    patient_at(world.practice, world.community_coordinator, given_name="Not", family_name="Named")
    assert names(community_coordinator_client.get(DASHBOARD, {"point_person": "me"})) == ["Sharedcare, Sharon"]
    colleague = str(world.community_oncologist.pk)
    response = community_coordinator_client.get(DASHBOARD, {"point_person": colleague})
    assert names(response) == ["Sharedcare, Sharon"]
    assert f'<option value="{colleague}" selected>Olive Oncologist</option>' in response.content.decode()


def test_needs_my_action_lists_patients_with_an_alert_a_handoff_or_no_point_person(
    client: Client, world: World
) -> None:
    quiet = patient_at(
        world.practice, world.community_coordinator, shared_with=world.center, given_name="Quiet", family_name="Quinn"
    )
    name_point_persons(world, quiet)
    login(client, world.community_coordinator)
    # Named nobody yet for the shared patient: that is work for the practice's coordinator.
    assert "Sharedcare, Sharon" in names(client.get(DASHBOARD, {"needs_action": "on"}))
    assert "Quinn, Quiet" not in names(client.get(DASHBOARD, {"needs_action": "on"}))

    name_point_persons(world)
    assert names(client.get(DASHBOARD, {"needs_action": "on"})) == []
    grade_2_event(world)  # recorded at the center: the practice's point persons are alerted
    login(client, world.community_oncologist)
    assert names(client.get(DASHBOARD, {"needs_action": "on"})) == ["Sharedcare, Sharon"]


def test_needs_my_action_counts_a_handoff_to_acknowledge(client: Client, world: World) -> None:
    sent_handoff(world)  # from the center to the practice
    login(client, world.community_oncologist)
    assert "Sharedcare, Sharon" in names(client.get(DASHBOARD, {"needs_action": "on"}))


def test_sort_by_phase_follows_the_path_and_by_infusion_puts_the_latest_first(
    community_coordinator_client: Client, world: World
) -> None:
    today = timezone.localdate()
    apheresis = patient_at(world.practice, world.community_coordinator, given_name="Ada", family_name="Aaron")
    at_apheresis(world, apheresis)
    infused(world, planned=today - dt.timedelta(days=10), actual=today - dt.timedelta(days=10))
    by_phase = names(community_coordinator_client.get(DASHBOARD, {"sort": "phase"}))
    assert by_phase.index("Aaron, Ada") < by_phase.index("Sharedcare, Sharon")  # apheresis before monitoring
    by_name = names(community_coordinator_client.get(DASHBOARD))
    assert by_name == sorted(by_name)
    by_infusion = names(community_coordinator_client.get(DASHBOARD, {"sort": "infusion"}))
    assert by_infusion[0] == "Sharedcare, Sharon"


def test_compact_row_says_day_next_step_and_open_alerts(community_coordinator_client: Client, world: World) -> None:
    today = timezone.localdate(timezone.now(), world.practice.zone)
    referral = infused(world, planned=today - dt.timedelta(days=12), actual=today - dt.timedelta(days=12))
    # A planned visit whose day has passed without being recorded.
    visit = referral.milestones.filter(status=Milestone.Status.PLANNED).order_by("planned_on").first()
    assert visit is not None
    Milestone.objects.filter(pk=visit.pk).update(planned_on=today - dt.timedelta(days=1))
    grade_2_event(world)
    response = community_coordinator_client.get(DASHBOARD)
    row = next(r for r in response.context["rows"] if r.patient == world.shared_patient)
    assert row.day == "day +12"
    assert row.next_step is not None and row.next_overdue
    assert row.open_alerts == 1
    results = response.content.decode().split('id="results"', 1)[1]
    assert "day +12" in results
    assert "1 open" in results
    assert "Overdue" in results


def test_unknown_filters_leave_the_list_whole(community_coordinator_client: Client, world: World) -> None:
    response = community_coordinator_client.get(
        DASHBOARD, {"phase": "nope", "site": "abc", "point_person": "99999", "sort": "drop table", "page": "x"}
    )
    assert response.status_code == 200
    assert "Sharedcare, Sharon" in names(response)


@pytest.mark.parametrize(
    "asked",
    [
        {},
        {"q": "Patient", "sort": "infusion"},
        {"needs_action": "on", "sort": "phase"},
        {"point_person": "me", "site": "center"},
    ],
    ids=["plain", "search", "needs-action", "point-person-and-site"],
)
def test_patient_list_query_count_does_not_grow_with_patients_or_their_records(
    community_coordinator_client: Client, world: World, tmp_media: object, asked: dict[str, str]
) -> None:
    """Every way of asking reads the same number of queries for 4 patients as for 50 with more
    of everything on their records (milestones, toxicities, alerts, documents, hand-offs, sites)."""
    if asked.get("site") == "center":
        asked = {**asked, "site": str(world.center.pk)}
    record = small_record(world)

    def make(count: int) -> None:
        for _ in range(count):
            patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
            name_point_persons(world, patient)
            accepted_referral(world, patient)
            grade_2_event_for(world, patient)

    make(3)
    community_coordinator_client.post(DASHBOARD, asked)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        response = community_coordinator_client.post(DASHBOARD, asked)
    assert response.status_code == 200
    assert len(response.context["rows"]) >= 1
    grow_record(record)
    another_record(world)
    make(46)
    # Making 46 patients takes a while: the session's activity stamp is refreshed here, not measured.
    community_coordinator_client.post(DASHBOARD, asked)
    with CaptureQueriesContext(connection) as many:
        response = community_coordinator_client.post(DASHBOARD, asked)
    assert len(response.context["rows"]) >= 40
    assert len(many) == len(few), query_difference(few, many)


def query_difference(few: CaptureQueriesContext, many: CaptureQueriesContext) -> str:
    """The statements one run made that the other did not, shortened, for a failing count."""
    first = [q["sql"][:160] for q in few.captured_queries]
    second = [q["sql"][:160] for q in many.captured_queries]
    return "\n".join(
        [
            "only with few:",
            *(q for q in first if q not in second),
            "only with many:",
            *(q for q in second if q not in first),
        ]
    )


def grade_2_event_for(world: World, patient: Patient) -> None:
    toxicity_record(
        actor=world.center_coordinator,
        patient=patient,
        site=world.center,
        kind="crs",
        onset_at=timezone.now() - dt.timedelta(hours=2),
        inputs=CRS_GRADE_2,
    )


def test_a_new_site_member_sees_the_empty_state_not_an_error(client: Client, db: None) -> None:
    newcomer = member(SiteFactory.create(name="Empty Valley Oncology"), Role.NURSE)
    login(client, newcomer)
    response = client.post(DASHBOARD, {"q": "anyone", "needs_action": "on"})
    assert response.status_code == 200
    assert "No patient matches." in response.content.decode()
