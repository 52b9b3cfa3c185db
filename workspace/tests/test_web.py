"""The server-rendered pages: sign-in, the dashboard and the patient page, for every persona."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.models import CareTeamLink, Patient, PointPerson
from carecoord.models.patients import Phase
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_add_site, care_team_name_point_person
from tests.factories import PASSWORD, SiteFactory, member, patient_at
from tests.helpers import World, another_record, at_apheresis, grow_record, login, small_record

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard")


def patient_url(patient: Patient) -> str:
    return reverse("patient-detail", kwargs={"patient_id": patient.pk})


def name_point_persons(world: World, patient: Patient) -> None:
    """Name the practice's primary and backup for `patient` (registered at the practice)."""
    link = CareTeamLink.objects.open().get(patient=patient, site=world.practice)
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank=PointPerson.Rank.PRIMARY
    )
    care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_coordinator, rank=PointPerson.Rank.BACKUP
    )


# Signing in and out


def test_login_page_has_labelled_email_and_password_fields(client: Client, db: None) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'for="id_username">Email address</label>' in html
    assert 'for="id_password">Password</label>' in html
    assert 'type="email"' in html


def test_login_with_bad_password_shows_error(client: Client, world: World) -> None:
    response = client.post(reverse("login"), {"username": world.community_oncologist.email, "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "Please enter a correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_with_good_password_lands_on_dashboard(client: Client, world: World) -> None:
    response = client.post(
        reverse("login"), {"username": world.community_oncologist.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert client.session["_auth_user_id"] == str(world.community_oncologist.pk)


def test_logout_is_a_post_that_ends_the_session(community_oncologist_client: Client) -> None:
    assert community_oncologist_client.get(reverse("logout")).status_code == 405
    response = community_oncologist_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert community_oncologist_client.get(DASHBOARD).status_code == 302


@pytest.mark.parametrize("page", ["dashboard", "patient"])
def test_anonymous_user_is_redirected_to_login(client: Client, world: World, page: str) -> None:
    url = DASHBOARD if page == "dashboard" else patient_url(world.shared_patient)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# Dashboard


@pytest.mark.parametrize("persona", ["center_coordinator", "community_oncologist"])
def test_dashboard_lists_shared_patient_for_care_team_members(client: Client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sharedcare, Sharon" in html
    assert patient_url(world.shared_patient) in html
    assert "Foreignsite" not in html


def test_dashboard_hides_shared_patient_from_outsider(outsider_client: Client, world: World) -> None:
    html = outsider_client.get(DASHBOARD).content.decode()
    assert "Sharedcare" not in html
    assert patient_url(world.shared_patient) not in html
    assert "Foreignsite, Frank" in html


def test_dashboard_row_is_compact_with_mrns_and_point_persons_on_demand(
    community_oncologist_client: Client, world: World
) -> None:
    name_point_persons(world, world.shared_patient)
    html = community_oncologist_client.get(DASHBOARD).content.decode()
    results = html.split('id="results"', 1)[1]
    practice_mrn = world.shared_patient.identifiers.get(site=world.practice).mrn
    assert practice_mrn in results
    # Whom to call is one click away, not four names on every row.
    assert "Olive Oncologist" not in results
    contacts_url = reverse("patient-contacts", kwargs={"patient_id": world.shared_patient.pk})
    assert f'hx-get="{contacts_url}"' in results

    contacts = community_oncologist_client.get(contacts_url).content.decode()
    assert "Lakeside CAR-T Center" in contacts
    assert contacts.index("Primary:") < contacts.index("Backup:")
    assert "Olive Oncologist" in contacts
    assert 'href="tel:+13125550111"' in contacts


def test_point_persons_on_demand_are_not_for_the_outsider(outsider_client: Client, world: World) -> None:
    response = outsider_client.get(reverse("patient-contacts", kwargs={"patient_id": world.shared_patient.pk}))
    assert response.status_code == 404
    assert "Sharedcare" not in response.content.decode()


def test_dashboard_header_shows_user_and_active_memberships(community_oncologist_client: Client) -> None:
    html = community_oncologist_client.get(DASHBOARD).content.decode()
    assert "Olive Oncologist" in html
    assert "Physician at Riverbend Oncology" in html


def test_dashboard_shows_empty_state_without_patients(client: Client, db: None) -> None:
    newcomer = member(SiteFactory.create(name="Empty Valley Oncology"), Role.NURSE)
    login(client, newcomer)
    html = client.get(DASHBOARD).content.decode()
    assert "No patients yet." in html
    assert "<table" not in html


def test_phase_filter_narrows_dashboard(community_coordinator_client: Client, world: World) -> None:
    ada = patient_at(world.practice, world.community_coordinator, given_name="Ada", family_name="Apheresed")
    at_apheresis(world, ada)
    html = community_coordinator_client.get(DASHBOARD, {"phase": Phase.APHERESIS}).content.decode()
    results = html.split('id="results"', 1)[1]  # the work queue above lists every patient needing action
    assert "Apheresed, Ada" in results
    assert "Sharedcare" not in results
    assert '<option value="apheresis" selected>' in html
    assert "<html" in html

    html = community_coordinator_client.get(DASHBOARD, {"phase": Phase.INFUSION}).content.decode()
    assert "No patient matches." in html


def test_phase_filter_with_htmx_returns_only_the_results_partial(
    community_coordinator_client: Client, world: World
) -> None:
    ada = patient_at(world.practice, world.community_coordinator, given_name="Ada", family_name="Apheresed")
    at_apheresis(world, ada)
    response = community_coordinator_client.get(DASHBOARD, {"phase": Phase.APHERESIS}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<select" not in html
    assert '<table class="patients patients--compact patient-list"' in html
    assert "Apheresed, Ada" in html
    assert "Sharedcare" not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(community_coordinator_client: Client) -> None:
    response = community_coordinator_client.get(
        DASHBOARD, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_unknown_phase_leaves_dashboard_unfiltered(community_oncologist_client: Client) -> None:
    response = community_oncologist_client.get(DASHBOARD, {"phase": "no-such-phase"})
    assert response.status_code == 200
    assert "Sharedcare, Sharon" in response.content.decode()


def make_patients(world: World, count: int) -> None:
    for _ in range(count):
        patient = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
        name_point_persons(world, patient)


def test_dashboard_query_count_does_not_grow_with_patients_or_their_records(
    community_coordinator_client: Client, world: World, tmp_media: object
) -> None:
    """The patient list and the work queue: more patients, and more of everything on their records
    (milestones, toxicities, alerts, documents, hand-offs, comments, a third care-team site)."""
    record = small_record(world)
    make_patients(world, 3)  # with the shared patient: 4
    community_coordinator_client.get(DASHBOARD)  # warm the caches (content types, site groups)
    with CaptureQueriesContext(connection) as five:
        response = community_coordinator_client.get(DASHBOARD)
    assert response.context["page"].paginator.count == 4

    grow_record(record)
    another_record(world)
    make_patients(world, 45)  # 50, one full page
    community_coordinator_client.get(DASHBOARD)  # the filter's choices, read again after the care teams changed
    with CaptureQueriesContext(connection) as fifty:
        response = community_coordinator_client.get(DASHBOARD)
    assert len(response.context["rows"]) == 50
    assert len(fifty) == len(five), [q["sql"] for q in fifty.captured_queries]


def test_dashboard_paginates_fifty_patients_per_page(community_coordinator_client: Client, world: World) -> None:
    make_patients(world, 50)  # with the shared patient: 51
    first = community_coordinator_client.get(DASHBOARD)
    assert len(first.context["rows"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = community_coordinator_client.get(DASHBOARD, {"page": 2})
    assert len(second.context["rows"]) == 1


# Patient page


def test_patient_page_shows_demographics_identifiers_and_care_team(
    community_oncologist_client: Client, world: World
) -> None:
    patient = world.shared_patient
    patient.caregiver_name = "Sam Sharedcare"
    patient.caregiver_relationship = "Spouse"
    patient.caregiver_phone = "+1 555 222 3333"
    patient.save()
    name_point_persons(world, patient)

    response = community_oncologist_client.get(patient_url(patient))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sharedcare, Sharon" in html
    assert "17 May 1960" in html
    assert "Large B-cell lymphoma" in html
    assert "Sam Sharedcare" in html
    assert 'href="tel:+15552223333"' in html
    assert patient.identifiers.get(site=world.practice).mrn in html
    assert "Lakeside CAR-T Center" in html
    assert "+1 555 100 2400" in html  # the center's 24/7 number
    assert "mailto:oncologist@riverbend.test" in html
    assert html.index("Primary:</strong> Olive Oncologist") < html.index("Backup:</strong> Rita Riverbend")


def test_center_coordinator_sees_shared_patient_page(center_coordinator_client: Client, world: World) -> None:
    assert center_coordinator_client.get(patient_url(world.shared_patient)).status_code == 200


def test_outsider_gets_404_for_shared_patient_page(outsider_client: Client, world: World) -> None:
    response = outsider_client.get(patient_url(world.shared_patient))
    assert response.status_code == 404
    assert "Sharedcare" not in response.content.decode()


def test_unknown_patient_id_is_404(community_oncologist_client: Client) -> None:
    url = reverse("patient-detail", kwargs={"patient_id": "00000000-0000-0000-0000-000000000000"})
    assert community_oncologist_client.get(url).status_code == 404


def test_patient_page_query_count_does_not_grow_with_care_team(
    community_coordinator_client: Client, world: World
) -> None:
    """A third site, point persons named, and more people to choose them from at the viewer's
    site (both selects list them from one read): the same queries."""
    url = patient_url(world.shared_patient)
    community_coordinator_client.get(url)  # warm the caches (content types, site groups)
    with CaptureQueriesContext(connection) as before:
        community_coordinator_client.get(url)
    name_point_persons(world, world.shared_patient)
    other = SiteFactory.create(name="Hilltop Oncology")
    care_team_add_site(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=other,
        capacity=CareTeamLink.Capacity.COMMUNITY_PRACTICE,
    )
    for n in range(5):
        member(world.practice, Role.NURSE, email=f"nurse{n}@riverbend.test", full_name=f"Nurse Number{n}")
    with CaptureQueriesContext(connection) as after:
        html = community_coordinator_client.get(url).content.decode()
    assert html.count("Nurse Number4 — Nurse</option>") == 2  # the primary's select and the backup's, with the role
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


# Headers every patient page carries


@pytest.mark.parametrize("page", ["dashboard", "patient"])
def test_pages_with_patient_data_are_not_cached(community_oncologist_client: Client, world: World, page: str) -> None:
    url = DASHBOARD if page == "dashboard" else patient_url(world.shared_patient)
    response = community_oncologist_client.get(url)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("page", ["login", "dashboard", "patient"])
def test_pages_ask_search_engines_not_to_index(client: Client, world: World, page: str) -> None:
    if page != "login":
        login(client, world.community_oncologist)
    url = {"login": reverse("login"), "dashboard": DASHBOARD, "patient": patient_url(world.shared_patient)}[page]
    assert '<meta name="robots" content="noindex">' in client.get(url).content.decode()


def test_signed_in_user_visiting_login_goes_to_dashboard(community_oncologist_client: Client) -> None:
    response = community_oncologist_client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
