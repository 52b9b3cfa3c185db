"""Every read of patient data is on the audit trail: one entry per patient per answered request.

Pages and API routes, lists included, declare the patients their answer shows
(`audit.reads`); the entries are written once the request has been answered 2xx,
all in one INSERT. The walk reads the URL configuration, so a new route that shows patient
data joins it; the stored weekly digest is checked against what its reader sees today.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from audit.reads import record_reads
from carecoord.access.acting import first_acting_site_ids
from carecoord.access.grants import sync_user_access
from carecoord.access.scope import capabilities_by_site
from carecoord.models import CareTeamLink, DigestDelivery, Patient, SiteMembership, TimelineEntry, User
from carecoord.request_context import Read, RequestContext, request_context
from carecoord.roles import Role
from carecoord.services.care_teams import care_team_end_site, care_team_name_point_person
from carecoord.services.memberships import membership_start
from carecoord.zones import UTC
from tests import test_role_matrix
from tests.factories import member, patient_at
from tests.helpers import World, login
from tests.route_rules import CAPABILITY_NEEDS, ROUTE_RULES, ROUTES, url_of
from workspace.digests.services import digest_deliver

pytestmark = pytest.mark.django_db

samples = test_role_matrix.samples
READS = [AuditEntry.Action.VIEW, AuditEntry.Action.DOWNLOAD]
# Lists anyone signed in may ask for, answered with the patients in the person's scope.
PATIENT_LISTS = {
    "dashboard",
    "my-digest",
    "my-work",
    "referral-list",
    "alert-list",
    "my-handoffs",
    "api:patient-list",
    "api:referral-list",
    "api:toxicity-event-list",
    "api:handoff-list",
    "api:milestone-list",
    "api:document-list",
    "api:alert-list",
    "api:care-team-link-list",
    "api:point-person-list",
}
# Routes about one patient's data, by what a GET needs.
PATIENT_ROUTES = {name for name, rule in ROUTE_RULES.items() if rule.read in CAPABILITY_NEEDS}
INSERT_AUDIT = 'INSERT INTO "audit_auditentry"'
# A read of the grants of its own (not the scope's subquery, aliased "U0").
GRANTS_READ = 'FROM "carecoord_patientgroupobjectpermission" WHERE'


def reads_after(pk: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=READS, pk__gt=pk).order_by("pk"))


def last_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def something_to_report(patient: Patient) -> None:
    TimelineEntry.objects.create(patient=patient, kind=TimelineEntry.Kind.COMMENT, title="Seen at clinic")


def deliver_digest(user: User) -> DigestDelivery:
    now = timezone.now()
    assert digest_deliver(user=user, week_start=now.date() - dt.timedelta(days=now.weekday()), zone=UTC, now=now)
    return DigestDelivery.objects.get(recipient=user)


def _get(client: Client, name: str, samples: dict[str, Any]) -> Any:
    rule = ROUTE_RULES[name]
    url = url_of(ROUTES[name], rule, samples)
    return client.get(url + (f"?{rule.query.format(**samples)}" if rule.query else ""))


def test_the_walk_covers_the_patient_lists_and_routes() -> None:
    assert ROUTES.keys() >= PATIENT_LISTS
    assert {"patient-detail", "handoff-edit", "referral-detail", "api:referral-detail"} <= PATIENT_ROUTES


def test_every_get_showing_patient_data_records_one_read_per_patient(
    client: Client, world: World, samples: dict[str, Any]
) -> None:
    """A member of the care team walks every route: each answer is on the trail, once per patient."""
    reader = world.center_coordinator
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.center)
    care_team_name_point_person(actor=reader, link=link, user=reader, rank="backup")
    something_to_report(world.shared_patient)
    deliver_digest(reader)
    login(client, reader)
    failures = []
    answered = set()
    for name in sorted(PATIENT_ROUTES | PATIENT_LISTS):
        before = last_pk()
        response = _get(client, name, samples)
        entries = reads_after(before)
        if not 200 <= response.status_code < 300:
            # A route without a GET (405), or one whose GET sends elsewhere, shows nothing.
            if name in PATIENT_LISTS or response.status_code not in {302, 405}:
                failures.append(f"GET {name}: {response.status_code}")
            if entries:
                failures.append(f"GET {name} answered {response.status_code} but recorded {len(entries)} reads")
            continue
        answered.add(name)
        per_patient = Counter(entry.patient_id for entry in entries)
        if per_patient[world.shared_patient.pk] < 1:
            failures.append(f"GET {name}: no read of the shared patient")
        if any(count != 1 for count in per_patient.values()):
            failures.append(f"GET {name}: more than one entry for a patient: {per_patient}")
        for entry in entries:
            if (entry.actor_id, entry.site_id, entry.actor_email) != (reader.pk, world.center.pk, reader.email):
                failures.append(f"GET {name}: entry {entry.what!r} not attributed to the reader at the center")
    assert not failures, "\n".join(failures)
    # Enough of the walk answered for it to mean something: every list, and the object pages.
    assert PATIENT_LISTS | {"patient-detail", "patient-edit", "handoff-edit", "referral-detail"} <= answered


def test_a_refused_get_records_no_read(client: Client, world: World, samples: dict[str, Any]) -> None:
    login(client, world.outsider)
    before = last_pk()
    for name in sorted(PATIENT_ROUTES):
        status = _get(client, name, samples).status_code
        assert status in {404, 405}, f"GET {name}: {status}"
    assert reads_after(before) == []


def test_a_list_records_only_the_patients_it_shows(client: Client, world: World, samples: dict[str, Any]) -> None:
    login(client, world.outsider)
    for name in sorted(PATIENT_LISTS):
        before = last_pk()
        assert _get(client, name, samples).status_code == 200, name
        assert {e.patient_id for e in reads_after(before)} <= {world.foreign_patient.pk}, name


def test_a_read_for_a_role_that_may_not_record_care_is_refused_and_unrecorded(
    client: Client, world: World, samples: dict[str, Any]
) -> None:
    # The read-only role sees the patient but may not open the forms that record care: 403.
    login(client, member(world.center, Role.READ_ONLY, email="reader@lakeside.test"))
    before = last_pk()
    for name in ("handoff-edit", "handoff-start", "toxicity-record", "patient-edit"):
        assert _get(client, name, samples).status_code == 403, name
    assert reads_after(before) == []


def test_a_write_answered_with_patient_data_records_no_read(world: World) -> None:
    client = login(APIClient(), world.center_coordinator)
    before = last_pk()
    response = client.post(
        f"/api/patients/{world.shared_patient.pk}/comments/",
        {"body": "Call me back", "site": world.center.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert reads_after(before) == []
    assert AuditEntry.objects.filter(pk__gt=before, action=AuditEntry.Action.CREATE).exists()


def _list_with_auditing(client: Client, url: str) -> tuple[int, int, list[AuditEntry]]:
    """Queries run, audit INSERTs among them, and the reads recorded for one GET of `url`."""
    before = last_pk()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    inserts = [q for q in queries.captured_queries if q["sql"].startswith(INSERT_AUDIT)]
    return len(queries.captured_queries), len(inserts), reads_after(before)


@pytest.mark.parametrize("url", ["/api/patients/", "/"], ids=["api", "page"])
def test_the_patient_list_records_every_row_in_one_insert_whatever_the_rows(world: World, url: str) -> None:
    client = login(APIClient(), world.center_coordinator)
    for _ in range(4):
        patient_at(world.center, world.center_coordinator)
    queries_5, inserts, entries = _list_with_auditing(client, url)
    assert (inserts, len(entries)) == (1, 5)
    assert {e.what for e in entries} == {"listed patient"}
    assert {e.site_id for e in entries} == {world.center.pk}
    for _ in range(45):
        patient_at(world.center, world.center_coordinator)
    queries_50, inserts, entries = _list_with_auditing(client, url)
    assert (inserts, len(entries)) == (1, 50)
    assert len({e.patient_id for e in entries}) == 50
    assert queries_50 == queries_5


def test_a_list_that_reads_no_capabilities_writes_its_reads_without_reading_the_grants(world: World) -> None:
    """The INSERT finds each entry's acting site itself: a list that does not show what the
    reader may do (here the care-team links) costs no query of the grants for its audit."""
    client = login(APIClient(), world.center_coordinator)
    counts = []
    for more in (51, 45):  # more than a page each time: a single page is not counted (one query fewer)
        for _ in range(more):
            patient_at(world.center, world.center_coordinator)
        before = last_pk()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/care-team-links/").status_code == 200
        entries = reads_after(before)
        assert len(entries) == len({e.patient_id for e in entries}) >= 45  # a page of 50 links
        assert {e.site_id for e in entries} == {world.center.pk}
        grants = [q for q in queries.captured_queries if GRANTS_READ in q["sql"]]
        assert grants == []
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_a_read_is_written_with_every_field_of_an_entry(world: World) -> None:
    reader = world.center_coordinator
    client = login(APIClient(), reader)
    before, asked = last_pk(), timezone.now()
    assert client.get(f"/api/patients/{world.shared_patient.pk}/").status_code == 200
    (entry,) = reads_after(before)
    assert (entry.action, entry.actor_id, entry.actor_email, entry.site_id, entry.patient_id) == (
        AuditEntry.Action.VIEW,
        reader.pk,
        reader.email,
        world.center.pk,
        world.shared_patient.pk,
    )
    assert (entry.object_type, entry.object_id, entry.what) == (
        "carecoord.patient",
        str(entry.patient_id),
        "viewed patient",
    )
    assert (entry.ip_address, entry.changes) == ("127.0.0.1", {})
    assert asked <= entry.at <= timezone.now()


def test_a_read_by_someone_on_none_of_the_patients_sites_is_written_without_a_site(world: World) -> None:
    # A stored digest still names a patient whose care the reader's site has left, for one.
    context = RequestContext(RequestFactory().get("/"))
    context.request.user = world.outsider
    read = Read(action=AuditEntry.Action.VIEW, what="viewed weekly digest", object_type="x.y", object_id="1")
    assert record_reads(context, {world.shared_patient.pk: read, world.foreign_patient.pk: read}) == 2
    entries = AuditEntry.objects.filter(actor=world.outsider).order_by("patient_id")
    assert sorted((e.patient_id, e.site_id) for e in entries) == sorted(
        [(world.shared_patient.pk, None), (world.foreign_patient.pk, world.unrelated_practice.pk)]
    )


@pytest.mark.parametrize("grants_read", [False, True], ids=["read by the INSERT", "read before"])
@pytest.mark.parametrize("practice_first", [True, False], ids=["practice first", "center first"])
def test_each_read_is_written_for_the_first_site_by_name_the_reader_acts_for(
    world: World, practice_first: bool, grants_read: bool
) -> None:
    """Each entry's site follows the rule of `first_acting_site_ids`, whichever of the reader's
    two sites on the care team comes first by name: read by the INSERT itself, or, when the
    request already read the reader's grants on every patient (a list that shows what its reader
    may do), given to it, the INSERT then the only query and reading no grant."""
    world.practice.name = "Aaa practice" if practice_first else "Zzz practice"
    world.practice.save(update_fields=["name"])
    both = member(world.center)
    membership_start(user=both, site=world.practice, role=Role.COORDINATOR, starts_on=dt.date(2020, 1, 1))
    center_only = patient_at(world.center, world.center_coordinator)
    patients = [world.shared_patient.pk, center_only.pk, world.foreign_patient.pk]
    expected = first_acting_site_ids(both, patients)
    request = RequestFactory().get("/")
    request.user = both
    read = Read(action=AuditEntry.Action.VIEW, what="listed patient", object_type="x.y", object_id="1")
    with request_context(request) as context, CaptureQueriesContext(connection) as queries:
        if grants_read:
            capabilities_by_site(both, patients)
        assert record_reads(context, dict.fromkeys(patients, read)) == 3
    statements = [q["sql"] for q in queries.captured_queries]
    (insert,) = [sql for sql in statements if sql.startswith(INSERT_AUDIT)]
    assert ("carecoord_patientgroupobjectpermission" in insert) is not grants_read
    if grants_read:
        assert len([sql for sql in statements if GRANTS_READ in sql]) == 1  # the list's own read
    written = dict(AuditEntry.objects.filter(actor=both).values_list("patient_id", "site_id"))
    assert written == {patient: expected.get(patient) for patient in patients}
    first = world.practice if practice_first else world.center
    assert written == {
        world.shared_patient.pk: first.pk,
        center_only.pk: world.center.pk,
        world.foreign_patient.pk: None,
    }


def test_a_list_that_read_its_readers_grants_gives_the_insert_their_sites(world: World) -> None:
    """The API's patients show what their reader may do, so the request reads the reader's
    grants on the page's patients: the audit's INSERT is then given each entry's site, and the
    entries name the same sites as the INSERT would have found."""
    client = login(APIClient(), world.center_coordinator)
    for _ in range(3):
        patient_at(world.center, world.center_coordinator)
    before = last_pk()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/patients/").status_code == 200
    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(INSERT_AUDIT)]
    assert "carecoord_patientgroupobjectpermission" not in insert
    entries = reads_after(before)
    assert len(entries) >= 4
    read = [e.patient_id for e in entries if e.patient_id is not None]
    assert len(read) == len(entries)
    assert {e.patient_id: e.site_id for e in entries} == first_acting_site_ids(world.center_coordinator, read)


# --- the stored weekly digest ------------------------------------------------------------------


def _digest_of_two(world: World) -> tuple[User, Patient, Patient]:
    """The practice's oncologist's digest about the shared patient and one more, both reporting."""
    reader = world.community_oncologist
    other = patient_at(world.practice, world.community_coordinator, shared_with=world.center, family_name="Otherone")
    for patient in (world.shared_patient, other):
        link = CareTeamLink.objects.get(patient=patient, site=world.practice)
        care_team_name_point_person(actor=world.community_coordinator, link=link, user=reader, rank="primary")
        something_to_report(patient)
    deliver_digest(reader)
    return reader, world.shared_patient, other


def mrn_at_practice(world: World, patient: Patient) -> str:
    return f"MRN {patient.identifiers.get(site=world.practice).mrn}"


def test_the_digest_page_shows_the_digest_and_records_a_read_per_patient(client: Client, world: World) -> None:
    reader, shared, other = _digest_of_two(world)
    before = last_pk()
    html = login(client, reader).get(reverse("my-digest")).content.decode()
    assert mrn_at_practice(world, shared) in html and mrn_at_practice(world, other) in html
    entries = reads_after(before)
    assert sorted(str(e.patient_id) for e in entries) == sorted([str(shared.pk), str(other.pk)])
    assert {(e.what, e.object_type) for e in entries} == {("viewed weekly digest", "carecoord.digestdelivery")}


def test_the_digest_preview_records_a_read_per_patient_before_any_digest_is_sent(client: Client, world: World) -> None:
    reader = world.community_oncologist
    link = CareTeamLink.objects.get(patient=world.shared_patient, site=world.practice)
    care_team_name_point_person(actor=world.community_coordinator, link=link, user=reader, rank="primary")
    something_to_report(world.shared_patient)
    before = last_pk()
    html = login(client, reader).get(reverse("my-digest")).content.decode()
    assert mrn_at_practice(world, world.shared_patient) in html
    assert not DigestDelivery.objects.exists()
    entries = reads_after(before)
    assert [(e.patient_id, e.what, e.object_type) for e in entries] == [
        (world.shared_patient.pk, "viewed weekly digest preview", "carecoord.user")
    ]


def test_a_patient_whose_care_the_readers_site_left_is_no_longer_on_the_digest_page(
    client: Client, world: World
) -> None:
    reader, shared, other = _digest_of_two(world)
    link = CareTeamLink.objects.get(patient=shared, site=world.practice)
    care_team_end_site(actor=world.community_coordinator, link=link)
    before = last_pk()
    html = login(client, reader).get(reverse("my-digest")).content.decode()
    assert mrn_at_practice(world, shared) not in html
    assert mrn_at_practice(world, other) in html
    assert "no longer share are left out" in html
    assert [e.patient_id for e in reads_after(before)] == [other.pk]
    # What was sent stays as it was sent; only the page is re-checked.
    stored = DigestDelivery.objects.get(recipient=reader).content["patients"]
    assert str(shared.pk) in {section["patient_id"] for section in stored}


def test_a_reader_whose_membership_ended_sees_no_patient_of_the_digest(client: Client, world: World) -> None:
    reader, shared, other = _digest_of_two(world)
    SiteMembership.objects.filter(user=reader).update(ends_on=world.practice.today() - dt.timedelta(days=1))
    sync_user_access(reader)
    before = last_pk()
    html = login(client, reader).get(reverse("my-digest")).content.decode()
    for patient in (shared, other):
        assert mrn_at_practice(world, patient) not in html
        assert patient.family_name not in html
    assert "Nothing to report" not in html
    assert reads_after(before) == []


def test_a_stored_digest_whose_sections_name_no_patient_shows_none_of_them(client: Client, world: World) -> None:
    """Digests stored before sections named their patient cannot be checked: left out."""
    reader = world.community_oncologist
    DigestDelivery.objects.create(
        recipient=reader,
        week_start=dt.date(2026, 11, 23),
        built_at=timezone.now(),
        content={
            "week_start": "2026-11-23",
            "is_empty": False,
            "patients": [{"reference": "MRN OLD-1", "site": "Riverbend", "phase": "Referral", "recent": ["x"]}],
        },
    )
    html = login(client, reader).get(reverse("my-digest")).content.decode()
    assert "MRN OLD-1" not in html
    assert "left out" in html
