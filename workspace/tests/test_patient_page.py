"""The care team in the browser: details, a site's MRN, point persons, sharing and leaving."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from carecoord.models import CareTeamLink, Patient, PatientIdentifier, PointPerson, Site, TimelineEntry
from carecoord.phones import normalize_phone
from carecoord.roles import Role
from carecoord.services.memberships import membership_start
from carecoord.services.patients import patient_register
from referrals.models import Referral
from referrals.services import referral_create, referral_move
from referrals.workflow import Move
from tests.factories import SiteFactory, UserFactory, member
from tests.helpers import REFERRAL_FIELDS, World, draft_referral, login

pytestmark = pytest.mark.django_db


def draft_referral_of_the_foreign_patient(world: World) -> Referral:
    """A referral the shared patient's sites may not see: another patient, at another practice."""
    physician = member(world.unrelated_practice, Role.PHYSICIAN)
    return referral_create(
        actor=world.outsider,
        patient=world.foreign_patient,
        from_site=world.unrelated_practice,
        to_center=world.center,
        referring_physician=physician,
        **REFERRAL_FIELDS,
    )


def url(name: str, world: World) -> str:
    return reverse(name, kwargs={"patient_id": world.shared_patient.pk})


def latest_entry(world: World) -> TimelineEntry:
    return TimelineEntry.objects.filter(patient=world.shared_patient).latest("occurred_at", "pk")


def details(world: World, **changes: Any) -> dict[str, Any]:
    patient = world.shared_patient
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "disease_area": patient.disease_area,
        "caregiver_name": "",
        "caregiver_relationship": "",
        "caregiver_phone": "",
    }
    return data | changes


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("312-555-0142", "+1 312-555-0142"),
        ("(970) 555 0123", "+1 970-555-0123"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("  ", ""),
    ],
)
def test_phone_numbers_are_stored_in_international_form(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


def test_editing_details_saves_them_and_says_which_changed_on_the_timeline(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    page = client.get(url("patient-edit", world))
    assert page.status_code == 200 and b'name="caregiver_phone"' in page.content

    response = client.post(
        url("patient-edit", world), details(world, caregiver_name="Casey Care", caregiver_phone="312 555 0142")
    )

    assert response.status_code == 302
    patient = Patient.objects.get(pk=world.shared_patient.pk)
    assert (patient.caregiver_name, patient.caregiver_phone) == ("Casey Care", "+1 312-555-0142")
    assert latest_entry(world).title == "Patient details changed: caregiver's name, caregiver's phone"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"caregiver_phone": "call the neighbour"},
            "caregiver_phone",
            "Enter the caregiver phone as a number that can be dialled",
        ),
        (
            {"caregiver_phone": "+1 555 0100"},
            "caregiver_phone",
            "Enter the caregiver phone as a number that can be dialled",
        ),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"given_name": ""}, "given_name", "This field is required."),
    ],
)
def test_bad_details_are_refused_next_to_the_field_and_nothing_changes(
    client: Client, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    login(client, world.community_oncologist)
    response = client.post(url("patient-edit", world), details(world, **changes))
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_details_{field}_error"' in html and message in html
    # The error summary heads the form and links to the field.
    assert "There is a problem" in html and f'<a href="#id_details_{field}">' in html
    assert Patient.objects.get(pk=world.shared_patient.pk).given_name == "Sharon"


def test_read_only_and_outsiders_cannot_edit(client: Client, world: World) -> None:
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test")
    login(client, reader)
    assert client.get(url("patient-edit", world)).status_code == 403
    assert client.post(url("patient-edit", world), details(world, given_name="X")).status_code == 403
    login(client, world.outsider)
    assert client.post(url("patient-edit", world), details(world, given_name="X")).status_code == 404
    assert Patient.objects.get(pk=world.shared_patient.pk).given_name == "Sharon"


def test_the_center_enters_its_own_mrn(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    page = client.get(url("patient-detail", world)).content.decode()
    assert 'action="' + url("patient-identifier", world) + '"' in page

    response = client.post(url("patient-identifier", world), {"site": world.center.pk, "mrn": "LK-42"})

    assert response.status_code == 302
    assert PatientIdentifier.objects.get(patient=world.shared_patient, site=world.center).mrn == "LK-42"
    assert latest_entry(world).title == "MRN at Lakeside CAR-T Center recorded"


def test_an_mrn_is_only_entered_for_ones_own_site(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    response = client.post(url("patient-identifier", world), {"site": world.practice.pk, "mrn": "RB-1"})
    assert response.status_code == 400
    assert not PatientIdentifier.objects.filter(patient=world.shared_patient, mrn="RB-1").exists()


def test_a_coordinator_names_their_sites_point_persons(client: Client, world: World) -> None:
    nurse = member(world.center, Role.NURSE, email="nurse@lakeside.test", full_name="Nina Nurse")
    login(client, world.center_coordinator)
    page = client.get(url("patient-detail", world)).content.decode()
    assert "Name the point persons" in page and "Nina Nurse" in page

    response = client.post(
        url("patient-point-persons", world),
        {"site": world.center.pk, "primary": nurse.pk, "backup": world.center_coordinator.pk},
    )

    assert response.status_code == 302
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    assert {p.rank: p.user for p in link.point_persons.all()} == {"primary": nurse, "backup": world.center_coordinator}
    titles = list(TimelineEntry.objects.filter(patient=world.shared_patient).values_list("title", flat=True))
    assert "Nina Nurse is now primary point person at Lakeside CAR-T Center" in titles
    assert "Cora Center is now backup point person at Lakeside CAR-T Center" in titles

    # Swapping them, then dropping the backup.
    client.post(
        url("patient-point-persons", world),
        {"site": world.center.pk, "primary": world.center_coordinator.pk, "backup": nurse.pk},
    )
    client.post(url("patient-point-persons", world), {"site": world.center.pk, "primary": nurse.pk, "backup": ""})
    assert {p.rank: p.user for p in link.point_persons.all()} == {"primary": nurse}


def _options(html: str, select_id: str) -> list[str]:
    """The text of each option of the select `select_id`."""
    select = html.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_the_point_person_picker_offers_each_person_with_their_role_at_the_site(client: Client, world: World) -> None:
    """Two people of the same name: the coordinator tells them apart by their role at the site
    (and its title); a role held at another site is not what this site's picker shows."""
    nurse = UserFactory.create(email="jl.nurse@lakeside.test", full_name="Jordan Lee")
    membership_start(
        user=nurse, site=world.center, role=Role.NURSE, starts_on=dt.date(2020, 1, 1), title="Nurse coordinator"
    )
    physician = member(world.center, Role.PHYSICIAN, email="jl.physician@lakeside.test", full_name="Jordan Lee")
    membership_start(user=physician, site=world.practice, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    member(world.center, Role.READ_ONLY, email="reader@lakeside.test", full_name="Rae Reader")
    login(client, world.center_coordinator)
    html = client.get(url("patient-detail", world)).content.decode()
    primary = _options(html, f"id_pp{world.center.pk}_primary")
    assert "Jordan Lee — Nurse (Nurse coordinator)" in primary
    assert "Jordan Lee — Physician" in primary
    assert "Cora Center — Coordinator" in primary
    assert not any("Rae Reader" in option or "at " in option for option in primary)
    assert _options(html, f"id_pp{world.center.pk}_backup")[1:] == primary[1:]
    # Posted with an error, the form comes back offering the same.
    refused = client.post(url("patient-point-persons", world), {"site": world.center.pk, "backup": nurse.pk})
    assert refused.status_code == 400
    assert _options(refused.content.decode(), f"id_pp{world.center.pk}_primary")[1:] == primary[1:]


def test_point_persons_must_work_at_the_site_and_differ(client: Client, world: World) -> None:
    reader = member(world.center, Role.READ_ONLY, email="reader@lakeside.test", full_name="Rae Reader")
    login(client, world.center_coordinator)
    same = client.post(
        url("patient-point-persons", world),
        {"site": world.center.pk, "primary": world.center_coordinator.pk, "backup": world.center_coordinator.pk},
    )
    assert same.status_code == 400 and b"Choose someone other than the primary point person" in same.content
    # A read-only member is not offered, and posting one is refused on the field.
    assert b"Rae Reader" not in client.get(url("patient-detail", world)).content
    refused = client.post(url("patient-point-persons", world), {"site": world.center.pk, "primary": reader.pk})
    assert refused.status_code == 400
    assert not PointPerson.objects.filter(link__patient=world.shared_patient).exists()


def test_a_coordinator_cannot_name_another_sites_point_persons(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    response = client.post(
        url("patient-point-persons", world), {"site": world.practice.pk, "primary": world.community_oncologist.pk}
    )
    assert response.status_code == 403
    assert not PointPerson.objects.filter(link__patient=world.shared_patient).exists()
    # A physician (no care-team capability) is refused before anything is read.
    login(client, world.community_oncologist)
    assert client.post(url("patient-point-persons", world), {"site": world.practice.pk}).status_code == 403


def test_sharing_with_another_site_and_leaving(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Summit Hematology")
    login(client, world.community_coordinator)
    shared = client.post(
        url("patient-share", world), {"site": other.pk, "capacity": CareTeamLink.Capacity.COMMUNITY_PRACTICE}
    )
    assert shared.status_code == 302
    assert CareTeamLink.objects.open().filter(patient=world.shared_patient, site=other).exists()
    assert latest_entry(world).title == "Summit Hematology joined the care team as community practice"

    unconfirmed = client.post(url("patient-leave", world), {"site": world.practice.pk})
    assert unconfirmed.status_code == 400 and b"Tick the box" in unconfirmed.content

    left = client.post(url("patient-leave", world), {"site": world.practice.pk, "confirm": "on"})
    assert left.status_code == 302 and left["Location"] == reverse("dashboard")
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    assert link.ended_at is not None
    assert TimelineEntry.objects.filter(title="Riverbend Oncology left the care team").exists()
    assert client.get(url("patient-detail", world)).status_code == 404


def test_a_practice_cannot_be_shared_as_treating_center(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Summit Hematology")
    login(client, world.community_coordinator)
    response = client.post(
        url("patient-share", world), {"site": other.pk, "capacity": CareTeamLink.Capacity.TREATING_CENTER}
    )
    assert (
        response.status_code == 400 and b"Only an academic CAR-T center can be the treating center." in response.content
    )


def test_the_last_site_is_not_offered_to_leave(client: Client, world: World) -> None:
    login(client, world.outsider)
    page = client.get(reverse("patient-detail", kwargs={"patient_id": world.foreign_patient.pk})).content
    assert b"Leave the care team" not in page


@pytest.mark.parametrize("name", ["patient-identifier", "patient-point-persons", "patient-share", "patient-leave"])
def test_outsider_gets_404_on_every_care_team_action(client: Client, world: World, name: str) -> None:
    login(client, world.outsider)
    assert client.post(url(name, world), {"site": world.unrelated_practice.pk, "confirm": "on"}).status_code == 404
    assert client.get(url(name, world)).status_code == 404
    assert CareTeamLink.objects.open().filter(patient=world.shared_patient).count() == 2


def test_registering_with_point_persons_names_them_and_puts_it_on_the_timeline(world: World) -> None:
    nurse = member(world.practice, Role.NURSE, email="nurse@riverbend.test", full_name="Nell Nurse")
    patient = patient_register(
        actor=world.community_oncologist,
        site=world.practice,
        mrn="RB-777",
        point_persons={"primary": nurse, "backup": world.community_coordinator},
        given_name="Pat",
        family_name="Newcomer",
        date_of_birth=dt.date(1961, 2, 3),
        sex="male",
        disease_area="lbcl",
    )
    link = patient.care_team.get()
    assert {p.rank: p.user for p in link.point_persons.all()} == {
        "primary": nurse,
        "backup": world.community_coordinator,
    }
    entry = patient.timeline.get()
    assert entry.title == "Registered at Riverbend Oncology"
    assert entry.body == "Point persons at Riverbend Oncology: primary: Nell Nurse; backup: Rita Riverbend."


# The patient's referrals


def test_the_page_lists_the_patients_referrals_with_state_center_date_and_link(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Hillcrest CAR-T Center", kind=Site.Kind.ACADEMIC_CENTER)
    # Submitted late on 20 Nov in Chicago (the practice's zone): already 21 Nov in UTC.
    with time_machine.travel(dt.datetime(2026, 11, 21, 4, 30, tzinfo=dt.UTC), tick=False):
        submitted = referral_move(actor=world.community_coordinator, referral=draft_referral(world), move=Move.SUBMIT)
        draft = draft_referral(world, to_center=other)
    elsewhere = draft_referral_of_the_foreign_patient(world)
    login(client, world.community_coordinator)
    html = client.get(url("patient-detail", world)).content.decode()
    section = html[html.index('id="referrals"') : html.index('id="care-team-heading"')]
    for referral in (submitted, draft):
        assert (
            f'href="{reverse("referral-detail", kwargs={"referral_id": referral.pk})}">Referral #{referral.pk}'
            in section
        )
    assert "to Lakeside CAR-T Center" in section and "to Hillcrest CAR-T Center" in section
    assert '<span class="phase state state--submitted">Submitted</span>' in section
    assert '<span class="phase state state--draft">Draft</span>' in section
    assert "20 Nov 2026</time>" in section and "21 Nov 2026" not in section  # the practice's clock
    assert "not yet submitted" in section
    assert section.index(f"Referral #{draft.pk}") < section.index(f"Referral #{submitted.pk}")  # newest first
    assert f"Referral #{elsewhere.pk}<" not in section


def test_a_patient_without_referrals_says_so(client: Client, world: World) -> None:
    login(client, world.center_coordinator)
    html = client.get(url("patient-detail", world)).content.decode()
    assert "No referral yet." in html


def test_the_outsider_gets_404_and_no_referral(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.outsider)
    response = client.get(url("patient-detail", world))
    assert response.status_code == 404
    assert f"Referral #{referral.pk}" not in response.content.decode()
    # Nor does the outsider's own patient page list the shared patient's referral.
    own = client.get(reverse("patient-detail", kwargs={"patient_id": world.foreign_patient.pk})).content.decode()
    assert "No referral yet." in own and f"#{referral.pk}<" not in own
