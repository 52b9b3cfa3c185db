"""Every read of patient data writes audit entries (fifty for a page of an API list), and each
index of the table is one more entry written with every one of them: the table keeps only the
indexes a lookup uses."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import AuditEntry
from audit.selectors import audit_entries_filtered

pytestmark = pytest.mark.django_db

# The lookups each serves: the primary key; the newest first (`at`); the entries written from
# a site (`site_id`, the site administrator's search); by patient and by the actor's email in
# any case, newest first (the audit search's filters).
KEPT = {
    "audit_auditentry_pkey",
    "audit_auditentry_at_09f867ec",
    "audit_auditentry_site_id_2dcdd362",
    "audit_patient_at",
    "audit_actor_email_upper_at",
}


def test_the_audit_table_has_only_the_indexes_its_lookups_use() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditentry'")
        indexes = {name for (name,) in cursor.fetchall()}
    # Neither the patient's nor the actor's own index: nothing looks entries up by those alone.
    assert indexes == KEPT


def test_the_search_by_person_reads_its_index_whatever_the_emails_case() -> None:
    entries = audit_entries_filtered(AuditEntry.objects.all(), email="Some.One@Example.TEST").order_by("-at", "-pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a table of millions: no reading it all
    plan = entries.explain()
    assert "audit_actor_email_upper_at" in plan, plan
