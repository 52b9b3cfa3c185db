"""Every read of patient data writes audit entries (fifty for a page of an API list), and each
index of the table is one more entry written with every one of them: the table keeps only the
indexes a lookup uses."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# The lookups each serves: the primary key; the newest first (`at`); the entries written from
# a site (`site_id`, the site administrator's search); by patient and by actor's email, newest
# first (the audit search's filters).
KEPT = {
    "audit_auditentry_pkey",
    "audit_auditentry_at_09f867ec",
    "audit_auditentry_site_id_2dcdd362",
    "audit_patient_at",
    "audit_actor_email_at",
}


def test_the_audit_table_has_only_the_indexes_its_lookups_use() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditentry'")
        indexes = {name for (name,) in cursor.fetchall()}
    # Neither the patient's nor the actor's own index: nothing looks entries up by those alone.
    assert indexes == KEPT
