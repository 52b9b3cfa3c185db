"""Rows written in SQL from the copied ones, as the app derives them: faster than COPY of
rows that follow from others.

- the grants: `carecoord.access.grants.grant_site_on_patient`'s rows (each role group of the
  site, each capability of the role) for every open care-team link, none for ended links;
- the outbox rows of the alerts that have one (an alert to anyone but its recorder), sent a
  minute after the alert, with the id `bench.dataset.stories` gave the alert's `email_id`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from psycopg import sql

from bench.dataset.people import Network, grant_rows
from toxicity.models import ToxicityKind


def _values(rows: Sequence[tuple[object, ...]]) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(value) for value in row)) for row in rows
    )


def write_grants(network: Network, *, first_link_id: int) -> int:
    """The grants of the open links from `first_link_id` on, in the links' order; returns how many."""
    rows = [
        (site.id, group_id, permission_id)
        for site in network.sites
        for group_id, permission_id in grant_rows(network, site)
    ]
    query = sql.SQL(
        """
        INSERT INTO carecoord_patientgroupobjectpermission (content_object_id, group_id, permission_id)
        SELECT link.patient_id, grant_.group_id, grant_.permission_id
        FROM carecoord_careteamlink link
        JOIN (VALUES {}) AS grant_ (site_id, group_id, permission_id) ON grant_.site_id = link.site_id
        WHERE link.ended_at IS NULL AND link.id >= {}
        ORDER BY link.id, grant_.group_id, grant_.permission_id
        """
    ).format(_values(rows), sql.Literal(first_link_id))
    with connection.cursor() as cursor:
        cursor.cursor.execute(query)
        return cursor.cursor.rowcount


def write_alert_emails(*, first_alert_id: int) -> int:
    """The outbox row of each alert from `first_alert_id` on that names one; returns how many."""
    labels = [(kind.value, kind.label) for kind in ToxicityKind]
    query = sql.SQL(
        """
        INSERT INTO carecoord_outgoingemail (
            id, to_address, template, subject, body_text, body_html, dedupe_key, status, attempts,
            last_error, created_at, claimed_at, sent_at, recipient_id, claimed_by, urgent
        )
        SELECT alert.email_id, person.email, 'toxicity-alert', subject.text,
               subject.text || E'\\nYou are alerted as a point person at ' || site.name || '.',
               '<p>' || subject.text || '</p>', 'toxicity-alert:' || alert.id, 'sent', 1,
               '', alert.created_at, alert.created_at + interval '1 minute',
               alert.created_at + interval '2 minutes', alert.recipient_id, '', true
        FROM toxicity_alert alert
        JOIN carecoord_user person ON person.id = alert.recipient_id
        JOIN carecoord_site site ON site.id = alert.site_id
        JOIN toxicity_toxicityevent event ON event.id = alert.event_id
        JOIN (VALUES {}) AS kind (value, label) ON kind.value = event.kind
        CROSS JOIN LATERAL (
            SELECT 'carecoord alert: ' || kind.label || ' grade ' || alert.grade || ' (patient)' AS text
        ) AS subject
        WHERE alert.email_id IS NOT NULL AND alert.id >= {}
        ORDER BY alert.email_id
        """
    ).format(_values(labels), sql.Literal(first_alert_id))
    with connection.cursor() as cursor:
        cursor.cursor.execute(query)
        count = cursor.cursor.rowcount
        cursor.cursor.execute(
            "SELECT setval(pg_get_serial_sequence('carecoord_outgoingemail', 'id'), "
            "(SELECT max(id) FROM carecoord_outgoingemail))"
        )
    return count
