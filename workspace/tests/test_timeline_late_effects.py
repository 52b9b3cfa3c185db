"""The shared timeline lists the late effects to watch for after the patient's product, and the
education given, linked to the patient's education page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carecoord.models import LateEffectWatchItem
from education.selectors import current_versions
from education.services import education_record
from tests.helpers import World, accepted_referral, login, queries_of_get, ship_education, treated_with_carvykti

pytestmark = pytest.mark.django_db


def test_the_timeline_lists_the_watch_items_of_the_patients_product(client: Client, world: World) -> None:
    product = treated_with_carvykti(world, accepted_referral(world))
    login(client, world.community_oncologist)
    url = reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})
    page = client.get(url).content.decode()
    assert "Late effects to watch for after Carvykti" in page
    for name in ("T-cell malignancies", "Parkinsonism", "Guillain-Barré syndrome", "Cranial nerve palsies"):
        assert name in page
    assert product.manufacturer_report_route in page


def test_an_edited_watch_item_shows_and_the_count_of_queries_does_not_grow(client: Client, world: World) -> None:
    product = treated_with_carvykti(world, accepted_referral(world))
    login(client, world.community_oncologist)
    url = reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})
    client.get(url)
    before = queries_of_get(client, url)
    for n in range(5):
        LateEffectWatchItem.objects.create(product=product, name=f"Local item {n}", action="Tell the center.")
    assert queries_of_get(client, url) == before
    assert "Local item 4" in client.get(url).content.decode()


def test_no_product_no_watch_items(client: Client, world: World) -> None:
    accepted_referral(world)
    login(client, world.community_oncologist)
    page = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})).content.decode()
    assert "Late effects to watch for" not in page


def test_education_given_is_on_the_timeline_with_a_link_to_the_education_page(client: Client, world: World) -> None:
    ship_education()
    education_record(
        actor=world.community_coordinator,
        patient=world.shared_patient,
        site=world.practice,
        version=current_versions().get(material__name="Hand-back: going home"),
        recipient="patient",
        given_at=timezone.now() - dt.timedelta(hours=1),
    )
    login(client, world.center_coordinator)
    page = client.get(reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})).content.decode()
    assert "Education given to the patient: Going home after CAR-T" in page
    assert reverse("education-patient", kwargs={"patient_id": world.shared_patient.pk}) in page
