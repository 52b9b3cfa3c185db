"""The rule that decides who sees which patient, and what their role lets them change."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from carecoord.access import get_patient_for_user, patient_capabilities, patients_visible_to
from carecoord.access.grants import refresh_membership_access
from carecoord.models import CareTeamLink, SiteMembership
from carecoord.roles import Capability, Role
from carecoord.services.care_teams import care_team_add_site, care_team_end_site, care_team_name_point_person
from carecoord.services.memberships import membership_end, membership_revoke_now, membership_start, user_deactivate
from carecoord.services.patients import patient_update
from tests.factories import SiteFactory, UserFactory, member, patient_at
from tests.helpers import World

pytestmark = pytest.mark.django_db


def test_both_care_team_sites_see_the_shared_patient(world: World) -> None:
    assert list(patients_visible_to(world.center_coordinator)) == [world.shared_patient]
    assert list(patients_visible_to(world.community_oncologist)) == [world.shared_patient]


def test_outsider_sees_only_own_sites_patients(world: World) -> None:
    assert list(patients_visible_to(world.outsider)) == [world.foreign_patient]
    with pytest.raises(Http404):
        get_patient_for_user(world.outsider, world.shared_patient.pk)


def test_unknown_or_malformed_patient_id_is_404(world: World) -> None:
    with pytest.raises(Http404):
        get_patient_for_user(world.center_coordinator, "not-a-uuid")


def test_read_only_member_sees_but_changes_nothing(world: World) -> None:
    reader = member(world.center, Role.READ_ONLY)
    assert get_patient_for_user(reader, world.shared_patient.pk) == world.shared_patient
    assert patient_capabilities(reader, world.shared_patient) == {Capability.VIEW}
    with pytest.raises(PermissionDenied):
        patient_update(actor=reader, patient=world.shared_patient, caregiver_name="Someone")
    with pytest.raises(PermissionDenied):
        get_patient_for_user(reader, world.shared_patient.pk, Capability.CHANGE)


def test_role_capabilities_follow_the_role_table(world: World) -> None:
    pharmacist = member(world.center, Role.PHARMACIST)
    assert patient_capabilities(pharmacist, world.shared_patient) == {Capability.VIEW, Capability.RECORD_CARE}
    assert patient_capabilities(world.center_coordinator, world.shared_patient) == {
        Capability.VIEW,
        Capability.RECORD_CARE,
        Capability.CHANGE,
        Capability.MANAGE_CARE_TEAM,
    }


def test_guardian_backend_agrees_with_the_access_path(world: World) -> None:
    assert world.community_oncologist.has_perm("carecoord.change_patient", world.shared_patient)
    assert not world.community_oncologist.has_perm("carecoord.manage_care_team", world.shared_patient)
    assert not world.outsider.has_perm("carecoord.view_patient", world.shared_patient)


def test_adding_a_site_to_the_care_team_grants_its_members(world: World) -> None:
    assert world.shared_patient not in patients_visible_to(world.outsider)
    care_team_add_site(
        actor=world.center_coordinator,
        patient=world.shared_patient,
        site=world.unrelated_practice,
        capacity=CareTeamLink.Capacity.COMMUNITY_PRACTICE,
    )
    assert world.shared_patient in patients_visible_to(world.outsider)


def test_ending_a_care_team_link_withdraws_access_but_keeps_history(world: World) -> None:
    link = world.shared_patient.care_team.get(site=world.center)
    care_team_end_site(actor=world.center_coordinator, link=link)
    assert world.shared_patient not in patients_visible_to(world.center_coordinator)
    assert world.shared_patient in patients_visible_to(world.community_oncologist)
    link.refresh_from_db()
    assert link.ended_at is not None


def test_last_care_team_site_cannot_leave(world: World) -> None:
    link = world.foreign_patient.care_team.get()
    with pytest.raises(ValidationError) as error:
        care_team_end_site(actor=world.outsider, link=link)
    assert "link" in error.value.message_dict


def test_only_an_academic_center_can_be_treating_center(world: World) -> None:
    other_practice = SiteFactory.create(name="Hillside Oncology")
    with pytest.raises(ValidationError) as error:
        care_team_add_site(
            actor=world.community_coordinator,
            patient=world.shared_patient,
            site=other_practice,
            capacity=CareTeamLink.Capacity.TREATING_CENTER,
        )
    assert "capacity" in error.value.message_dict


def test_access_ends_the_day_after_a_membership_ends(world: World) -> None:
    nurse = UserFactory.create()
    with time_machine.travel(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC), tick=False):
        membership = membership_start(user=nurse, site=world.center, role=Role.NURSE, starts_on=dt.date(2026, 3, 1))
        membership_end(membership=membership, ends_on=dt.date(2026, 3, 10))
        assert world.shared_patient in patients_visible_to(nurse)
    # 06:00 UTC on the 11th is still the 10th in Chicago: access holds until local midnight.
    with time_machine.travel(dt.datetime(2026, 3, 11, 4, 0, tzinfo=dt.UTC), tick=False):
        refresh_membership_access()
        assert world.shared_patient in patients_visible_to(nurse)
    with time_machine.travel(dt.datetime(2026, 3, 11, 6, 15, tzinfo=dt.UTC), tick=False):
        assert refresh_membership_access() >= 1
        assert world.shared_patient not in patients_visible_to(nurse)


def test_future_membership_gives_access_from_its_start_date(world: World) -> None:
    pharmacist = UserFactory.create()
    with time_machine.travel(dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        membership_start(user=pharmacist, site=world.center, role=Role.PHARMACIST, starts_on=dt.date(2026, 4, 3))
        assert not patients_visible_to(pharmacist).exists()
    with time_machine.travel(dt.datetime(2026, 4, 3, 12, 0, tzinfo=dt.UTC), tick=False):
        refresh_membership_access()
        assert world.shared_patient in patients_visible_to(pharmacist)


def test_a_missed_refresh_is_caught_up_later(world: World) -> None:
    nurse = UserFactory.create()
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        membership = membership_start(user=nurse, site=world.center, role=Role.NURSE, starts_on=dt.date(2026, 4, 1))
        SiteMembership.objects.filter(pk=membership.pk).update(ends_on=dt.date(2026, 5, 2))
    # The scheduler was down for a week: the next pass still removes the stale access.
    with time_machine.travel(dt.datetime(2026, 5, 9, 12, 0, tzinfo=dt.UTC), tick=False):
        refresh_membership_access()
        assert not patients_visible_to(nurse).exists()


def test_revoking_a_membership_takes_effect_at_once(world: World) -> None:
    membership = SiteMembership.objects.get(user=world.center_coordinator)
    membership_revoke_now(membership=membership)
    assert not patients_visible_to(world.center_coordinator).exists()


def test_deactivated_account_sees_nothing(world: World) -> None:
    user_deactivate(user=world.community_oncologist)
    assert not patients_visible_to(world.community_oncologist).exists()


def test_person_at_two_sites_sees_both_sites_patients_with_each_role(world: World) -> None:
    both = member(world.unrelated_practice, Role.READ_ONLY)
    membership_start(user=both, site=world.center, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    assert set(patients_visible_to(both)) == {world.shared_patient, world.foreign_patient}
    assert Capability.CHANGE in patient_capabilities(both, world.shared_patient)
    assert patient_capabilities(both, world.foreign_patient) == {Capability.VIEW}


def test_point_persons_are_named_by_the_sites_own_coordinator(world: World) -> None:
    link = world.shared_patient.care_team.get(site=world.practice)
    with pytest.raises(ValidationError) as error:
        care_team_name_point_person(
            actor=world.center_coordinator, link=link, user=world.community_oncologist, rank="primary"
        )
    assert "link" in error.value.message_dict
    person = care_team_name_point_person(
        actor=world.community_coordinator, link=link, user=world.community_oncologist, rank="primary"
    )
    assert person.user == world.community_oncologist


def test_point_person_must_work_at_the_site(world: World) -> None:
    link = world.shared_patient.care_team.get(site=world.practice)
    with pytest.raises(ValidationError) as error:
        care_team_name_point_person(actor=world.community_coordinator, link=link, user=world.outsider, rank="backup")
    assert "user" in error.value.message_dict


def test_registering_a_patient_needs_a_membership_at_that_site(world: World) -> None:
    from carecoord.services.patients import patient_register

    with pytest.raises(ValidationError) as error:
        patient_register(
            actor=world.outsider,
            site=world.center,
            mrn="X1",
            given_name="A",
            family_name="B",
            date_of_birth=dt.date(1970, 1, 1),
            sex="male",
            disease_area="lbcl",
        )
    assert "site" in error.value.message_dict


def test_duplicate_mrn_at_a_site_is_a_field_error(world: World) -> None:
    mrn = world.shared_patient.identifiers.get().mrn
    with pytest.raises(ValidationError) as error:
        patient_at(world.practice, world.community_coordinator, given_name="Dup")
        from carecoord.services.patients import patient_register

        patient_register(
            actor=world.community_coordinator,
            site=world.practice,
            mrn=mrn,
            given_name="A",
            family_name="B",
            date_of_birth=dt.date(1970, 1, 1),
            sex="male",
            disease_area="lbcl",
        )
    assert "mrn" in error.value.message_dict
