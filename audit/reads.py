"""Reads of patient data, declared while a request is served (`carecoord.reads`), written once
it is answered: `AuditContextMiddleware` writes the declared reads when a GET or HEAD has been
answered 2xx, one entry per patient, all in one INSERT, so a list page costs the same two
queries (the acting sites and the INSERT) whatever its number of rows. A refused request (403,
404), an error or a redirect writes none, nor does a write: its own entries record the change.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponseBase

from audit.models import AuditEntry
from carecoord.request_context import Read, RequestContext, acting_site_ids, actor_of_request

READ_METHODS = frozenset({"GET", "HEAD"})


def write_reads(context: RequestContext, response: HttpResponseBase) -> list[AuditEntry]:
    """The reads declared while `response` was prepared, written if it answered a read with 2xx."""
    reads, context.reads = context.reads, {}
    if not reads or context.request.method not in READ_METHODS or not 200 <= response.status_code < 300:
        return []
    return record_reads(context, reads)


def record_reads(context: RequestContext, reads: dict[uuid.UUID, Read]) -> list[AuditEntry]:
    """One entry per patient read, in one INSERT (and one query for the acting sites)."""
    actor = actor_of_request(context.request)
    user = actor.user
    sites = acting_site_ids(user, list(reads))
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            action=read.action,
            actor=user,
            actor_email=user.email if user is not None else "",
            site_id=sites.get(patient_id),
            patient_id=patient_id,
            object_type=read.object_type,
            object_id=read.object_id,
            what=read.what,
            ip_address=actor.ip_address,
        )
        for patient_id, read in reads.items()
    )
