"""The alerts page shows times on the viewer's site clock, with the zone named."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import Client
from django.urls import reverse

from carecoord.models import Site
from tests.helpers import World, grade_2_event, login
from toxicity.models import Alert

RECORDED = dt.datetime(2026, 12, 1, 20, 5, tzinfo=dt.UTC)  # 14:05 in Chicago, 15:05 in New York


def test_the_alerts_page_shows_the_viewers_zone(client: Client, world: World) -> None:
    Site.objects.filter(pk=world.practice.pk).update(time_zone="America/New_York")
    with time_machine.travel(RECORDED, tick=False):
        grade_2_event(world)  # recorded at the center: its alerts count as seen at once
    assert Alert.objects.filter(recipient=world.community_coordinator, acknowledged_at__isnull=True).exists()

    at_center = login(Client(), world.center_coordinator).get(reverse("alert-list")).content.decode()
    at_practice = login(client, world.community_coordinator).get(reverse("alert-list")).content.decode()

    assert "1 Dec, 14:05 CST" in at_center
    assert "Times in America/Chicago." in at_center
    assert "1 Dec, 15:05 EST" in at_practice
    assert "Times in America/New_York." in at_practice
    assert "UTC" not in at_center + at_practice
