"""The death page: recording, correcting and withdrawing a patient's death in the browser's
forms, with errors on their fields; the patient page and the timeline say it; the outsider gets
404 and the read-only member 403 before anything is read or written.

Time is frozen nine days after the shared patient's infusion (`tests.helpers.NOW`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from carecoord.models import PatientDeath
from carecoord.roles import Role
from referrals.models import Milestone
from tests.factories import member
from tests.helpers import INFUSED_ON, NOW, World, infused, login
from toxicity.models import ToxicityEvent
from toxicity.services import toxicity_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _url(world: World, name: str = "patient-death") -> str:
    return reverse(name, kwargs={"patient_id": world.shared_patient.pk})


def _form(world: World, **fields: str) -> dict[str, str]:
    return {"site": str(world.practice.pk), "died_on": "2027-01-18", "cause": "infection", "detail": "", **fields}


def test_a_coordinator_records_a_death_and_the_patient_page_and_timeline_say_it(client: Client, world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    login(client, world.community_coordinator)
    patient_page = client.get(_url(world, "patient-detail")).content.decode()
    assert "Record the patient's death" in patient_page
    form = client.get(_url(world)).content.decode()
    assert 'name="died_on"' in form and "Primary cause of death" in form
    response = client.post(_url(world), _form(world, detail="Pneumonia"))
    assert response.status_code == 302 and response["Location"] == _url(world, "patient-detail")
    page = client.get(_url(world, "patient-detail")).content.decode()
    assert "Died on Mon 18 Jan 2027" in page and "Record the patient's death" not in page
    timeline = client.get(_url(world, "patient-timeline")).content.decode()
    assert "Died on 18 Jan 2027" in timeline  # the entry
    assert "Mon 18 Jan 2027" in timeline  # the header's fact
    assert "Nothing planned: the patient died on 18 Jan 2027" in timeline
    record = client.get(_url(world)).content.decode()
    assert "Correct the record" in record and "Recorded in error?" in record and "Pneumonia" in record


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"died_on": ""}, "died_on", "Enter the date of death."),
        ({"died_on": "2027-02-20"}, "died_on", "cannot be in the future"),
        ({"cause": ""}, "cause", "Choose the primary cause of death"),
        ({"died_on": "2027-01-02"}, "died_on", "A step done is recorded on 11 Jan 2027"),
    ],
)
def test_a_refused_death_names_its_field_and_keeps_nothing(
    client: Client, world: World, fields: dict[str, str], field: str, words: str
) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    login(client, world.community_coordinator)
    response = client.post(_url(world), _form(world, **fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert words in errors[field][0]
    assert not PatientDeath.objects.exists()
    assert not Milestone.objects.filter(status="cancelled").exists()


def test_a_death_recorded_in_error_is_withdrawn_from_its_page(client: Client, world: World) -> None:
    referral = infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    login(client, world.center_coordinator)
    client.post(_url(world), _form(world, site=str(world.center.pk)))
    assert Milestone.objects.filter(referral=referral, status="cancelled").exists()
    refused = client.post(_url(world, "patient-death-withdraw"), {"site": str(world.center.pk), "reason": ""})
    assert refused.status_code == 400
    assert "Say why the death was recorded in error." in refused.context["withdraw_form"].errors["reason"][0]
    response = client.post(_url(world, "patient-death-withdraw"), {"site": str(world.center.pk), "reason": "Wrong MRN"})
    assert response.status_code == 302
    assert not PatientDeath.objects.exists()
    assert not Milestone.objects.filter(referral=referral, status="cancelled").exists()


def test_the_read_only_member_sees_the_record_but_may_not_write_it(client: Client, world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    login(client, member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    page = client.get(_url(world))
    assert page.status_code == 200 and 'id="death-form"' not in page.content.decode()
    assert client.post(_url(world), _form(world, site=str(world.center.pk))).status_code == 403
    assert client.post(_url(world, "patient-death-withdraw"), {"reason": "x"}).status_code == 403
    assert not PatientDeath.objects.exists()


@pytest.mark.parametrize("name", ["patient-death", "patient-death-withdraw"])
def test_the_outsider_gets_404_and_nothing_changes(client: Client, world: World, name: str) -> None:
    login(client, world.outsider)
    assert client.post(_url(world, name), _form(world, site=str(world.unrelated_practice.pk))).status_code == 404
    if name == "patient-death":
        assert client.get(_url(world, name)).status_code == 404
    assert not PatientDeath.objects.exists()


def test_a_toxicity_with_a_fatal_outcome_offers_to_record_the_death_with_its_day(client: Client, world: World) -> None:
    infused(world, planned=INFUSED_ON, actual=INFUSED_ON)
    event = toxicity_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        kind="infection",
        onset_at=dt.datetime(2027, 1, 15, 14, tzinfo=dt.UTC),
        ctcae_grade=4,
        infection_site="Lung",
        organism="Aspergillus",
    )
    fatal = {"outcome": "fatal", "resolved_on": dt.date(2027, 1, 18), "status": "resolved"}
    ToxicityEvent.objects.filter(pk=event.pk).update(**fatal)
    login(client, world.community_coordinator)
    event_page = client.get(reverse("toxicity-event", kwargs={"event_id": event.pk})).content.decode()
    link = f"{_url(world)}?event={event.pk}"
    assert f'href="{link}"' in event_page  # the id only: no date nor cause in the address
    page = client.get(link).content.decode()
    assert 'value="2027-01-18"' in page and '<option value="infection" selected>' in page
    assert not PatientDeath.objects.exists()  # prefilled, not recorded
    # Another patient's event, or none visible, prefills nothing.
    login(client, world.outsider)
    assert client.get(link).status_code == 404
