"""Infections, the prophylaxis plan and vaccinations: services, alerts, work queue, digest,
hand-off prefill, audit and the pages, with their query counts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.digest_sections import DigestScope, SectionRead
from carecoord.models import Patient, TimelineEntry
from carecoord.selectors.sites import active_memberships_of
from handoffs.prefill import SOURCES
from infections.contributions import digest_prevention_due, queue_prevention_due
from infections.models import InfectionEvent, ProphylaxisDefaults, ProphylaxisItem, VaccinationItem
from infections.services import (
    ProphylaxisInput,
    VaccinationInput,
    infection_record,
    infection_resolve,
    plan_confirm,
    prophylaxis_add,
    prophylaxis_stop,
    vaccination_add,
    vaccination_give,
)
from tests.factories import patient_at
from tests.helpers import World, at_once, infused, login, name_point_persons
from toxicity.models import Alert, ToxicityEvent
from workspace.work_queue import queue_scope

pytestmark = pytest.mark.django_db


def _today(world: World) -> dt.date:
    return world.practice.today()


def _stop_due(world: World, patient: Patient, in_days: int = 3) -> ProphylaxisItem:
    today = _today(world)
    return prophylaxis_add(
        actor=world.community_oncologist,
        patient=patient,
        site=world.practice,
        item=ProphylaxisInput(
            kind="antifungal",
            agent="Fluconazole 400 mg daily",
            start_on=today - dt.timedelta(days=20),
            planned_stop_on=today + dt.timedelta(days=in_days),
            stop_condition="Until ANC > 500/µL",
        ),
    )


def _vaccine_due(world: World, patient: Patient, in_days: int = -2) -> VaccinationItem:
    return vaccination_add(
        actor=world.community_oncologist,
        patient=patient,
        site=world.practice,
        item=VaccinationInput(vaccine="Influenza (inactivated)", due_on=_today(world) + dt.timedelta(days=in_days)),
    )


# --- infections and their alerts -------------------------------------------------------------


def test_a_mild_infection_is_on_the_timeline_and_alerts_nobody(world: World) -> None:
    infused(world, planned=_today(world) - dt.timedelta(days=20))
    infection = infection_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        body_site="urinary",
        organism="E. coli",
        category="bacterial",
        grade=2,
        setting="outpatient",
        onset_on=_today(world) - dt.timedelta(days=1),
    )
    assert infection.toxicity_event_id is None
    assert not Alert.objects.exists()
    entry = TimelineEntry.objects.get(kind=TimelineEntry.Kind.INFECTION)
    assert "urinary tract, E. coli (bacterial), grade 2, outpatient" in entry.title
    loaded = InfectionEvent.objects.with_day_zero().get(pk=infection.pk)
    assert loaded.day_label == "day +19"


def test_a_severe_or_icu_or_neutropenic_infection_alerts_every_point_person_once(world: World) -> None:
    name_point_persons(world)
    data: dict[str, Any] = {
        "actor": world.community_oncologist,
        "patient": world.shared_patient,
        "site": world.practice,
        "body_site": "bloodstream",
        "grade": 2,
        "setting": "ed",
        "neutropenic_fever": True,
        "onset_on": _today(world),
    }
    infection = infection_record(**data)
    again = infection_record(**data)  # a double submission
    assert again.pk == infection.pk
    assert infection.toxicity_event is not None
    toxicity = infection.toxicity_event
    assert (toxicity.kind, toxicity.grade) == ("infection", 2)
    assert Alert.objects.filter(event=toxicity).count() >= 2
    assert ToxicityEvent.objects.count() == 1
    # Resolving the infection resolves the toxicity it alerted as.
    infection_resolve(
        actor=world.community_oncologist, infection=infection, site=world.practice, resolved_on=_today(world)
    )
    toxicity.refresh_from_db()
    assert toxicity.status == ToxicityEvent.Status.RESOLVED


def test_two_severe_infections_of_one_day_are_two_toxicities(world: World) -> None:
    common: dict[str, Any] = {
        "actor": world.community_oncologist,
        "patient": world.shared_patient,
        "site": world.practice,
        "grade": 3,
        "setting": "ward",
        "onset_on": _today(world),
    }
    blood = infection_record(body_site="bloodstream", **common)
    lung = infection_record(body_site="lung", **common)
    assert blood.toxicity_event_id and lung.toxicity_event_id
    assert blood.toxicity_event_id != lung.toxicity_event_id


def test_an_infection_names_the_field_it_refuses(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        infection_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            body_site="elbow",
            grade=2,
            setting="ward",
            onset_on=_today(world),
        )
    assert "body_site" in refused.value.message_dict
    with pytest.raises(ValidationError) as ahead:
        infection_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            body_site="lung",
            grade=2,
            setting="ward",
            onset_on=_today(world) + dt.timedelta(days=5),
        )
    assert "onset_on" in ahead.value.message_dict


# --- the plan ------------------------------------------------------------------------------


def test_a_live_vaccine_before_one_year_is_refused_on_its_date(world: World) -> None:
    day_zero = _today(world) - dt.timedelta(days=20)
    infused(world, planned=day_zero, actual=day_zero)
    with pytest.raises(ValidationError) as refused:
        vaccination_add(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            item=VaccinationInput(vaccine="MMR", due_on=day_zero + dt.timedelta(days=300), live=True),
        )
    assert "1 year" in refused.value.message_dict["due_on"][0]


def test_confirming_a_plan_names_the_line_in_error_and_keeps_nothing(world: World) -> None:
    today = _today(world)
    with pytest.raises(ValidationError) as refused:
        plan_confirm(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            prophylaxis=[
                ProphylaxisInput("antiviral", "Acyclovir", today, today + dt.timedelta(days=365)),
                ProphylaxisInput("pjp", "TMP-SMX", today, today - dt.timedelta(days=1)),
            ],
            vaccinations=[],
        )
    assert "prophylaxis-1-planned_stop_on" in refused.value.message_dict
    assert not ProphylaxisItem.objects.exists()


def test_the_plan_is_audited_like_every_record(world: World) -> None:
    item = _stop_due(world, world.shared_patient)
    prophylaxis_stop(actor=world.community_oncologist, item=item, site=world.practice, stopped_on=_today(world))
    vaccine = _vaccine_due(world, world.shared_patient)
    vaccination_give(actor=world.community_oncologist, item=vaccine, site=world.practice, given_on=_today(world))
    entries = AuditEntry.objects.filter(patient_id=world.shared_patient.pk, object_type__startswith="infections.")
    actions = {(e.object_type, e.action) for e in entries}
    assert ("infections.prophylaxisitem", AuditEntry.Action.CREATE) in actions
    assert ("infections.prophylaxisitem", AuditEntry.Action.UPDATE) in actions
    assert ("infections.vaccinationitem", AuditEntry.Action.UPDATE) in actions


# --- the work queue and the digest -----------------------------------------------------------


def _queue(world: World) -> list[str]:
    user = world.community_oncologist
    return [row.label for row in queue_prevention_due(queue_scope(user, active_memberships_of(user)))]


def test_due_and_overdue_items_are_on_the_work_queue_until_done(world: World) -> None:
    item = _stop_due(world, world.shared_patient)
    far = _stop_due(world, world.shared_patient, in_days=60)
    vaccine = _vaccine_due(world, world.shared_patient)
    labels = _queue(world)
    assert labels == [
        "Vaccine due: Influenza (inactivated)",
        "Decide the stop of Antifungal prophylaxis (Fluconazole 400 mg daily)",
    ]
    assert far.pk != item.pk
    prophylaxis_stop(actor=world.community_oncologist, item=item, site=world.practice, stopped_on=_today(world))
    vaccination_give(actor=world.community_oncologist, item=vaccine, site=world.practice, given_on=_today(world))
    assert _queue(world) == []
    # Outsiders see nothing of it.
    outsider = world.outsider
    assert list(queue_prevention_due(queue_scope(outsider, active_memberships_of(outsider)))) == []


def _count(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_the_work_queue_list_reads_the_same_queries_whatever_its_rows(world: World) -> None:
    user = world.community_oncologist
    _stop_due(world, world.shared_patient)
    scope = queue_scope(user, active_memberships_of(user))
    one = _count(lambda: queue_prevention_due(scope))
    for _ in range(4):
        patient = patient_at(world.practice, world.community_coordinator)
        _stop_due(world, patient)
        _vaccine_due(world, patient)
    scope = queue_scope(user, active_memberships_of(user))
    assert len(queue_prevention_due(scope)) == 9
    assert _count(lambda: queue_prevention_due(scope)) == one


def test_the_digest_section_says_what_is_due_and_overdue_in_one_query(world: World) -> None:
    patients = [world.shared_patient]
    _stop_due(world, world.shared_patient)
    _vaccine_due(world, world.shared_patient)
    zone = zoneinfo.ZoneInfo(world.practice.time_zone)

    def read() -> SectionRead:
        scope = DigestScope(
            user=world.community_oncologist,
            patient_ids=[p.pk for p in patients],
            site_ids={world.practice.pk},
            today=_today(world),
            zone=zone,
            now=timezone.now(),
        )
        return digest_prevention_due(scope)

    with CaptureQueriesContext(connection) as first:
        section = read()
    assert [line for _p, line in section.overdue] == [
        f"Vaccine due: Influenza (inactivated), was due {(_today(world) - dt.timedelta(days=2)).strftime('%a %d %b')}"
    ]
    assert len(section.due) == 1
    # An email: the kind of prophylaxis, not the drug.
    assert section.due[0][1].endswith(": Decide the stop of Antifungal prophylaxis")
    for n in range(3):
        patient = patient_at(world.practice, world.community_coordinator)
        patients.append(patient)
        _stop_due(world, patient)
        _vaccine_due(world, patient, in_days=3 if n == 0 else -2)
    with CaptureQueriesContext(connection) as grown:
        section = read()
    assert len(section.due) + len(section.overdue) == 8
    # In the order of their days; on one day, the stops before the vaccines.
    assert [line.split(": ", 1)[1] for _p, line in section.due] == [
        *["Decide the stop of Antifungal prophylaxis"] * 4,
        "Vaccine due: Influenza (inactivated)",
    ]
    assert len(grown) == len(first) == 1


# --- the hand-off prefill ------------------------------------------------------------------


def test_the_transition_hand_off_is_prefilled_with_the_plan_ivig_and_vaccines_due(world: World) -> None:
    patient = world.shared_patient
    assert SOURCES["prophylaxis_plan"](patient) is None
    today = _today(world)
    plan_confirm(
        actor=world.community_oncologist,
        patient=patient,
        site=world.practice,
        prophylaxis=[
            ProphylaxisInput("antiviral", "Acyclovir 800 mg twice daily", today, dt.date(2027, 12, 1), "12 months"),
            ProphylaxisInput("ivig", "IVIG 0.4 g/kg", today, today + dt.timedelta(days=28), "IgG < 400 mg/dL"),
        ],
        vaccinations=[VaccinationInput("Pneumococcal conjugate, dose 1", dt.date(2027, 6, 1))],
    )
    plan = SOURCES["prophylaxis_plan"](patient)
    antiviral = "Antiviral (HSV/VZV): Acyclovir 800 mg twice daily"
    assert plan == f"{antiviral}, from {today:%d %b %Y}, planned stop 01 Dec 2027 (12 months)"
    assert SOURCES["ivig"](patient).startswith(f"IVIG: IVIG 0.4 g/kg, from {today:%d %b %Y}")
    assert SOURCES["vaccinations_due"](patient) == "Pneumococcal conjugate, dose 1: due 01 Jun 2027"


# --- the pages -----------------------------------------------------------------------------


def test_the_patient_page_reads_the_same_queries_whatever_the_record_holds(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    url = reverse("infections-patient", kwargs={"patient_id": world.shared_patient.pk})
    _stop_due(world, world.shared_patient)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(5):
        _stop_due(world, world.shared_patient, in_days=n - 2)
        _vaccine_due(world, world.shared_patient, in_days=n - 2)
        infection_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            body_site="lung",
            grade=1 + n % 2,
            setting="outpatient",
            onset_on=_today(world) - dt.timedelta(days=n),
        )
    with CaptureQueriesContext(connection) as grown:
        response = client.get(url)
    assert response.status_code == 200
    assert len(grown) == len(small), [q["sql"] for q in grown.captured_queries]
    assert response.content.decode().count("Overdue") >= 1


def test_a_refused_infection_form_names_the_field(client: Client, world: World) -> None:
    login(client, world.community_oncologist)
    url = reverse("infection-record", kwargs={"patient_id": world.shared_patient.pk})
    response = client.post(url, {"site": world.practice.pk, "grade": "2", "setting": "ward", "onset_on": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose the site of the infection." in html
    assert "Enter the day of onset." in html


def test_the_standard_plan_is_proposed_then_kept_only_as_confirmed(client: Client, world: World) -> None:
    day_zero = _today(world) - dt.timedelta(days=10)
    infused(world, planned=day_zero, actual=day_zero)
    login(client, world.center_coordinator)
    url = reverse("prevention-plan", kwargs={"patient_id": world.shared_patient.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert not ProphylaxisItem.objects.exists()  # proposed, not applied
    rows = page.context["rows"]
    vaccines = page.context["vaccines"]
    data: dict[str, str] = {"site": str(world.center.pk)}
    for prefix, formset in (("prophylaxis", rows), ("vaccination", vaccines)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(formset.forms))
        data[f"{prefix}-INITIAL_FORMS"] = str(len(formset.forms))
        for n, form in enumerate(formset.forms):
            for name, value in form.initial.items():
                if isinstance(value, bool):
                    if value:
                        data[f"{prefix}-{n}-{name}"] = "on"
                else:
                    data[f"{prefix}-{n}-{name}"] = value.isoformat() if isinstance(value, dt.date) else str(value or "")
    data["prophylaxis-0-agent"] = "Valacyclovir 500 mg twice daily"  # edited before confirming
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    kept = {item.kind: item for item in ProphylaxisItem.objects.all()}
    assert set(kept) == {"antiviral", "pjp"}
    assert kept["antiviral"].agent == "Valacyclovir 500 mg twice daily"
    assert kept["pjp"].start_on == day_zero + dt.timedelta(days=30)
    assert VaccinationItem.objects.filter(live=False).count() == 5
    assert not VaccinationItem.objects.filter(live=True).exists()


def test_a_refused_stop_comes_back_open_with_the_field_named(client: Client, world: World) -> None:
    item = _stop_due(world, world.shared_patient)
    login(client, world.community_oncologist)
    url = reverse("prophylaxis-stop", kwargs={"prophylaxis_id": item.pk})
    too_early = (item.start_on - dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"site": world.practice.pk, "stopped_on": too_early})
    assert response.status_code == 400
    html = response.content.decode()
    assert "It cannot stop before it started." in html
    assert f'id="id_stop_{item.pk}_stopped_on"' in html
    item.refresh_from_db()
    assert item.stopped_on is None
    ok = client.post(url, {"site": world.practice.pk, "stopped_on": item.start_on.isoformat()})
    assert ok.status_code == 302
    item.refresh_from_db()
    assert item.stopped_on == item.start_on


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_stops_at_once_make_one_change(world: World) -> None:
    item = _stop_due(world, world.shared_patient)

    def stop_it() -> object:
        fresh = ProphylaxisItem.objects.select_related("patient").get(pk=item.pk)
        return prophylaxis_stop(
            actor=world.community_oncologist, item=fresh, site=world.practice, stopped_on=_today(world)
        )

    results = at_once(stop_it, stop_it)
    assert sum(isinstance(result, ValidationError) for result in results) == 1
    assert TimelineEntry.objects.filter(title__startswith="Prophylaxis stopped").count() == 1


def test_the_plan_page_proposes_the_treating_centers_own_defaults_and_says_whose(client: Client, world: World) -> None:
    day_zero = _today(world) - dt.timedelta(days=10)
    infused(world, planned=day_zero, actual=day_zero)
    login(client, world.community_oncologist)
    url = reverse("prevention-plan", kwargs={"patient_id": world.shared_patient.pk})
    consensus = client.get(url)
    assert "EBMT/JACIE/EHA 2022" in consensus.content.decode()
    ProphylaxisDefaults.objects.create(site=world.center, antiviral_agent="Valacyclovir 500 mg twice daily")
    own = client.get(url)
    assert f"by the own defaults of {world.center.name}, the treating center" in own.content.decode()
    assert own.context["rows"].forms[0].initial["agent"] == "Valacyclovir 500 mg twice daily"
