"""The infections API: recorded and listed by either site, filtered by patient, 400 with field
messages, 404 for outsiders, list queries constant with rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from infections.models import InfectionEvent, ProphylaxisDefaults, ProphylaxisItem
from tests.helpers import World, api, infused, results

pytestmark = pytest.mark.django_db


def _infection(world: World, **fields: object) -> dict[str, object]:
    return {
        "patient": str(world.shared_patient.pk),
        "site": world.practice.pk,
        "body_site": "lung",
        "organism": "RSV",
        "category": "viral",
        "grade": 2,
        "setting": "ward",
        "onset_on": world.practice.today().isoformat(),
        **fields,
    }


def test_an_infection_is_recorded_and_listed_by_patient(world: World) -> None:
    client = api(world.community_oncologist)
    response = client.post("/api/infections/", _infection(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["body_site"], body["grade"], body["setting"], body["toxicity_event"]) == ("lung", 2, "ward", None)
    listed = results(api(world.center_coordinator).get(f"/api/infections/?patient={world.shared_patient.pk}"))
    assert [row["id"] for row in listed] == [body["id"]]
    assert results(api(world.center_coordinator).get(f"/api/infections/?patient={world.foreign_patient.pk}")) == []


def test_bad_input_answers_400_with_field_messages(world: World) -> None:
    client = api(world.community_oncologist)
    response = client.post("/api/infections/", _infection(world, grade=7, body_site="elbow"), format="json")
    assert response.status_code == 400
    assert {"grade", "body_site"} <= set(response.json())
    ahead = (world.practice.today() + dt.timedelta(days=3)).isoformat()
    response = client.post("/api/infections/", _infection(world, onset_on=ahead), format="json")
    assert response.status_code == 400 and "onset_on" in response.json()
    item = {"patient": str(world.shared_patient.pk), "site": world.practice.pk, "kind": "pjp", "agent": "TMP-SMX"}
    item |= {"start_on": "2026-12-01", "planned_stop_on": "2026-11-01"}
    response = client.post("/api/prophylaxis-items/", item, format="json")
    assert response.status_code == 400 and "planned_stop_on" in response.json()


def test_outsiders_get_404_and_cannot_record(world: World) -> None:
    created = api(world.community_oncologist).post("/api/infections/", _infection(world), format="json").json()
    outsider = api(world.outsider)
    assert outsider.get(f"/api/infections/{created['id']}/").status_code == 404
    assert outsider.post(f"/api/infections/{created['id']}/resolve/", {}, format="json").status_code == 404
    assert results(outsider.get("/api/infections/")) == []
    response = outsider.post("/api/infections/", _infection(world), format="json")
    assert response.status_code == 400 and "patient" in response.json()
    assert InfectionEvent.objects.count() == 1


def test_prophylaxis_is_added_stopped_and_filtered_by_due(world: World) -> None:
    client = api(world.community_oncologist)
    today = world.practice.today()
    item = {"patient": str(world.shared_patient.pk), "site": world.practice.pk, "kind": "antifungal"}
    item |= {"agent": "Fluconazole", "start_on": today.isoformat()}
    item |= {"planned_stop_on": (today + dt.timedelta(days=2)).isoformat()}
    created = client.post("/api/prophylaxis-items/", item, format="json")
    assert created.status_code == 201, created.json()
    due = results(client.get("/api/prophylaxis-items/?due=true"))
    assert [row["id"] for row in due] == [created.json()["id"]]
    stop = {"site": world.practice.pk, "stopped_on": today.isoformat()}
    stopped = client.post(f"/api/prophylaxis-items/{created.json()['id']}/stop/", stop, format="json")
    assert stopped.status_code == 200 and stopped.json()["stopped_on"] == today.isoformat()
    assert results(client.get("/api/prophylaxis-items/?due=true")) == []


def test_the_list_reads_the_same_queries_whatever_its_rows(world: World) -> None:
    client = api(world.community_oncologist)
    client.post("/api/infections/", _infection(world), format="json")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/infections/").status_code == 200
    for n in range(6):
        onset = (world.practice.today() - dt.timedelta(days=n + 1)).isoformat()
        client.post("/api/infections/", _infection(world, onset_on=onset), format="json")
    with CaptureQueriesContext(connection) as seven:
        assert len(results(client.get("/api/infections/"))) == 7
    assert len(seven) == len(one)
    assert ProphylaxisItem.objects.count() == 0


def test_the_standard_plan_is_proposed_then_kept_only_as_confirmed(world: World) -> None:
    day_zero = world.center.today() - dt.timedelta(days=10)
    infused(world, planned=day_zero, actual=day_zero)
    client = api(world.center_coordinator)
    url = f"/api/patients/{world.shared_patient.pk}/prevention-plan/"
    proposal = client.get(url).json()
    assert proposal["day_zero"] == day_zero.isoformat()
    assert not ProphylaxisItem.objects.exists()
    kept = [
        {key: value for key, value in line.items() if key != "include"}
        for line in proposal["prophylaxis"]
        if line["include"]
    ]
    kept[0]["agent"] = "Valacyclovir 500 mg twice daily"
    vaccines = [{k: v for k, v in line.items() if k != "include"} for line in proposal["vaccinations"][:2]]
    response = client.post(url, {"site": world.center.pk, "prophylaxis": kept, "vaccinations": vaccines}, format="json")
    assert response.status_code == 201, response.json()
    assert [line["kind"] for line in response.json()["prophylaxis"]] == ["antiviral", "pjp"]
    assert ProphylaxisItem.objects.get(kind="antiviral").agent == "Valacyclovir 500 mg twice daily"
    # A line that does not hold is named by its place; nothing more is kept.
    bad = [{**kept[1], "planned_stop_on": (day_zero - dt.timedelta(days=400)).isoformat()}]
    refused = client.post(url, {"site": world.center.pk, "prophylaxis": bad}, format="json")
    assert refused.status_code == 400 and "prophylaxis-0-planned_stop_on" in refused.json()
    assert ProphylaxisItem.objects.count() == 2


def test_the_proposed_plan_follows_the_treating_centers_own_defaults(world: World) -> None:
    day_zero = world.center.today() - dt.timedelta(days=10)
    infused(world, planned=day_zero, actual=day_zero)
    ProphylaxisDefaults.objects.create(
        site=world.center, antiviral_agent="Valacyclovir 500 mg twice daily", pjp_from_day=21
    )
    # The practice's own defaults do not apply: the center treats the patient.
    ProphylaxisDefaults.objects.create(site=world.practice, antiviral_agent="Famciclovir")
    proposal = api(world.community_oncologist).get(f"/api/patients/{world.shared_patient.pk}/prevention-plan/").json()
    lines = {line["kind"]: line for line in proposal["prophylaxis"]}
    assert lines["antiviral"]["agent"] == "Valacyclovir 500 mg twice daily"
    assert lines["pjp"]["start_on"] == (day_zero + dt.timedelta(days=21)).isoformat()
    assert ProphylaxisItem.objects.count() == 0


def test_a_live_vaccine_default_before_a_year_is_refused_by_the_setting_and_the_database(world: World) -> None:
    defaults = ProphylaxisDefaults(site=world.center, live_vaccines_from_day=300)
    with pytest.raises(ValidationError) as refused:
        defaults.full_clean()
    assert "live_vaccines_from_day" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        defaults.save()
