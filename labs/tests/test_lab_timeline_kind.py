"""Lab results on the shared timeline as their own kind ("lab"): written so, moved so by the
migration from the toxicity kind they were written with before, and shown so on the page, in the
API and in the digest."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carecoord.contributions import digest_recent_events
from carecoord.digest_sections import DigestScope
from carecoord.models import TimelineEntry
from carecoord.timeline import timeline_record
from labs.entry import read_pasted
from labs.models import LabResult
from labs.services import lab_results_record
from tests.helpers import World, api, grade_2_event, login

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("carecoord.migrations.0021_timelineentry_kind_lab")


def _record(world: World, text: str = "ANC 0.3\nHb 9.1") -> list[LabResult]:
    today = timezone.localdate(timezone=world.practice.zone)
    return lab_results_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        entries=read_pasted(text, taken_on=today, day_zero=None),
    ).created


def _lab_entry(world: World) -> TimelineEntry:
    return TimelineEntry.objects.get(patient=world.shared_patient, subject_type="labs.labresult")


def test_recording_results_writes_a_lab_entry_not_a_toxicity(world: World) -> None:
    created = _record(world)
    entry = _lab_entry(world)
    assert (entry.kind, entry.get_kind_display()) == (TimelineEntry.Kind.LAB, "Lab results")
    assert entry.subject_id == created[0].pk
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.TOXICITY).exists()


def test_the_migration_moves_the_entries_about_lab_results_and_only_them(world: World) -> None:
    _record(world)
    event = grade_2_event(world)  # a toxicity's entries stay toxicities
    old_lab = _lab_entry(world)
    TimelineEntry.objects.filter(pk=old_lab.pk).update(kind=TimelineEntry.Kind.TOXICITY)  # as written before
    toxicities = set(
        TimelineEntry.objects.filter(subject_type="toxicity.toxicityevent", subject_id=event.pk).values_list(
            "pk", flat=True
        )
    )
    assert toxicities
    # A toxicity-kind entry without a subject (written before entries named one) is not a lab's.
    old_toxicity = timeline_record(patient=world.shared_patient, kind=TimelineEntry.Kind.TOXICITY, title="Old one")

    assert MIGRATION.entries_of_lab_results_to_lab(apps, None) == 1
    assert TimelineEntry.objects.get(pk=old_lab.pk).kind == TimelineEntry.Kind.LAB
    kept = TimelineEntry.objects.filter(pk__in=[*toxicities, old_toxicity.pk]).values_list("kind", flat=True)
    assert set(kept.all()) == {TimelineEntry.Kind.TOXICITY}
    assert MIGRATION.entries_of_lab_results_to_lab(apps, None) == 0  # run again: nothing left to move

    assert MIGRATION.entries_of_lab_results_to_toxicity(apps, None) == 1
    assert TimelineEntry.objects.get(pk=old_lab.pk).kind == TimelineEntry.Kind.TOXICITY
    assert set(kept.all()) == {TimelineEntry.Kind.TOXICITY}


def test_the_timeline_page_labels_the_entry_and_links_it_to_the_counts(client: Client, world: World) -> None:
    _record(world)
    timeline_record(patient=world.shared_patient, kind=TimelineEntry.Kind.LAB, title="Old lab entry")  # no subject
    login(client, world.community_oncologist)
    url = reverse("patient-timeline", kwargs={"patient_id": world.shared_patient.pk})
    events = client.get(url).content.decode().split('id="events"')[1]
    counts = f"{url}#counts"
    assert f'<span class="kind kind--lab">Lab results</span> <a href="{counts}">Lab results flagged: ANC' in events
    assert f'<span class="kind kind--lab">Lab results</span> <a href="{counts}">Old lab entry</a>' in events
    assert "kind--toxicity" not in events


def test_the_api_gives_the_kind_and_its_schema_lists_it(world: World) -> None:
    _record(world)
    client = api(world.center_coordinator)
    timeline = client.get(f"/api/patients/{world.shared_patient.pk}/timeline/")
    assert timeline.status_code == 200, timeline.content
    kinds = {entry["title"].split(":")[0]: entry["kind"] for entry in timeline.json()["results"]}
    assert kinds["Lab results flagged"] == "lab"
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "lab" in schema["components"]["schemas"]["TimelineKindEnum"]["enum"]


def test_the_digest_tells_the_lab_entry_of_the_week(world: World) -> None:
    _record(world, "PLT 15")
    zone = world.practice.zone
    scope = DigestScope(
        user=world.community_coordinator,
        patient_ids=[world.shared_patient.pk],
        site_ids={world.practice.pk},
        today=timezone.localdate(timezone=zone),
        zone=zone,
        now=timezone.now(),
    )
    lines = [line for _patient, line in digest_recent_events(scope).recent]
    today = DigestScope.day_text(timezone.localdate(timezone=zone))
    assert f"{today}: Lab results flagged: Platelets (1 recorded)" in lines
