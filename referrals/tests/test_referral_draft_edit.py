"""The referring practice edits its draft before submitting it: same fields and checks as a new
referral, only while a draft, only by those who may act for the practice."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from carecoord.models import Site, TimelineEntry
from carecoord.roles import Role
from referrals.models import Referral
from referrals.services import referral_edit_draft, referral_move
from referrals.workflow import Move, State
from tests.factories import SiteFactory, death_on_file, member
from tests.helpers import REFERRAL_FIELDS, World, draft_referral, login

pytestmark = pytest.mark.django_db


def edit_url(referral: Referral) -> str:
    return reverse("referral-edit", kwargs={"referral_id": referral.pk})


def detail_url(referral: Referral) -> str:
    return reverse("referral-detail", kwargs={"referral_id": referral.pk})


def edit_data(world: World, **overrides: Any) -> dict[str, Any]:
    data = {"to_center": world.center.pk, "referring_physician": world.community_oncologist.pk, **REFERRAL_FIELDS}
    return data | overrides


def html_of(response: Any) -> str:
    return str(response.content.decode())


def unchanged(referral: Referral) -> None:
    fresh = Referral.objects.get(pk=referral.pk)
    assert {name: getattr(fresh, name) for name in REFERRAL_FIELDS} == REFERRAL_FIELDS
    assert not TimelineEntry.objects.filter(title__startswith="Referral draft changed").exists()


def test_the_draft_page_offers_the_edit_to_the_practice_only(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.community_coordinator)
    assert f'href="{edit_url(referral)}">Edit draft</a>' in html_of(client.get(detail_url(referral)))
    login(client, world.center_coordinator)
    assert edit_url(referral) not in html_of(client.get(detail_url(referral)))


def test_the_form_comes_filled_with_the_draft(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.community_coordinator)
    response = client.get(edit_url(referral))
    html = html_of(response)
    assert response.status_code == 200
    assert "Primary refractory LBCL, candidate for CAR-T." in html
    assert "R-CHOP x6; R-ICE x2" in html
    assert re.search(rf'<option value="{world.center.pk}" selected>', html)
    assert re.search(r'<option value="urgent" selected>', html)
    assert '<label for="id_prior_therapies">Prior therapies</label>' in html


def test_the_practice_corrects_its_draft_with_a_timeline_entry_and_an_audit_trail(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.community_coordinator)
    response = client.post(
        edit_url(referral), edit_data(world, urgency="emergent", reason="Relapsed after two lines; rapid progression.")
    )
    assert response.status_code == 302 and response["Location"] == detail_url(referral)
    referral.refresh_from_db()
    assert (referral.urgency, referral.reason) == ("emergent", "Relapsed after two lines; rapid progression.")
    assert referral.state == State.DRAFT and referral.submitted_at is None
    # Which fields changed on the timeline, for both sites to read; the values in the audit trail.
    entry = TimelineEntry.objects.get(title__startswith="Referral draft changed")
    assert entry.title == "Referral draft changed: urgency, reason for referral"
    assert (entry.actor, entry.site) == (world.community_coordinator, world.practice)
    audit = AuditEntry.objects.get(object_type="referrals.referral", action=AuditEntry.Action.UPDATE)
    assert audit.changes["urgency"] == ["urgent", "emergent"]
    assert set(audit.changes) == {"urgency", "reason"}
    assert audit.actor == world.community_coordinator
    assert "saved; it is not yet submitted" in html_of(client.get(detail_url(referral)))


def test_the_referring_physician_may_edit_too_and_nothing_changed_writes_nothing(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.community_oncologist)
    response = client.post(edit_url(referral), edit_data(world))
    assert response.status_code == 302
    assert not TimelineEntry.objects.filter(title__startswith="Referral draft changed").exists()
    assert not AuditEntry.objects.filter(object_type="referrals.referral", action=AuditEntry.Action.UPDATE).exists()


def test_errors_name_their_field_and_nothing_is_saved(client: Client, world: World) -> None:
    referral = draft_referral(world)
    login(client, world.community_coordinator)
    response = client.post(edit_url(referral), edit_data(world, reason="", prior_lines_of_therapy=25))
    html = html_of(response)
    assert response.status_code == 400
    assert '<a href="#id_reason">Reason for referral: This field is required.</a>' in html
    assert '<a href="#id_prior_lines_of_therapy">Prior lines of therapy: Ensure this value is less than' in html
    unchanged(referral)


def test_a_center_that_already_has_an_open_referral_is_refused_on_its_field(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Hillcrest CAR-T Center", kind=Site.Kind.ACADEMIC_CENTER)
    referral = draft_referral(world)
    second = draft_referral(world, to_center=other)
    login(client, world.community_coordinator)
    response = client.post(edit_url(referral), edit_data(world, to_center=other.pk, urgency="routine"))
    assert response.status_code == 400
    assert (
        f'<a href="#id_to_center">CAR-T center: This patient already has an open referral to {other} (#{second.pk}).'
        in html_of(response)
    )
    unchanged(referral)


def test_another_center_is_named_on_the_timeline(client: Client, world: World) -> None:
    other = SiteFactory.create(name="Hillcrest CAR-T Center", kind=Site.Kind.ACADEMIC_CENTER)
    referral = draft_referral(world)
    login(client, world.community_coordinator)
    assert client.post(edit_url(referral), edit_data(world, to_center=other.pk)).status_code == 302
    referral.refresh_from_db()
    assert referral.to_center == other
    assert TimelineEntry.objects.filter(title="Referral draft changed: CAR-T center (now Hillcrest CAR-T Center)")


@pytest.mark.parametrize("who", ["center_coordinator", "read_only"])
def test_the_center_and_a_read_only_member_cannot_edit(client: Client, world: World, who: str) -> None:
    referral = draft_referral(world)
    user = world.center_coordinator if who == "center_coordinator" else member(world.practice, Role.READ_ONLY)
    login(client, user)
    assert client.get(edit_url(referral)).status_code == 403
    assert client.post(edit_url(referral), edit_data(world, urgency="routine")).status_code == 403
    unchanged(referral)


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_and_sees_nothing(client: Client, world: World, method: str) -> None:
    referral = draft_referral(world)
    login(client, world.outsider)
    response = getattr(client, method)(edit_url(referral), edit_data(world, urgency="routine"))
    assert response.status_code == 404
    assert "Sharedcare" not in html_of(response) and "LBCL" not in html_of(response)
    unchanged(referral)


def test_a_submitted_referral_is_no_longer_edited(client: Client, world: World) -> None:
    referral = referral_move(actor=world.community_coordinator, referral=draft_referral(world), move=Move.SUBMIT)
    login(client, world.community_coordinator)
    assert edit_url(referral) not in html_of(client.get(detail_url(referral)))
    response = client.post(edit_url(referral), edit_data(world, urgency="routine"))
    assert response.status_code == 302 and response["Location"] == detail_url(referral)
    assert "Only a draft can be edited; referral" in html_of(client.get(response["Location"]))
    unchanged(referral)


def test_the_service_refuses_an_edit_once_the_draft_has_moved(world: World) -> None:
    draft = draft_referral(world)
    stale = Referral.objects.get(pk=draft.pk)
    referral_move(actor=world.community_coordinator, referral=draft, move=Move.SUBMIT)
    # A request that loaded the draft before another submitted it: the claim refuses the edit.
    with pytest.raises(ValidationError, match="left the draft state"):
        referral_edit_draft(
            actor=world.community_coordinator,
            referral=stale,
            to_center=world.center,
            referring_physician=world.community_oncologist,
            **(REFERRAL_FIELDS | {"urgency": "routine"}),
        )
    unchanged(draft)


def test_the_draft_of_a_patient_who_died_is_not_edited(client: Client, world: World) -> None:
    referral = draft_referral(world)
    death_on_file(world.shared_patient, world.practice, world.community_coordinator, dt.date(2026, 11, 16))
    login(client, world.community_coordinator)
    response = client.post(edit_url(referral), edit_data(world, urgency="routine"))
    assert response.status_code == 400
    assert "The patient died on 16 Nov 2026: the draft can only be withdrawn." in html_of(response)
    unchanged(referral)
