"""Recording lab results: per-site access, flags told once to every point person through the
outbox, the audit trail, racing requests, and the ICAHT shown from the counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.models import OutgoingEmail, TimelineEntry
from carecoord.roles import Role
from labs.counts import icaht_of
from labs.entry import Entry, read_pasted
from labs.models import LabFlagNotice, LabResult
from labs.services import Recorded, lab_results_record
from tests.factories import member
from tests.helpers import World, at_once, name_point_persons


def _today(world: World) -> dt.date:
    return timezone.localdate(timezone=world.center.zone)


def _paste(world: World, text: str, on: dt.date | None = None) -> list[Entry]:
    return read_pasted(text, taken_on=on or _today(world), day_zero=None)


@pytest.mark.django_db
def test_a_flagged_value_tells_every_point_person_but_the_recorder_once(world: World) -> None:
    people = name_point_persons(world)
    recorded = lab_results_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        entries=_paste(world, "ANC 0.3\nPLT 150\nIgG 3.2\nCRP 12"),
    )
    assert [(r.kind, r.value, r.flagged) for r in recorded.created] == [
        ("anc", 300, True),
        ("platelets", 150_000, False),
        ("igg", 320, True),
        ("crp", 12, False),
    ]
    # Four point persons, two flagged values: a notice each; one email each but to the recorder.
    told = {(n.recipient.email, n.result.kind) for n in recorded.notices}
    assert len(told) == 8
    emails = OutgoingEmail.objects.filter(template="lab-flag")
    assert sorted(e.to_address for e in emails) == sorted(
        [people["center_nurse"].email, world.center_coordinator.email, world.community_coordinator.email]
    )
    email = emails.first()
    assert email is not None and email.urgent
    assert "ANC below 500 cells/µL" in email.body_text and "IgG below 400 mg/dL" in email.body_text
    assert "<li>IgG below 400 mg/dL</li>" in email.body_html and "#counts" in email.body_html
    assert email.subject.startswith("carecoord: flagged lab results (")
    # The minimum: initials or MRN, never the name, the values nor a note.
    assert world.shared_patient.family_name not in email.body_text + email.subject + email.body_html
    assert "300" not in email.body_text + email.body_html
    assert "#counts" in email.body_text
    entry = TimelineEntry.objects.get(patient=world.shared_patient, subject_type="labs.labresult")
    assert entry.title.startswith("Lab results flagged: ANC, IgG") and entry.kind == TimelineEntry.Kind.LAB


@pytest.mark.django_db
def test_the_same_value_again_is_not_recorded_nor_told_twice(world: World) -> None:
    name_point_persons(world)

    def record() -> Recorded:
        return lab_results_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            entries=_paste(world, "ANC 0.3"),
        )

    first = record()
    again = record()
    assert again.created == [] and again.repeated == 1
    # Which result it was, so the caller shows it without looking it up again.
    assert again.already == [first.created[0].pk]
    assert LabResult.objects.count() == 1
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3


@pytest.mark.django_db
def test_an_entry_repeating_old_values_and_itself_names_each_old_one_once(world: World) -> None:
    def record(text: str) -> Recorded:
        return lab_results_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            entries=_paste(world, text),
        )

    old = record("Hb 9.1\nANC 1.5").created
    mixed = record("ANC 1.5\nPLT 90\nANC 1.5\nPLT 90\nHb 9.1")
    assert [r.kind for r in mixed.created] == ["platelets"]
    assert mixed.repeated == 4
    assert mixed.already == [old[1].pk, old[0].pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_entries_at_once_record_and_tell_once(world: World) -> None:
    name_point_persons(world)
    entries = _paste(world, "ANC 0.3\nHb 6.5")

    def record() -> object:
        return lab_results_record(
            actor=world.community_oncologist, patient=world.shared_patient, site=world.practice, entries=entries
        )

    first, second = at_once(record, record)
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert LabResult.objects.count() == 2
    assert LabFlagNotice.objects.count() == 2 * 4
    assert OutgoingEmail.objects.filter(template="lab-flag").count() == 3


@pytest.mark.django_db
def test_a_site_nobody_there_works_at_is_a_field_error_and_a_read_only_role_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        lab_results_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.center,
            entries=_paste(world, "ANC 0.3"),
        )
    assert "site" in caught.value.error_dict
    reader = member(world.practice, Role.READ_ONLY, email="reader@practice.test")
    with pytest.raises(PermissionDenied):
        lab_results_record(
            actor=reader, patient=world.shared_patient, site=world.practice, entries=_paste(world, "ANC 0.3")
        )
    assert not LabResult.objects.exists()


@pytest.mark.django_db
def test_a_date_ahead_is_refused_naming_the_line(world: World) -> None:
    ahead = _today(world) + dt.timedelta(days=5)
    with pytest.raises(ValidationError) as caught:
        lab_results_record(
            actor=world.community_oncologist,
            patient=world.shared_patient,
            site=world.practice,
            entries=_paste(world, f"ANC 0.3\nHb 9 {ahead.isoformat()}"),
        )
    assert caught.value.message_dict["taken_on"] == ["Line 2: This cannot be in the future."]


@pytest.mark.django_db
def test_results_and_notices_are_in_the_audit_trail(world: World) -> None:
    name_point_persons(world)
    recorded = lab_results_record(
        actor=world.community_oncologist,
        patient=world.shared_patient,
        site=world.practice,
        entries=_paste(world, "Hb 6.5"),
    )
    result = recorded.created[0]
    created = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, patient=world.shared_patient)
    row = created.get(object_type="labs.labresult", object_id=str(result.pk))
    assert row.what  # who recorded it is the request's actor: see test_labs_api
    assert row.changes["value"][1] == 6.5
    assert created.filter(object_type="labs.labflagnotice").count() == 4


def test_icaht_is_graded_from_anc_after_day_0_early_and_late() -> None:
    day0 = dt.date(2027, 1, 1)

    def anc(day: int, value: float) -> LabResult:
        return LabResult(kind="anc", value=value, taken_on=day0 + dt.timedelta(days=day))

    results = [anc(-3, 100), anc(0, 2000), anc(3, 300), anc(17, 800), anc(45, 900), anc(60, 950), anc(75, 1600)]
    assert icaht_of(results, day0, day0 + dt.timedelta(days=20)).early == 3  # days 3-16
    graded = icaht_of(results, day0, day0 + dt.timedelta(days=90))
    assert (graded.early, graded.late, graded.current) == (3, 2, 2)
    assert icaht_of(results, None, day0).early is None
