"""The reads that may be a few seconds behind go to the reports database (a streaming replica on
a real network; here a second connection to the test database, `DATABASES["reports"]`): the
digest build and the audit trail read there, their writes and every page stay on the primary."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from carecoord.models import DigestDelivery, TimelineEntry
from carecoord.roles import Role
from carecoord.zones import zone_of
from tests.factories import member
from tests.helpers import World, login, name_point_persons
from workspace.digests.schedule import week_start_of
from workspace.digests.services import digest_deliver

# Committed data: the second connection sees only what is committed, as a replica would.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "reports"])


def tables(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


@override_settings(REPORTS_DATABASE="reports")
def test_the_digest_is_built_from_the_reports_database_and_stored_on_the_primary(world: World) -> None:
    name_point_persons(world)
    reader = world.community_oncologist
    TimelineEntry.objects.create(patient=world.shared_patient, kind=TimelineEntry.Kind.COMMENT, title="Seen at clinic")
    now = timezone.now()
    zone = zone_of(reader)
    with (
        CaptureQueriesContext(connections["reports"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        assert digest_deliver(user=reader, week_start=week_start_of(now, zone), zone=zone, now=now)
    assert '"carecoord_timelineentry"' in tables(replica)  # the sections' reads
    assert '"carecoord_pointperson"' in tables(replica)  # the headings'
    assert "INSERT" not in tables(replica) and "UPDATE" not in tables(replica)
    assert '"carecoord_timelineentry"' not in tables(primary)
    assert 'INSERT INTO "carecoord_digestdelivery"' in tables(primary)
    delivery = DigestDelivery.objects.get(recipient=reader)
    assert "Seen at clinic" in str(delivery.content)


@override_settings(REPORTS_DATABASE="reports")
def test_the_audit_trail_is_listed_and_exported_from_the_reports_database(world: World) -> None:
    administrator = member(world.center, Role.COORDINATOR, email="admin@center.test", is_staff=True)
    client = Client()
    login(client, administrator)
    assert AuditEntry.objects.exists()
    with (
        CaptureQueriesContext(connections["reports"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        listing = client.get("/audit/")
        export = client.get("/audit/export/")
        exported = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert listing.status_code == 200 and export.status_code == 200
    assert '"audit_auditentry"' in tables(replica)
    assert "INSERT" not in tables(replica)
    assert not any(
        q["sql"].startswith("SELECT") and 'FROM "audit_auditentry"' in q["sql"] for q in primary.captured_queries
    )
    assert 'INSERT INTO "audit_auditentry"' in tables(primary)  # the export itself, recorded
    assert exported.count("\n") > 1


def test_without_a_replica_everything_reads_from_the_primary(world: World) -> None:
    name_point_persons(world)
    reader = world.community_oncologist
    now = timezone.now()
    zone = zone_of(reader)
    with CaptureQueriesContext(connections["reports"]) as replica:
        assert digest_deliver(user=reader, week_start=week_start_of(now, zone), zone=zone, now=now)
    assert len(replica) == 0
