"""Acting for a site, the primitive, and care-team changes that belong to the site they touch.

`carecoord.access.acting` answers, site by site, what a person may do for a patient; the
care-team services use it so that a site joins one way (grants, point persons, timeline entry,
an email to its coordinators) and leaves only by its own coordinators' move, never the last.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from carecoord.access import acting_site_for, acting_sites, patients_visible_to, require_acting_site, sites_that_can
from carecoord.models import CareTeamLink, OutgoingEmail, PatientGroupObjectPermission, TimelineEntry
from carecoord.roles import ROLE_CAPABILITIES, Capability, Role
from carecoord.services.care_teams import care_team_add_site, care_team_end_site
from carecoord.services.comments import comment_post
from carecoord.services.memberships import membership_start
from referrals.workflow import Move
from tests.factories import SiteFactory, member, patient_at
from tests.helpers import World, advance, dashboard_queue, draft_referral, login

pytestmark = pytest.mark.django_db


def dual(world: World, center_role: str, practice_role: str) -> Any:
    person = member(world.center, center_role, email="dana@lakeside.test", full_name="Dana Dual")
    membership_start(user=person, site=world.practice, role=practice_role, starts_on=dt.date(2020, 1, 1))
    return person


def test_acting_sites_give_each_site_the_capabilities_of_the_role_held_there(world: World) -> None:
    dana = dual(world, Role.READ_ONLY, Role.COORDINATOR)
    by_site = {a.site: a.capabilities for a in acting_sites(dana, world.shared_patient)}
    assert by_site == {
        world.center: ROLE_CAPABILITIES[Role.READ_ONLY],
        world.practice: ROLE_CAPABILITIES[Role.COORDINATOR],
    }
    assert sites_that_can(dana, world.shared_patient, Capability.RECORD_CARE) == [world.practice]
    # A patient only the practice shares: the center is no site to act for, whatever the role.
    own = patient_at(world.practice, world.community_coordinator)
    assert [a.site for a in acting_sites(dana, own)] == [world.practice]
    assert acting_sites(world.outsider, world.shared_patient) == []


def test_the_role_at_the_chosen_site_decides_not_the_union(world: World) -> None:
    dana = dual(world, Role.READ_ONLY, Role.COORDINATOR)
    with pytest.raises(PermissionDenied, match="Your role at Lakeside CAR-T Center does not allow you to record care"):
        require_acting_site(dana, world.shared_patient, world.center, Capability.RECORD_CARE)
    with pytest.raises(PermissionDenied):
        comment_post(actor=dana, patient=world.shared_patient, site=world.center, body="As the center?")
    assert (
        require_acting_site(dana, world.shared_patient, world.practice, Capability.RECORD_CARE).site == world.practice
    )
    entry = comment_post(actor=dana, patient=world.shared_patient, site=world.practice, body="As the practice")
    assert entry.site == world.practice
    # A site where the person does not work is an input error on the field that named it.
    with pytest.raises(ValidationError) as error:
        require_acting_site(dana, world.shared_patient, world.unrelated_practice, Capability.VIEW, field="from_site")
    assert "from_site" in error.value.message_dict


def test_when_the_action_decides_the_site_the_one_whose_role_allows_it_acts(world: World) -> None:
    dana = dual(world, Role.READ_ONLY, Role.COORDINATOR)
    patient = world.shared_patient
    assert acting_site_for(dana, patient, Capability.CHANGE).site == world.practice
    assert acting_site_for(dana, patient, Capability.VIEW, prefer=[world.practice]).site == world.practice
    assert acting_site_for(dana, patient, Capability.VIEW).site == world.center  # by name otherwise
    with pytest.raises(PermissionDenied, match="Your role at Lakeside CAR-T Center"):
        acting_site_for(dana, patient, Capability.RECORD_CARE, among=[world.center])
    with pytest.raises(PermissionDenied, match="Only the staff of Prairie Hematology"):
        acting_site_for(dana, patient, Capability.VIEW, among=[world.unrelated_practice])


def test_a_site_leaves_only_by_its_own_coordinators_move(world: World) -> None:
    center_link = CareTeamLink.objects.open().get(patient=world.shared_patient, site=world.center)
    # The practice's coordinator does not end the center's part, nor does a reader at the center.
    with pytest.raises(ValidationError):
        care_team_end_site(actor=world.community_coordinator, link=center_link)
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    with pytest.raises(PermissionDenied):
        care_team_end_site(actor=reader, link=center_link)
    assert CareTeamLink.objects.open().filter(pk=center_link.pk).exists()
    care_team_end_site(actor=world.center_coordinator, link=center_link)
    assert world.shared_patient not in patients_visible_to(world.center_coordinator)
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).order_by("-pk").first()
    assert entry is not None and entry.site == world.center
    assert entry.title == "Lakeside CAR-T Center left the care team"


def test_the_last_site_cannot_leave(world: World) -> None:
    link = CareTeamLink.objects.open().get(patient=world.foreign_patient)
    with pytest.raises(ValidationError, match="at least one site"):
        care_team_end_site(actor=world.outsider, link=link)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sites_leaving_at_once_leave_one_behind(world: World) -> None:
    links = list(CareTeamLink.objects.open().filter(patient=world.shared_patient).select_related("site", "patient"))
    actors = {world.center.pk: world.center_coordinator, world.practice.pk: world.community_coordinator}
    barrier, errors = threading.Barrier(2), []

    def leave(link: CareTeamLink) -> None:
        try:
            barrier.wait()
            care_team_end_site(actor=actors[link.site_id], link=link)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CareTeamLink.objects.open().filter(patient=world.shared_patient).count() == 1
    assert len(errors) == 1 and "at least one site" in str(errors[0])


def test_sharing_is_on_the_timeline_and_emailed_to_the_joining_sites_coordinators(world: World) -> None:
    hillside = SiteFactory.create(name="Hillside & Lake Oncology")
    coordinator = member(hillside, Role.COORDINATOR, email="coordinator@hillside.test")
    nurse = member(hillside, Role.NURSE, email="nurse@hillside.test")
    link = care_team_add_site(
        actor=world.community_coordinator, patient=world.shared_patient, site=hillside, capacity="community_practice"
    )
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).order_by("-pk").first()
    assert entry is not None and entry.site == world.practice
    assert entry.title == "Hillside & Lake Oncology joined the care team as community practice"
    assert entry.body == "No point person named at Hillside & Lake Oncology yet."
    emails = OutgoingEmail.objects.filter(
        template="care-team-joined", dedupe_key__startswith=f"care-team-joined:{link.pk}:"
    )
    assert [e.recipient for e in emails] == [coordinator]
    email = emails.get()
    assert "Riverbend Oncology shared the care of a patient with Hillside & Lake Oncology" in email.body_text
    assert email.subject.endswith("shared a patient's care with Hillside & Lake Oncology (patient SS)")
    assert "Sharon" not in email.body_text and "Sharedcare" not in email.body_text  # initials only
    assert f"/patients/{world.shared_patient.pk}/" in email.body_text
    # Grants: the new site's people see the patient with their role's capabilities.
    assert world.shared_patient in patients_visible_to(nurse)
    grants = PatientGroupObjectPermission.objects.filter(content_object=world.shared_patient)
    assert grants.filter(group__site_role__site=hillside).exists()
    assert link.added_by == world.community_coordinator


def test_sharing_as_a_site_where_the_role_does_not_manage_the_care_team_is_refused(world: World) -> None:
    dana = dual(world, Role.COORDINATOR, Role.READ_ONLY)
    with pytest.raises(PermissionDenied):
        care_team_add_site(
            actor=dana,
            patient=world.shared_patient,
            site=world.unrelated_practice,
            capacity="community_practice",
            from_site=world.practice,
        )
    link = care_team_add_site(
        actor=dana, patient=world.shared_patient, site=world.unrelated_practice, capacity="community_practice"
    )
    assert link.site == world.unrelated_practice
    # Shared as the center, where the role manages the care team: signed as such.
    entry = TimelineEntry.objects.filter(patient=world.shared_patient).order_by("-pk").first()
    assert entry is not None and entry.site == world.center


def test_the_admin_adds_and_ends_sites_through_the_same_services(client: Client, world: World) -> None:
    admin = member(world.center, Role.COORDINATOR, email="admin@lakeside.test", is_staff=True, is_superuser=True)
    login(client, admin)
    patient = world.shared_patient
    links = list(CareTeamLink.objects.filter(patient=patient).order_by("pk"))
    url = reverse("admin:carecoord_patient_change", args=[patient.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["date_of_birth"] = patient.date_of_birth.isoformat()
    prefix_ids = "identifiers"
    data |= {
        f"{prefix_ids}-TOTAL_FORMS": "1",
        f"{prefix_ids}-INITIAL_FORMS": "1",
        f"{prefix_ids}-0-id": str(patient.identifiers.get().pk),
        f"{prefix_ids}-0-patient": str(patient.pk),
        f"{prefix_ids}-0-site": str(world.practice.pk),
        f"{prefix_ids}-0-mrn": patient.identifiers.get().mrn,
        "care_team-TOTAL_FORMS": str(len(links) + 1),
        "care_team-INITIAL_FORMS": str(len(links)),
    }
    for index, link in enumerate(links):
        data |= {f"care_team-{index}-id": str(link.pk), f"care_team-{index}-patient": str(patient.pk)}
    center_index = next(i for i, link in enumerate(links) if link.site_id == world.center.pk)
    data[f"care_team-{center_index}-end_participation"] = "on"
    new = len(links)
    data |= {
        f"care_team-{new}-site": str(world.unrelated_practice.pk),
        f"care_team-{new}-capacity": "community_practice",
        f"care_team-{new}-patient": str(patient.pk),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(CareTeamLink.objects.open().filter(patient=patient).values_list("site", flat=True)) == {
        world.practice.pk,
        world.unrelated_practice.pk,
    }
    titles = list(TimelineEntry.objects.filter(patient=patient).order_by("-pk").values_list("title", flat=True)[:2])
    assert set(titles) == {
        "Prairie Hematology joined the care team as community practice",
        "Lakeside CAR-T Center left the care team",
    }
    assert patient in patients_visible_to(world.outsider)
    assert patient not in patients_visible_to(world.center_coordinator)
    assert OutgoingEmail.objects.filter(template="care-team-joined", recipient=world.outsider).exists()


def test_the_work_queue_lists_work_only_for_sites_whose_role_may_do_it(client: Client, world: World) -> None:
    dana = dual(world, Role.READ_ONLY, Role.COORDINATOR)
    waiting_on_center = advance(draft_referral(world), [(Move.SUBMIT, world.community_coordinator)])
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center)
    waiting_on_practice = draft_referral(world, other)
    login(client, dana)
    queue = dashboard_queue(client).context["work_queue"]
    assert [r.pk for r in queue.rows("waiting")] == [waiting_on_practice.pk]
    assert waiting_on_center.pk not in [r.pk for r in queue.rows("overdue")]
    login(client, world.center_coordinator)
    queue = dashboard_queue(client).context["work_queue"]
    assert waiting_on_center.pk in [r.pk for r in queue.rows("waiting")]
