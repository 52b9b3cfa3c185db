"""Entering lab results in the browser and seeing them on the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carecoord.roles import Role
from labs.models import LabFlagNotice, LabResult
from tests.factories import member
from tests.helpers import World, dashboard_queue, infused, login, name_point_persons

pytestmark = pytest.mark.django_db


def _entry(world: World) -> str:
    return reverse("lab-entry", kwargs={"patient_id": world.shared_patient.pk})


def _timeline(world: World) -> str:
    return reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})


def _today(world: World) -> dt.date:
    return timezone.localdate(timezone=world.practice.zone)


def test_a_pasted_block_is_recorded_and_the_timeline_shows_the_chart_the_flag_and_who_was_told(
    community_oncologist_client: Client, world: World
) -> None:
    name_point_persons(world)
    day0 = _today(world) - dt.timedelta(days=20)
    infused(world, planned=day0, actual=day0)
    text = "day +1\nANC 0.4\nday +8\nANC 0.3\nday +15\nANC 1.2\nIgG 3.5 g/L\nPLT 45"
    response = community_oncologist_client.post(
        _entry(world), {"mode": "paste", "site": world.practice.pk, "text": text, "taken_on": _today(world)}
    )
    assert response.status_code == 302 and response["Location"].endswith("#counts")
    assert LabResult.objects.count() == 5
    page = community_oncologist_client.get(_timeline(world))
    html = page.content.decode()
    assert "Recorded 5 results." in html and "Flagged: ANC 400 cells/µL, ANC 300 cells/µL, IgG 350 mg/dL." in html
    assert 'id="counts-anc"' in html and "<svg" in html and "<polyline" in html
    assert 'data-testid="icaht-early"><strong>grade 3</strong>' in html  # days 1-14 at or below 500
    assert "day +8" in html and "Told: " in html and "Nina Nurse" in html


def test_a_bad_line_comes_back_with_the_line_named_and_nothing_recorded(
    community_oncologist_client: Client, world: World
) -> None:
    response = community_oncologist_client.post(
        _entry(world),
        {"mode": "paste", "site": world.practice.pk, "text": "ANC 0.4\nANC 40\nWBC 3", "taken_on": _today(world)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 2: 40 could be in cells/µL" in html and "Line 3: WBC is not a value" in html
    assert "ANC 0.4\nANC 40" in html  # what was pasted is kept
    assert not LabResult.objects.exists()


def test_a_date_the_service_refuses_is_named_by_its_line_on_the_pasted_text(
    community_oncologist_client: Client, world: World
) -> None:
    later = _today(world) + dt.timedelta(days=30)
    response = community_oncologist_client.post(
        _entry(world),
        {"mode": "paste", "site": world.practice.pk, "text": f"ANC 0.4\nHb 9.1 {later}", "taken_on": _today(world)},
    )
    assert response.status_code == 400
    form = response.context["forms"]["paste"]
    assert [e.split(":")[0] for e in form.errors["text"]] == ["Line 2"] and "taken_on" not in form.errors
    assert not LabResult.objects.exists()


def test_one_result_and_a_csv_file(community_oncologist_client: Client, world: World) -> None:
    one = community_oncologist_client.post(
        _entry(world),
        {"mode": "one", "site": world.practice.pk, "kind": "hemoglobin", "value": "68", "unit": "g/L",
         "taken_on": _today(world)},
    )  # fmt: skip
    assert one.status_code == 302
    csv = SimpleUploadedFile("labs.csv", f"kind,value,unit,taken_on\nCD4,150,,{_today(world)}\n".encode())
    uploaded = community_oncologist_client.post(_entry(world), {"mode": "csv", "site": world.practice.pk, "file": csv})
    assert uploaded.status_code == 302
    assert sorted(LabResult.objects.values_list("kind", "value", "flagged")) == [
        ("cd4", 150, False),
        ("hemoglobin", 6.8, True),
    ]
    bad = SimpleUploadedFile("labs.csv", b"kind,value,taken_on\nANC,abc,2026-01-01\n")
    refused = community_oncologist_client.post(_entry(world), {"mode": "csv", "site": world.practice.pk, "file": bad})
    assert refused.status_code == 400 and "Line 2: abc is not a number" in refused.content.decode()


def test_a_date_ahead_is_an_error_on_the_pasted_text(community_oncologist_client: Client, world: World) -> None:
    ahead = _today(world) + dt.timedelta(days=9)
    response = community_oncologist_client.post(
        _entry(world), {"mode": "paste", "site": world.practice.pk, "text": f"Hb 8 {ahead}", "taken_on": _today(world)}
    )
    assert response.status_code == 400 and "Line 1: This cannot be in the future." in response.content.decode()


def test_a_read_only_member_sees_the_counts_but_no_entry(client: Client, world: World) -> None:
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    login(client, reader)
    html = client.get(_timeline(world)).content.decode()
    assert "Counts and immune recovery" in html and "Paste results" not in html
    assert client.get(_entry(world)).status_code == 403


def test_an_outsider_gets_404_on_the_entry_page_whatever_the_method(outsider_client: Client, world: World) -> None:
    assert outsider_client.get(_entry(world)).status_code == 404
    response = outsider_client.post(
        _entry(world), {"mode": "paste", "site": world.unrelated_practice.pk, "text": "ANC 0.3"}
    )
    assert response.status_code == 404
    assert outsider_client.put(_entry(world)).status_code == 404
    assert not LabResult.objects.exists()


def test_a_flag_waits_on_the_work_queue_until_someone_at_the_site_acknowledges_it(
    client: Client, community_oncologist_client: Client, world: World
) -> None:
    nurse = name_point_persons(world)["center_nurse"]
    community_oncologist_client.post(
        _entry(world),
        {"mode": "paste", "site": world.practice.pk, "text": "ANC 0.3\nHb 6.1", "taken_on": _today(world)},
    )
    # The practice recorded it: its notices are acknowledged by the recorder; the center's wait.
    waiting = LabFlagNotice.objects.unacknowledged()
    assert {n.site for n in waiting} == {world.center} and waiting.count() == 4
    assert LabFlagNotice.objects.filter(site=world.practice, acknowledged_by=world.community_oncologist).count() == 4
    login(client, nurse)
    dashboard = dashboard_queue(client).content.decode()
    assert "Flagged lab values to acknowledge" in dashboard and "ANC 300 cells/µL" in dashboard
    notice = waiting.filter(recipient=nurse).first()
    assert notice is not None
    # Another person's notice is not theirs to see: 404, nothing changes.
    other = waiting.exclude(recipient=nurse).first()
    assert other is not None
    assert client.post(reverse("lab-flag-acknowledge", kwargs={"notice_id": other.pk})).status_code == 404
    response = client.post(reverse("lab-flag-acknowledge", kwargs={"notice_id": notice.pk}), {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not LabFlagNotice.objects.unacknowledged().exists()  # the nurse's acknowledgement covers the center
    assert "Flagged lab values to acknowledge" not in dashboard_queue(client).content.decode()
    assert client.get(reverse("lab-flag-acknowledge", kwargs={"notice_id": notice.pk})).status_code == 405
